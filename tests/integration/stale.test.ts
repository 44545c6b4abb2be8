import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { addArgs, alive, cli, lsWorker, SAMPLE_APP, useSupervisor, waitFor, waitRunning } from "../helpers/cli.js";
import { groupInfo } from "../helpers/rpc.js";

// The deploy story of issue 26 on a real supervisord: `releases/1` and `releases/2` of an app, a
// `current` link switched between them, then `worker restart --stale --graceful` and `status --check`.

const sv = useSupervisor();

type Proc = { pid: number | null; cwd: string | null; stale: boolean | null };
const pidsOf = async (group: string) => (await groupInfo(sv.dir, group)).map((p) => p.pid);

describe("restart --stale after a release switch", () => {
  let base: string;
  let rel: (n: string) => string;
  let current: string;
  let handPid: number;

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(sv.dir, "app-"));
    rel = (n) => path.join(base, "releases", n);
    current = path.join(base, "current");
    for (const d of [rel("1"), rel("2"), path.join(base, "other")]) fs.cpSync(SAMPLE_APP, d, { recursive: true });
    fs.symlinkSync("releases/1", current);
    // web: two processes, each in the middle of a 2 s job when told to stop (as Laravel finishes the job in hand).
    const web = addArgs("web", ["--procs", "2", "--env", "VEXO_SAMPLE_STOP_DELAY=2", "--stopwaitsecs", "600"], current);
    for (const args of [web, addArgs("mail", [], current), addArgs("other", [], path.join(base, "other")), addArgs("idle", [], current)])
      expect((await cli([...args, "--json"], sv.env)).code).toBe(0);
    // A program vexo-sv did not write, on the same app: never restarted by vexo-sv unless named.
    fs.writeFileSync(path.join(sv.confDir, "hand.conf"), `[program:hand]\ncommand=/bin/sleep 100000\ndirectory=${current}\n`);
    await execa("supervisorctl", ["-c", sv.config, "update", "hand"]);
    handPid = (await waitRunning(sv, "hand", 1))[0] as number;
    await Promise.all([waitRunning(sv, "web", 2), waitRunning(sv, "mail", 1), waitRunning(sv, "other", 1)]);
    // Paused before the deploy: it runs nothing, so no stale code.
    expect((await cli(["worker", "pause", "idle", "--json"], sv.env)).code).toBe(0);
  }, 120_000);

  it("after the switch: ls says which workers are stale, restart --stale --graceful restarts exactly those and returns once the new code runs", async () => {
    const before = { web: await pidsOf("web"), mail: await pidsOf("mail"), other: await pidsOf("other") };
    for (const pid of [...before.web, ...before.mail]) expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe(rel("1"));
    expect((await lsWorker(sv, "web"))?.stale).toBe(false);

    // The deploy tool's switch (ln -sfn): a new link renamed over the old one.
    fs.symlinkSync("releases/2", `${current}.new`);
    fs.renameSync(`${current}.new`, current);

    const ls = await cli(["worker", "ls", "--json"], sv.env);
    const by = new Map<string, Record<string, any>>(ls.json.workers.map((w: { name: string }) => [w.name, w]));
    expect(["web", "mail", "other", "idle"].map((n) => [n, by.get(n)?.stale])).toEqual([
      ["web", true],
      ["mail", true],
      ["other", false],
      ["idle", null],
    ]);
    expect((by.get("web")?.processes as Proc[]).map((p) => [p.cwd, p.stale])).toEqual([
      [rel("1"), true],
      [rel("1"), true],
    ]);
    const check = await cli(["status", "--check"], sv.env);
    expect(check.code).toBe(3);
    expect(check.stdout).toMatch(/web: runs stale code/u);

    // The dry run names them and the one call, and changes nothing.
    const dry = await cli(["worker", "restart", "--stale", "--graceful", "--dry-run", "--json"], sv.env);
    expect(dry.code).toBe(0);
    expect(dry.json).toMatchObject({
      dryRun: true,
      workers: ["mail", "web"],
      supervisorctl: [["supervisorctl", "-c", sv.config, "signal", "TERM", "mail:*", "web:*"]],
    });
    expect(await pidsOf("web")).toEqual(before.web);

    const r = await cli(["worker", "restart", "--stale", "--graceful", "--json"], sv.env);
    expect(r.code, r.stdout).toBe(0);
    // Returned only once the old processes finished their job and the new ones run, past startsecs, in releases/2.
    expect([...before.web, ...before.mail].filter(alive)).toEqual([]);
    expect(r.json.workers).toEqual(["mail", "web"]);
    expect(r.json.stale.map((s: { worker: string; path: string }) => [s.worker, s.path])).toEqual([
      ["mail", rel("2")],
      ["web", rel("2")],
    ]);
    expect(r.json.outcomes.map((o: { worker: string; outcome: string }) => `${o.worker} ${o.outcome}`)).toEqual([
      "idle paused",
      "mail restarted",
      "other not-stale",
      "web restarted",
    ]);
    const now = r.json.processes as { fullName: string; state: string; pid: number }[];
    expect(now.map((p) => p.fullName)).toEqual(["mail:mail_00", "web:web_00", "web:web_01"]);
    for (const p of now) {
      expect(p.state).toBe("RUNNING");
      expect([...before.web, ...before.mail]).not.toContain(p.pid);
      expect(fs.readlinkSync(`/proc/${p.pid}/cwd`)).toBe(rel("2"));
    }
    // Nothing else was touched: the worker on another path, the hand-written program, the paused worker.
    expect(await pidsOf("other")).toEqual(before.other);
    expect(await pidsOf("hand")).toEqual([handPid]);
    expect((await lsWorker(sv, "idle"))?.state).toBe("paused");

    for (const n of ["web", "mail"]) expect((await lsWorker(sv, n))?.stale).toBe(false);
    expect((await cli(["status", "--check"], sv.env)).code).toBe(0);

    // Run again: nothing is stale, nothing is done, and it says so.
    const again = await cli(["worker", "restart", "--stale", "--graceful", "--json"], sv.env);
    expect([again.code, again.json.workers, again.json.supervisorctl]).toEqual([0, [], []]);
    const human = await cli(["worker", "restart", "--stale"], sv.env);
    expect([human.code, human.stderr]).toEqual([0, expect.stringContaining("no worker runs stale code; nothing to do")]);
    expect(await pidsOf("web")).toEqual(now.filter((p) => p.fullName.startsWith("web")).map((p) => p.pid));
  }, 180_000);

  it("a paused worker is left paused by restart --stale; resume starts it on the release current then", async () => {
    expect((await lsWorker(sv, "idle"))?.state).toBe("paused");
    const r = await cli(["worker", "restart", "idle", "--stale", "--json"], sv.env);
    expect(r.code).toBe(0);
    expect(r.json.workers).toEqual([]);
    expect(r.json.outcomes).toEqual([
      { worker: "idle", outcome: "paused", detail: "left paused: its next start runs the current release" },
    ]);
    expect((await groupInfo(sv.dir, "idle")).map((p) => p.statename)).toEqual(["STOPPED"]);
    expect((await cli(["worker", "resume", "idle", "--json"], sv.env)).code).toBe(0);
    const [pid] = await waitRunning(sv, "idle", 1);
    expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe(rel("2"));
    const w = await waitFor(async () => lsWorker(sv, "idle"), 10, "idle listed");
    expect([w.state, w.stale]).toEqual(["running", false]);
  });

  it("a hand-written program named with --stale is refused, and nothing is restarted", async () => {
    const web = await pidsOf("web");
    const r = await cli(["worker", "restart", "web", "hand", "--stale", "--json"], sv.env);
    expect(r.code).toBe(1);
    expect([r.json.error.code, r.json.error.details.names]).toEqual(["not_managed", ["hand"]]);
    expect(r.json.error.hint).toContain("vexo-sv worker restart hand");
    expect(await pidsOf("web")).toEqual(web);
    expect(await pidsOf("hand")).toEqual([handPid]);
  });
});
