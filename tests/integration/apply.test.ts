import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { apply, entry, loadedGroups, runningPids, workersFile } from "../helpers/apply.js";
import { addArgs, ALLOW_ROOT, BIN, BROKEN_APP, cli, SAMPLE_APP, snapshot, useSupervisor, vexoHasOpen, waitFor } from "../helpers/cli.js";

// `vexo-sv apply FILE` on real supervisords: it converges the host to the file, touching only
// what differs. Each describe has its own supervisord, and each test its own worker names.

const byName = (r: { json: Record<string, any> }) =>
  Object.fromEntries((r.json.workers as { name: string; action: string }[]).map((w) => [w.name, w.action]));
const pidsOf = (pids: Record<string, number>, group: string) =>
  Object.entries(pids)
    .filter(([k]) => k.startsWith(`${group}:`))
    .sort()
    .map(([, v]) => v);

describe("which command owns a program file (issue 25)", () => {
  const sv = useSupervisor();
  it("a worker added by hand and then listed in a workers file: apply takes the file over, its header says so, nothing restarts", async () => {
    expect((await cli([...addArgs("own-a"), "--json"], sv.env)).code).toBe(0);
    const file = path.join(sv.confDir, "own-a.conf");
    expect(fs.readFileSync(file, "utf8")).toMatch(/^; Written by `vexo-sv worker add`/mu);
    const before = await runningPids(sv);
    const r = await apply(sv, workersFile(sv, [entry("own-a")], "own.json"));
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toMatchObject({ changed: false, workers: [expect.objectContaining({ name: "own-a", action: "unchanged" })] });
    expect(fs.readFileSync(file, "utf8")).toMatch(/^; Written by `vexo-sv apply`: change this worker in the workers file/mu);
    expect((await runningPids(sv))["own-a:own-a_00"]).toBe(before["own-a:own-a_00"]);
    // The same spec through worker add again is unchanged too, and leaves apply's header alone.
    const again = await cli([...addArgs("own-a"), "--json"], sv.env);
    expect(again.json).toMatchObject({ action: "unchanged", changed: false });
    expect(fs.readFileSync(file, "utf8")).toMatch(/^; Written by `vexo-sv apply`/mu);
    expect((await cli(["worker", "rm", "own-a", "--json"], sv.env)).code).toBe(0);
  });
});

