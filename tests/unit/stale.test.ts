import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ControlInput, controlWorkers } from "../../src/core/control.js";
import { pauseRecordPath } from "../../src/core/records.js";
import type { ProcStat } from "../../src/core/procstat.js";
import { selectStale } from "../../src/core/stale.js";
import { parseStatus } from "../../src/core/supervisorctl.js";
import { fakeSupervisor, refusal, running, ScriptedIO, ScriptedMachine, statusLine } from "../helpers/scripted.js";

// Which workers `restart --stale` restarts, through the IO seam (scripted supervisorctl) and the
// machine seam (scripted /proc), on a real `current -> releases/2` link: no supervisord, virtual time.

const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "vx-stale-")));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));
const R1 = path.join(base, "releases/1");
const R2 = path.join(base, "releases/2");
const OTHER = path.join(base, "other");
const CURRENT = path.join(base, "current");
for (const d of [R1, R2, OTHER]) fs.mkdirSync(d, { recursive: true });
// The deploy has switched already: current -> releases/2.
fs.symlinkSync("releases/2", CURRENT);

const stopped = (name: string) => statusLine(name, "STOPPED", "Nov 24 08:33 AM");

describe("selectStale", () => {
  const sv = fakeSupervisor(new ScriptedIO(() => ""), [{ name: "w", path: CURRENT, procs: 2 }]);
  const groups = sv.world.programs();
  const stat = (pid: number, cwd: string | null): [number, ProcStat] => [pid, { pid, rssBytes: 1, cpuSeconds: 0, startTime: 0, cwd }];
  it.each([
    ["both in the current release", [running("w:w_00", 1), running("w:w_01", 2)], [stat(1, R2), stat(2, R2)], "not-stale"],
    ["one in the old release", [running("w:w_00", 1), running("w:w_01", 2)], [stat(1, R1), stat(2, R2)], "stale w:w_00"],
    [
      "its old release deleted since",
      [running("w:w_00", 1), running("w:w_01", 2)],
      [stat(1, `${R1} (deleted)`), stat(2, R2)],
      "stale w:w_00",
    ],
    ["one gone since the status call (its successor starts now)", [running("w:w_00", 1), running("w:w_01", 2)], [stat(2, R2)], "not-stale"],
    ["one this user cannot see, the other current", [running("w:w_00", 1), running("w:w_01", 2)], [stat(1, null), stat(2, R2)], "unknown"],
    ["one this user cannot see, the other old", [running("w:w_00", 1), running("w:w_01", 2)], [stat(1, null), stat(2, R1)], "stale w:w_01"],
    ["starting (supervisorctl shows no pid yet)", [statusLine("w:w_00", "STARTING"), statusLine("w:w_01", "STARTING")], [], "not-stale"],
    ["stopped", [stopped("w:w_00"), stopped("w:w_01")], [], "not-running"],
    ["not loaded by supervisord", [], [], "not-running"],
  ] as const)("%s: %s", (_label, lines, stats, want) => {
    const s = selectStale(sv.world, groups, parseStatus(lines.join("\n")), new Map(stats), new Set());
    const got = s.unknown.length
      ? "unknown"
      : s.stale.length
        ? `stale ${s.stale.flatMap((w) => w.processes.map((p) => p.process)).join(" ")}`
        : s.outcomes[0]?.outcome;
    expect(got).toBe(want);
    if (s.stale.length) expect(s.stale[0]?.path).toBe(R2);
  });

  it("a paused worker is left paused, whatever /proc says", () => {
    const s = selectStale(sv.world, groups, parseStatus(stopped("w:w_00")), new Map([stat(1, R1)]), new Set(["w"]));
    expect(s.stale).toEqual([]);
    expect(s.outcomes).toEqual([{ worker: "w", outcome: "paused", detail: "left paused: its next start runs the current release" }]);
  });
});

/**
 * Workers a (2 processes: a_00 in the old release, a_01 restarted since), b (current), c (another
 * path), p (paused), s (stopped) and a hand-written program `hand`, behind a scripted supervisorctl:
 * a signal or restart gives each process it reaches a new pid whose /proc says it runs in `after`.
 */
