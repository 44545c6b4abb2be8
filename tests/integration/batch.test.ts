import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { addArgs, cli, ROOT, useSupervisor, waitFor, waitRunning } from "../helpers/cli.js";
import { groupInfo } from "../helpers/rpc.js";

// Issue 28: many workers at once on a real supervisord. The calls run in lanes (src/core/lanes.ts);
// what must hold whatever the lanes: a hand-written program is never touched by --all, each worker
// gets its own outcome, and one worker that fails leaves the others done and is named (exit 1).

const sv = useSupervisor();
const BROKEN_APP = path.join(ROOT, "tests/fixtures/broken-app");
const NAMES = ["ba1", "ba2", "ba3", "ba4"];

/** Every worker's running pid (one process each), straight from supervisord. */
const pidsOf = async (names: string[]) =>
  Object.fromEntries(await Promise.all(names.map(async (n) => [n, (await waitRunning(sv, n, 1))[0]])));

describe("batches on a real supervisord", () => {
  it("--all never touches a hand-written program: its pid is the same after restart, pause and resume --all", async () => {
    for (const n of NAMES) expect((await cli([...addArgs(n), "--json"], sv.env)).code).toBe(0);
    const hand = path.join(sv.confDir, "handmade.conf");
    fs.writeFileSync(hand, "[program:handmade]\ncommand=/bin/sleep 1000\n");
    try {
      await execa("supervisorctl", ["-c", sv.config, "update", "handmade"]);
      const handPid = await waitFor(
        async () => (await groupInfo(sv.dir, "handmade")).find((p) => p.statename === "RUNNING")?.pid,
        30,
        "handmade running",
      );
      const before = await pidsOf(NAMES);
      const restart = await cli(["worker", "restart", "--all", "--json"], sv.env);
      expect(restart.code, restart.stdout).toBe(0);
      expect(restart.json.workers).toEqual(NAMES);
      expect(restart.json.outcomes).toEqual(NAMES.map((worker) => ({ worker, outcome: "restarted" })));
      const after = await pidsOf(NAMES);
      for (const n of NAMES) expect(after[n]).not.toBe(before[n]);
      const pause = await cli(["worker", "pause", "--all", "--json"], sv.env);
      expect(pause.code, pause.stdout).toBe(0);
      expect(pause.json.outcomes.map((o: { outcome: string }) => o.outcome)).toEqual(NAMES.map(() => "paused"));
      const resume = await cli(["worker", "resume", "--all", "--json"], sv.env);
      expect(resume.code, resume.stdout).toBe(0);
      expect(resume.json.outcomes.map((o: { outcome: string }) => o.outcome)).toEqual(NAMES.map(() => "resumed"));
      const hp = await groupInfo(sv.dir, "handmade");
      expect(hp).toHaveLength(1);
      expect(hp[0]).toMatchObject({ statename: "RUNNING", pid: handPid });
    } finally {
      fs.rmSync(hand, { force: true });
      await execa("supervisorctl", ["-c", sv.config, "update", "handmade"]);
    }
  });

  it("restart of several where one cannot boot: the others are restarted, the failure is named, exit 1", async () => {
    expect((await cli([...addArgs("bad", ["--no-wait"], BROKEN_APP), "--json"], sv.env)).code).toBe(0);
    const before = await pidsOf(NAMES);
    const r = await cli(["worker", "restart", "ba1", "ba2", "bad", "ba3", "--json"], sv.env);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("start_failed");
    expect(r.json.error.message).toMatch(
      /1 of 4 worker\(s\) could not be restarted: done: ba1 restarted, ba2 restarted, ba3 restarted; not done: bad \(/u,
    );
    expect(r.json.error.details.outcomes).toEqual([
      { worker: "ba1", outcome: "restarted" },
      { worker: "ba2", outcome: "restarted" },
      { worker: "bad", outcome: "failed", detail: expect.stringMatching(/^bad:bad_00 (FATAL|BACKOFF|EXITED)/u) },
      { worker: "ba3", outcome: "restarted" },
    ]);
    const after = await pidsOf(NAMES);
    for (const n of ["ba1", "ba2", "ba3"]) expect(after[n]).not.toBe(before[n]);
    // Not named: left as it was.
    expect(after.ba4).toBe(before.ba4);
    expect((await cli(["worker", "rm", "bad", "--json"], sv.env)).code).toBe(0);
  });

  it("rm of several: one update for all of them; every file and group gone, nothing else touched", async () => {
    const keep = await pidsOf(["ba4"]);
    const r = await cli(["worker", "rm", "ba1", "ba2", "ba3", "--json"], sv.env);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json.workers.map((w: { name: string; changed: boolean }) => [w.name, w.changed])).toEqual([
      ["ba1", true],
      ["ba2", true],
      ["ba3", true],
    ]);
    for (const n of ["ba1", "ba2", "ba3"]) {
      expect(fs.existsSync(path.join(sv.confDir, `${n}.conf`))).toBe(false);
      expect(await groupInfo(sv.dir, n)).toEqual([]);
    }
    expect(await pidsOf(["ba4"])).toEqual(keep);
  });
});