describe("apply converges and leaves the rest alone", () => {
  const sv = useSupervisor();

  it("creates every worker, then reports changed=false and restarts nothing, then replaces only what differs", async () => {
    const file = workersFile(sv, [entry("cv-a", { procs: 2 }), entry("cv-b", { queue: "high,default" })], "converge.json");
    const first = await apply(sv, file);
    expect(first.code, first.stdout).toBe(0);
    expect(first.json.changed).toBe(true);
    expect(byName(first)).toEqual({ "cv-a": "created", "cv-b": "created" });
    const pids = await runningPids(sv);
    expect(pidsOf(pids, "cv-a")).toHaveLength(2);
    expect(pidsOf(pids, "cv-b")).toHaveLength(1);

    const again = await apply(sv, file);
    expect(again.code, again.stdout).toBe(0);
    expect(again.json.changed).toBe(false);
    expect(byName(again)).toEqual({ "cv-a": "unchanged", "cv-b": "unchanged" });
    // Nothing but a reread was asked of supervisord, and every process is the one that ran before.
    expect(again.json.plan.supervisorctl).toEqual([["supervisorctl", "-c", sv.config, "reread"]]);
    expect(await runningPids(sv)).toMatchObject(pids);

    workersFile(sv, [entry("cv-a", { procs: 3 }), entry("cv-b", { queue: "high,default" })], "converge.json");
    const change = await apply(sv, file);
    expect(change.code, change.stdout).toBe(0);
    expect(change.json.changed).toBe(true);
    expect(change.json.workers).toEqual([
      expect.objectContaining({ name: "cv-a", action: "replaced", changes: [{ field: "procs", from: 2, to: 3 }] }),
      expect.objectContaining({ name: "cv-b", action: "unchanged", changes: [] }),
    ]);
    const after = await runningPids(sv);
    expect(pidsOf(after, "cv-a")).toHaveLength(3);
    for (const old of pidsOf(pids, "cv-a")) expect(pidsOf(after, "cv-a")).not.toContain(old);
    expect(pidsOf(after, "cv-b")).toEqual(pidsOf(pids, "cv-b"));
  });

  it("--dry-run says worker by worker and field by field what would change, and changes nothing", async () => {
    const file = workersFile(sv, [entry("dr-a"), entry("dr-b", { env: { APP_KEY: "s3cret" } })], "dry.json");
    expect((await apply(sv, file)).code).toBe(0);
    const pids = await runningPids(sv);
    workersFile(sv, [entry("dr-a", { tries: 5, maxTime: 0 }), entry("dr-b", { env: { APP_KEY: "other" } }), entry("dr-c")], "dry.json");
    const before = snapshot(sv.confDir);
    const r = await apply(sv, file, ["--dry-run"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toMatchObject({ dryRun: true, changed: true });
    expect(byName(r)).toMatchObject({ "dr-a": "replaced", "dr-b": "replaced", "dr-c": "created" });
    const changes = Object.fromEntries((r.json.workers as any[]).map((w) => [w.name, w.changes]));
    expect(changes["dr-a"]).toEqual([
      { field: "tries", from: 3, to: 5 },
      { field: "maxTime", from: 3600, to: 0 },
    ]);
    // An env value is never shown, only that its key changed.
    expect(changes["dr-b"]).toEqual([{ field: "env.APP_KEY", from: "(hidden)", to: "(hidden)" }]);
    expect(r.stdout).not.toContain("s3cret");
    expect(r.stdout).not.toContain("other");
    const text = await cli(["apply", file, "--allow-root", "--dry-run"], sv.env);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/would replace dr-a\n\s+tries: 3 -> 5\n\s+maxTime: 3600 -> 0/u);
    expect(text.stderr).toContain("would create dr-c");
    expect(snapshot(sv.confDir)).toEqual(before);
    expect(await runningPids(sv)).toMatchObject(pids);
    expect(await loadedGroups(sv)).not.toContain("dr-c");
  });

  const badFiles: [string, unknown, string][] = [
    ["an unknown key", { workers: [entry("bad-a"), { ...entry("bad-b"), colour: "red" }] }, "workers[1].colour"],
    ["a bad value", { workers: [entry("bad-a", { procs: 0 })] }, "workers[0].procs"],
    ["stopwaitsecs under the timeout", { workers: [entry("bad-a", { timeout: 90, stopwaitsecs: 30 })] }, "workers[0].stopwaitsecs"],
    ["a name given twice", { workers: [entry("bad-a"), entry("bad-a")] }, "workers[1].name"],
    ["a relative path", { workers: [entry("bad-a", { path: "app" })] }, "workers[0].path"],
    ["no workers list", { worker: [] }, "workers"],
    ["a worker without a path", { workers: [{ name: "bad-a" }] }, "workers[0].path"],
    ["a path without artisan", { workers: [entry("bad-a"), entry("bad-b", { path: "/tmp" })] }, "workers[1].path"],
  ];
  it.for(badFiles)("%s exits 2 naming the key's path, and nothing changes", async ([, doc, key], { expect }) => {
    const file = path.join(sv.dir, `bad-${key.replace(/\W/gu, "")}.json`);
    fs.writeFileSync(file, JSON.stringify(doc), { mode: 0o644 });
    const before = snapshot(sv.confDir);
    const r = await apply(sv, file);
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.error.code).toBe("invalid_input");
    expect(r.json.error.message.startsWith(`${key}: `), r.json.error.message).toBe(true);
    expect(snapshot(sv.confDir)).toEqual(before);
    expect(await loadedGroups(sv)).not.toContain("bad-a");
  });

  it("a file that is not JSON, or missing, exits 2; one another user could write is refused", async () => {
    const notJson = path.join(sv.dir, "not.json");
    fs.writeFileSync(notJson, "workers: []\n", { mode: 0o644 });
    const r = await apply(sv, notJson);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toMatch(/^FILE: .* is not JSON/u);
    expect((await apply(sv, path.join(sv.dir, "missing.json"))).code).toBe(2);
    const open = workersFile(sv, [entry("open-a")], "open.json");
    fs.chmodSync(open, 0o666);
    const unsafe = await apply(sv, open);
    expect(unsafe.code).toBe(1);
    expect(unsafe.json.error.code).toBe("unsafe_file");
    expect(await loadedGroups(sv)).not.toContain("open-a");
  });

  it("never writes over a program vexo-sv did not write", async () => {
    const foreign = path.join(sv.confDir, "hand.conf");
    fs.writeFileSync(foreign, "[program:hand]\ncommand=sleep 1000\n", { mode: 0o644 });
    const r = await apply(sv, workersFile(sv, [entry("hand")], "hand.json"));
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("not_managed");
    expect(fs.readFileSync(foreign, "utf8")).toBe("[program:hand]\ncommand=sleep 1000\n");
    fs.rmSync(foreign);
  });

  it("names that look like supervisorctl's errors are workers like any other (error-mailer, ERROR, Faulty)", async () => {
    const names = ["error-mailer", "ERROR", "Faulty"];
    const file = workersFile(
      sv,
      names.map((n) => entry(n)),
      "errorish.json",
    );
    const r = await apply(sv, file);
    expect(r.code, r.stdout).toBe(0);
    expect(byName(r)).toEqual({ "error-mailer": "created", ERROR: "created", Faulty: "created" });
    const pids = await runningPids(sv);
    for (const n of names) expect(pidsOf(pids, n)).toHaveLength(1);
    const again = await apply(sv, file);
    expect(again.code, again.stdout).toBe(0);
    expect(again.json.changed).toBe(false);
    expect(await runningPids(sv)).toMatchObject(pids);
  });

  it("a hand-written program put in place while apply --prune waits for the lock is not removed", async () => {
    const file = workersFile(sv, [entry("race-a"), entry("race-b")], "race.json");
    expect((await apply(sv, file)).code).toBe(0);
    const lock = path.join(sv.confDir, ".vexo-sv.lock");
    const holder = execa("flock", ["--exclusive", "--close", lock, "sleep", "1000"], { reject: false, detached: true });
    await waitFor(async () => (await execa("flock", ["--nonblock", lock, "true"], { reject: false })).exitCode === 1, 30, "lock held");
    const pruning = apply(sv, workersFile(sv, [entry("race-a")], "race-a.json"), ["--prune", "--prune-path", SAMPLE_APP]);
    // Not just any opener: a fork of the holder's flock has the lock open for a moment too.
    await waitFor(async () => vexoHasOpen(lock), 60, "apply waiting for the lock");
    const hand = "[program:race-b]\ncommand=/bin/sleep 1000\n";
    fs.writeFileSync(path.join(sv.confDir, "race-b.conf"), hand);
    process.kill(-(holder.pid as number), "SIGKILL");
    const r = await pruning;
    expect(r.code, r.stdout).toBe(1);
    expect(r.json.error.code).toBe("not_managed");
    expect(fs.readFileSync(path.join(sv.confDir, "race-b.conf"), "utf8")).toBe(hand);
    fs.rmSync(path.join(sv.confDir, "race-b.conf"));
    await execa("supervisorctl", ["-c", sv.config, "update", "race-b"]);
  });

  it("a record in the state directory that is not a worker name is ignored", async () => {
    const state = path.join(sv.confDir, ".vexo-sv-state");
    fs.mkdirSync(state, { recursive: true, mode: 0o700 });
    for (const n of ["..", "-h", "all", "a b"]) fs.writeFileSync(path.join(state, `${n}.removing`), "{}\n", { mode: 0o600 });
    const r = await apply(sv, workersFile(sv, [], "empty.json"), ["--prune", "--prune-path", "/nowhere", "--dry-run"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json.workers).toEqual([]);
    for (const n of ["..", "-h", "all", "a b"]) fs.rmSync(path.join(state, `${n}.removing`));
  });

  it("reads the file from standard input with -", async () => {
    const doc = JSON.stringify({ workers: [entry("stdin-a")] });
    const r = await execa("node", [BIN, "apply", "-", ...ALLOW_ROOT, "--json"], { input: doc, env: sv.env, reject: false });
    expect(r.exitCode, String(r.stdout)).toBe(0);
    expect(JSON.parse(String(r.stdout)).workers).toEqual([expect.objectContaining({ name: "stdin-a", action: "created" })]);
  });
});

describe("apply --prune", () => {
  const sv = useSupervisor();

  it("removes the managed workers the file does not name, never a hand-written program, and only of --prune-path", async () => {
    // A second application, owned by root like the first (a root worker runs no one else's code).
    const app2 = path.join(sv.dir, "app2");
    fs.cpSync(SAMPLE_APP, app2, { recursive: true });
    const hand = path.join(sv.confDir, "handmade.conf");
    fs.writeFileSync(hand, "[program:handmade]\ncommand=sleep 1000\n", { mode: 0o644 });
    await execa("supervisorctl", ["-c", sv.config, "update", "handmade"]);
    expect(await loadedGroups(sv)).toContain("handmade");
    const all = workersFile(
      sv,
      [entry("p-one"), entry("p-two"), entry("q-one", { path: app2 }), entry("q-two", { path: app2 })],
      "all.json",
    );
    expect((await apply(sv, all)).code).toBe(0);
    const pids = await runningPids(sv);

    // The file of app one names p-one only; pruning within app one removes p-two alone.
    const one = workersFile(sv, [entry("p-one")], "one.json");
    const r = await apply(sv, one, ["--prune", "--prune-path", SAMPLE_APP]);
    expect(r.code, r.stdout).toBe(0);
    expect(byName(r)).toEqual({ "p-one": "unchanged", "p-two": "removed" });
    expect(await loadedGroups(sv)).toEqual(["handmade", "p-one", "q-one", "q-two"]);
    expect(pidsOf(await runningPids(sv), "q-one")).toEqual(pidsOf(pids, "q-one"));
    expect(fs.existsSync(hand)).toBe(true);

    // Without --prune-path, everything managed that is not named goes; the hand-written program stays.
    const r2 = await apply(sv, one, ["--prune"]);
    expect(r2.code, r2.stdout).toBe(0);
    expect(byName(r2)).toEqual({ "p-one": "unchanged", "q-one": "removed", "q-two": "removed" });
    expect(await loadedGroups(sv)).toEqual(["handmade", "p-one"]);
    expect(fs.readFileSync(hand, "utf8")).toBe("[program:handmade]\ncommand=sleep 1000\n");
    expect(pidsOf(await runningPids(sv), "p-one")).toEqual(pidsOf(pids, "p-one"));

    // --prune-path alone is a mistake, not a silent no-op.
    const lone = await apply(sv, one, ["--prune-path", SAMPLE_APP]);
    expect(lone.code).toBe(2);
    expect(lone.json.error.message).toMatch(/^--prune-path: /u);
  });

  it("a worker that does not come up fails the run, which says what was done; the fixed file converges", async () => {
    const file = workersFile(sv, [entry("h-good"), entry("h-bad", { path: BROKEN_APP })], "health.json");
    const r = await apply(sv, file);
    expect(r.code, r.stdout).toBe(1);
    expect(r.json.error.code).toBe("start_failed");
    expect(r.json.error.message).toMatch(/h-bad/u);
    expect(r.json.error.details.done).toEqual([
      { name: "h-good", action: "created" },
      { name: "h-bad", action: "created" },
    ]);
    expect(r.json.error.details.notDone).toEqual([]);
    // The summary is a line of its own, never glued onto the app's last log line (issue 25).
    const lines = String(r.json.error.message).split("\n");
    expect(lines.at(-1)).toBe("  apply: done: h-good created, h-bad created");
    expect(lines.slice(0, -1).join("\n")).not.toMatch(/done:/u);
    workersFile(sv, [entry("h-good")], "health.json");
    const fixed = await apply(sv, file, ["--prune", "--prune-path", BROKEN_APP]);
    expect(fixed.code, fixed.stdout).toBe(0);
    expect(byName(fixed)).toEqual({ "h-good": "unchanged", "h-bad": "removed" });
    expect(await loadedGroups(sv)).not.toContain("h-bad");
  });
});