function fleet(after = R2) {
  const machine = new ScriptedMachine().proc(10, R1).proc(11, R2).proc(20, R2).proc(30, OTHER).proc(40, "/");
  const pids = new Map<string, (number | null)[]>([
    ["a", [10, 11]],
    ["b", [20]],
    ["c", [30]],
    ["p", [null]],
    ["s", [null]],
    ["hand", [40]],
  ]);
  const nameOf = (g: string, i: number) => (g === "hand" ? g : `${g}:${g}_${String(i).padStart(2, "0")}`);
  let next = 100;
  const io = new ScriptedIO((args) => {
    const targets = args.slice(args[0] === "signal" ? 2 : 1);
    if (args[0] === "status") {
      const groups = targets.map((t) => t.replace(/:\*$/u, ""));
      return groups
        .flatMap((g) => (pids.get(g) ?? []).map((pid, i) => (pid === null ? stopped(nameOf(g, i)) : running(nameOf(g, i), pid))))
        .join("\n");
    }
    for (const t of targets) {
      const g = t.split(":")[0] as string;
      pids.set(
        g,
        (pids.get(g) ?? []).map((pid, i) => (t.endsWith(":*") || t === nameOf(g, i) ? (machine.proc(next, after), next++) : pid)),
      );
    }
    return targets.map((t) => `${t}: ${args[0] === "signal" ? "signalled" : "started"}`).join("\n");
  });
  const sv = fakeSupervisor(
    io,
    [
      { name: "a", path: CURRENT, procs: 2 },
      { name: "b", path: CURRENT },
      { name: "c", path: OTHER },
      { name: "p", path: CURRENT },
      { name: "s", path: CURRENT },
    ],
    machine,
  );
  fs.writeFileSync(path.join(sv.layout.confDir ?? "", "hand.conf"), "[program:hand]\ncommand=/bin/sleep 1000\n");
  fs.mkdirSync(path.dirname(pauseRecordPath(sv.layout, "p")), { recursive: true });
  fs.writeFileSync(pauseRecordPath(sv.layout, "p"), '{"at":"2026-01-01T00:00:00.000Z","supervisordPid":null}\n');
  return { io, sv, machine, pids };
}

const restart = (over: Partial<ControlInput> = {}): ControlInput => ({
  action: "restart",
  names: [],
  all: false,
  stale: true,
  mode: "graceful",
  wait: true,
  ...over,
});

describe("restart with stale", () => {
  it("graceful: one status call decides; only the stale worker is signalled, awaited, and found on the current release", async () => {
    const { io, sv, machine, pids } = fleet();
    const r = await controlWorkers(sv, restart());
    expect(io.calls).toEqual([
      ["status", "a:*", "b:*", "c:*", "p:*", "s:*"],
      ["signal", "TERM", "a:*"],
      ["status", "a:*"],
    ]);
    expect(r.workers).toEqual(["a"]);
    expect(r.supervisorctl).toEqual([["supervisorctl", "-c", sv.layout.config, "signal", "TERM", "a:*"]]);
    expect(r.stale).toEqual([{ worker: "a", path: R2, processes: [{ process: "a:a_00", pid: 10, cwd: R1 }] }]);
    expect(r.outcomes).toEqual([
      { worker: "a", outcome: "restarted" },
      { worker: "b", outcome: "not-stale" },
      { worker: "c", outcome: "not-stale" },
      { worker: "p", outcome: "paused", detail: "left paused: its next start runs the current release" },
      { worker: "s", outcome: "not-running", detail: "no process runs" },
    ]);
    // The whole group comes back (a_01 too: the group is the unit), on new pids, and /proc was asked where they run.
    expect(r.processes.map((p) => [p.fullName, p.state, p.pid])).toEqual([
      ["a:a_00", "RUNNING", 100],
      ["a:a_01", "RUNNING", 101],
    ]);
    expect(machine.lookups).toEqual(["proc 10 11 20 30", "proc 100 101"]);
    expect([pids.get("b"), pids.get("c"), pids.get("hand")]).toEqual([[20], [30], [40]]);
    expect(fs.existsSync(pauseRecordPath(sv.layout, "p"))).toBe(true);
  });

  it("no stale worker: nothing is done, workers is empty, each worker's outcome says why", async () => {
    const { io, sv, machine } = fleet();
    machine.proc(10, R2);
    const r = await controlWorkers(sv, restart());
    expect(io.verbs()).toEqual(["status"]);
    expect(r).toMatchObject({ workers: [], stale: [], supervisorctl: [], processes: [] });
    expect(r.outcomes?.map((o) => o.outcome)).toEqual(["not-stale", "not-stale", "not-stale", "paused", "not-running"]);
  });

  it("with names: only those are asked about and restarted, in the order given", async () => {
    const { io, sv } = fleet();
    const r = await controlWorkers(sv, restart({ names: ["b", "a"] }));
    expect(io.calls[0]).toEqual(["status", "b:*", "a:*"]);
    expect(r.workers).toEqual(["a"]);
    expect(r.outcomes?.map((o) => o.worker)).toEqual(["b", "a"]);
  });

  it("a hand-written program or an unknown name is refused before supervisorctl is asked anything", async () => {
    const { io, sv } = fleet();
    const e = await refusal(controlWorkers(sv, restart({ names: ["a", "hand"] })));
    expect([e.code, e.details?.names]).toEqual(["not_managed", ["hand"]]);
    expect((await refusal(controlWorkers(sv, restart({ names: ["nosuch"] })))).code).toBe("not_found");
    expect(io.calls).toEqual([]);
  });

  it("a running worker whose directory this user cannot see: stale_unknown, and nothing is restarted", async () => {
    const { io, sv, machine } = fleet();
    machine.proc(20, null);
    const e = await refusal(controlWorkers(sv, restart()));
    expect(e.code).toBe("stale_unknown");
    expect(e.details?.workers).toEqual(["b"]);
    expect(e.message).toMatch(/b: this user cannot see where b:b_00 \(pid 20\) runs/u);
    expect(io.verbs()).toEqual(["status"]);
  });

  it("restarted but still in the old release (the new processes' cwd): still_stale", async () => {
    const { sv } = fleet(R1);
    const e = await refusal(controlWorkers(sv, restart()));
    expect(e.code).toBe("still_stale");
    expect(e.details?.workers).toEqual(["a"]);
    expect(e.message).toContain(`a:a_00 runs in ${R1}`);
  });

  it("--no-wait returns once signalled, and cannot know yet where the new processes run", async () => {
    const { io, sv, machine } = fleet(R1);
    const r = await controlWorkers(sv, restart({ wait: false }));
    expect(io.verbs()).toEqual(["status", "signal", "status"]);
    expect(r.workers).toEqual(["a"]);
    expect(machine.lookups).toEqual(["proc 10 11 20 30"]);
  });

  it.each([
    ["plain", [["restart", "a:*"]]],
    [
      "rolling",
      [
        ["restart", "a:a_00"],
        ["restart", "a:a_01"],
      ],
    ],
  ] as const)("%s mode restarts the stale worker only, then checks it is current", async (mode, calls) => {
    const { io, sv, machine } = fleet();
    const r = await controlWorkers(sv, restart({ mode }));
    expect(io.calls.filter((c) => c[0] !== "status")).toEqual(calls);
    expect(r.workers).toEqual(["a"]);
    expect(machine.lookups.at(-1)).toBe("proc 100 101");
  });

  it("--dry-run: the one reading, the calls it would make and the stale workers; no outcomes, nothing done", async () => {
    const { io, sv, pids } = fleet();
    const r = await controlWorkers(sv, restart({ dryRun: true }));
    expect(io.verbs()).toEqual(["status"]);
    expect(r.plan?.supervisorctl).toEqual([["supervisorctl", "-c", sv.layout.config, "signal", "TERM", "a:*"]]);
    expect(r.stale?.map((s) => s.worker)).toEqual(["a"]);
    expect(r.outcomes).toBeUndefined();
    expect(r.processes.map((p) => p.pid)).toEqual([10, 11]);
    expect(pids.get("a")).toEqual([10, 11]);
    expect(fs.existsSync(pauseRecordPath(sv.layout, "p"))).toBe(true);
  });
});
