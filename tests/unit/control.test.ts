import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type ControlInput, controlWorkers, resolveTargets } from "../../src/core/control.js";
import { pauseRecordPath, stateDir } from "../../src/core/records.js";
import type { VexoError } from "../../src/errors.js";
import { fakeSupervisor, processGroup, refusal, running, ScriptedIO, statusLine } from "../helpers/scripted.js";

// src/core/control.ts: start, stop, restart, pause and resume on scripted supervisorctl output,
// through the IO seam: no supervisord, and virtual time (sleep advances a clock), so none of
// these depends on the machine's speed.

const input = (over: Partial<ControlInput>): ControlInput => ({
  action: "start",
  names: ["a"],
  all: false,
  mode: "plain",
  wait: true,
  ...over,
});

describe("resolveTargets", () => {
  const entries = [processGroup("a"), processGroup("b"), processGroup("hand", false)];
  it.each([
    ["all: managed ones only", [], true, ["a", "b"]],
    ["named", ["b", "a"], false, ["b", "a"]],
    ["duplicates once", ["a", "a"], false, ["a"]],
    ["a hand-written program by name", ["hand"], false, ["hand"]],
  ] as const)("%s", (_l, names, all, want) => expect(resolveTargets(entries, [...names], all)).toEqual(want));

  it("no names and no all is a usage error", () => expect(() => resolveTargets(entries, [], false)).toThrow(/at least one/u));

  it("unknown names are not_found, all of them named", () => {
    try {
      resolveTargets(entries, ["a", "x", "y"], false);
      expect.unreachable();
    } catch (e) {
      expect((e as VexoError).code).toBe("not_found");
      expect((e as VexoError).details?.names).toEqual(["x", "y"]);
    }
  });
});

describe("controlWorkers", () => {
  const specs = [
    { name: "a", path: "/srv/app", maxTime: 0 },
    { name: "b", path: "/srv/app", maxTime: 60 },
  ];

  it("start: one start call for the groups, then their status; records the calls", async () => {
    const io = new ScriptedIO((args) => (args[0] === "start" ? "a:a_00: started" : running("a:a_00", 10)));
    const sv = fakeSupervisor(io, specs);
    const r = await controlWorkers(sv, input({}));
    expect(io.calls).toEqual([
      ["start", "a:*"],
      ["status", "a:*"],
    ]);
    expect(r.supervisorctl).toEqual([["supervisorctl", "-c", sv.layout.config, "start", "a:*"]]);
    expect(r.processes.map((p) => p.state)).toEqual(["RUNNING"]);
  });

  it.each([
    [
      "start",
      "plain",
      false,
      [
        ["start", "a:*"],
        ["start", "b:*"],
      ],
      [],
      ["a"],
    ],
    [
      "stop",
      "plain",
      false,
      [
        ["stop", "a:*"],
        ["stop", "b:*"],
      ],
      [],
      ["a"],
    ],
    [
      "restart",
      "plain",
      false,
      [
        ["restart", "a:*"],
        ["restart", "b:*"],
      ],
      [],
      ["a"],
    ],
    ["restart", "graceful", false, [["signal", "TERM", "a:*", "b:*"]], [], ["a"]],
    [
      "restart",
      "rolling",
      false,
      [
        ["restart", "a:a_00"],
        ["restart", "b:b_00"],
      ],
      [],
      ["a"],
    ],
    ["pause", "plain", false, [["stop", "a:*"]], ["a"], []],
    ["resume", "plain", true, [["start", "b:*"]], [], ["b"]],
  ] as const)(
    "--dry-run %s (%s): only status is asked; the calls and pause records are planned, none made",
    async (action, mode, bPaused, calls, writes, removes) => {
      // a runs, b is stopped (and paused, for resume); a also has a pause record left over for the others to end.
      const io = new ScriptedIO(() => [running("a:a_00", 10), statusLine("b:b_00", "STOPPED", "Nov 24 08:33 AM")].join("\n"));
      const sv = fakeSupervisor(io, specs);
      const recorded = (n: string) => pauseRecordPath(sv.layout, n);
      if (action !== "pause" && action !== "resume") {
        fs.mkdirSync(path.dirname(recorded("a")), { recursive: true });
        fs.writeFileSync(recorded("a"), '{"at":"2026-01-01T00:00:00.000Z","supervisordPid":null}\n');
      }
      if (bPaused) {
        fs.mkdirSync(path.dirname(recorded("b")), { recursive: true });
        fs.writeFileSync(recorded("b"), '{"at":"2026-01-01T00:00:00.000Z","supervisordPid":null}\n');
      }
      const before = fs.existsSync(path.dirname(recorded("a"))) ? fs.readdirSync(path.dirname(recorded("a"))).sort() : null;
      const r = await controlWorkers(sv, input({ action, mode, names: ["a", "b"], dryRun: true }));
      expect(io.verbs().every((v) => v === "status")).toBe(true);
      expect(r.dryRun).toBe(true);
      const argv = calls.map((c) => ["supervisorctl", "-c", sv.layout.config, ...c]);
      expect(r.supervisorctl).toEqual(argv);
      expect(r.plan?.supervisorctl).toEqual(argv);
      expect(r.plan?.writes.map((w) => w.path)).toEqual(writes.map(recorded));
      expect(r.plan?.removes).toEqual(removes.map(recorded));
      expect(r.processes.map((p) => [p.fullName, p.state])).toEqual([
        ["a:a_00", "RUNNING"],
        ["b:b_00", "STOPPED"],
      ]);
      expect(r.outcomes).toBeUndefined();
      // No pause record written or removed.
      expect(fs.existsSync(path.dirname(recorded("a"))) ? fs.readdirSync(path.dirname(recorded("a"))).sort() : null).toEqual(before);
    },
  );

  it("start: a spawn error is start_failed; with wait off it is reported, not thrown", async () => {
    const answer = (args: string[]) =>
      args[0] === "start"
        ? { exitCode: 7, output: "a:a_00: ERROR (spawn error)" }
        : statusLine("a:a_00", "FATAL", "can't find command 'php9'");
    expect((await refusal(controlWorkers(fakeSupervisor(new ScriptedIO(answer), specs), input({})))).code).toBe("start_failed");
    const r = await controlWorkers(fakeSupervisor(new ScriptedIO(answer), specs), input({ wait: false }));
    expect(r.processes[0]?.state).toBe("FATAL");
  });

  it("an action supervisorctl refused is never reported as success (issue 14: a group member by its own name)", async () => {
    const io = new ScriptedIO((args) => (args[0] === "restart" ? { exitCode: 2, output: "a: ERROR (no such group)" } : ""));
    const e = await refusal(controlWorkers(fakeSupervisor(io, specs), input({ action: "restart" })));
    expect(e.code).toBe("supervisorctl_failed");
    expect(e.message).toMatch(/no such group/u);
  });

  it("start: a process still STARTING is waited for, not reported as a failure (issue 15.5)", async () => {
    let polls = 0;
    const io = new ScriptedIO((args) => {
      if (args[0] === "start") return "a:a_00: ERROR (already started)";
      return ++polls < 3 ? statusLine("a:a_00", "STARTING") : running("a:a_00", 10);
    });
    const r = await controlWorkers(fakeSupervisor(io, specs), input({}));
    expect(r.processes[0]?.state).toBe("RUNNING");
    expect(polls).toBe(3);
  });

  it("a failure report marks the log lines written before this start (issue 16), and shows them (issue 25)", async () => {
    const io = new ScriptedIO((args, self) => {
      if (args[0] === "start") {
        fs.appendFileSync(`${self.logDir}/a_00.log`, "new error\n");
        return { exitCode: 7, output: "a:a_00: ERROR (spawn error)" };
      }
      return statusLine("a:a_00", "FATAL", "Exited too quickly");
    });
    const sv = fakeSupervisor(io, specs);
    io.logDir = sv.layout.logDir;
    fs.writeFileSync(`${sv.layout.logDir}/a_00.log`, "old error 1\nold error 2\n");
    const e = await refusal(controlWorkers(sv, input({})));
    expect((e.details?.failures as { log: string[] }[])[0]?.log).toEqual([
      "(before this start) old error 1",
      "(before this start) old error 2",
      "new error",
    ]);
  });

  it("start of a worker already backing off, which writes nothing new: its last lines are shown, marked older (issue 25)", async () => {
    const io = new ScriptedIO((args) =>
      args[0] === "start"
        ? { exitCode: 1, output: "a:a_00: ERROR (already started)" }
        : statusLine("a:a_00", "BACKOFF", "Exited too quickly"),
    );
    const sv = fakeSupervisor(io, specs);
    fs.writeFileSync(`${sv.layout.logDir}/a_00.log`, "SQLSTATE[HY000] [2002] Connection refused\n");
    const e = await refusal(controlWorkers(sv, input({})));
    expect(e.code).toBe("start_failed");
    expect((e.details?.failures as { log: string[] }[])[0]?.log).toEqual(["(before this start) SQLSTATE[HY000] [2002] Connection refused"]);
    expect(e.message).toMatch(/Connection refused/u);
  });

  it("stop: 'not running' is not a failure", async () => {
    const io = new ScriptedIO((args) =>
      args[0] === "stop" ? { exitCode: 1, output: "a:a_00: ERROR (not running)" } : statusLine("a:a_00", "STOPPED", "Not started"),
    );
    const r = await controlWorkers(fakeSupervisor(io, specs), input({ action: "stop" }));
    expect(r.processes[0]?.state).toBe("STOPPED");
  });

  it("graceful restart with wait: TERM, then waits for new pids past the old ones", async () => {
    let polls = 0;
    const io = new ScriptedIO((args) => {
      if (args[0] === "signal") return "a:a_00: signalled";
      polls++;
      if (polls <= 2) return running("a:a_00", 10); // the pid before, and still finishing its job
      if (polls === 3) return statusLine("a:a_00", "EXITED", "Nov 24 08:33 AM");
      return running("a:a_00", 11);
    });
    const r = await controlWorkers(fakeSupervisor(io, specs), input({ action: "restart", mode: "graceful" }));
    expect(io.verbs()).toEqual(["status", "signal", "status", "status", "status"]);
    expect(io.calls[1]).toEqual(["signal", "TERM", "a:*"]);
    expect(r.processes[0]?.pid).toBe(11);
    expect(r.outcomes).toEqual([{ worker: "a", outcome: "restarted" }]);
  });

  it("graceful restart without wait claims no outcome: its workers were signalled, not seen restarted", async () => {
    const io = new ScriptedIO((args) => (args[0] === "signal" ? "a:a_00: signalled" : running("a:a_00", 10)));
    const r = await controlWorkers(fakeSupervisor(io, specs), input({ action: "restart", mode: "graceful", wait: false }));
    expect(io.verbs()).toContain("signal");
    expect(r.outcomes).toBeUndefined();
  });

  it("graceful restart waiting on a 10-minute job asks less often as it goes, and fails naming the old process past its bound", async () => {
    const old = (io: ScriptedIO) => (io.clock < 600_000 ? running("a:a_00", 10) : running("a:a_00", 11));
    const io = new ScriptedIO((args, self) => (args[0] === "signal" ? "a:a_00: signalled" : old(self)));
    const long = [{ name: "a", path: "/srv/app", stopwaitsecs: 900 }];
    const r = await controlWorkers(fakeSupervisor(io, long), input({ action: "restart", mode: "graceful" }));
    expect(r.processes[0]?.pid).toBe(11);
    // Four times a second for 10 s, once a second to a minute, then every 5 s: not 2,400 Python starts.
    expect(io.verbs().filter((v) => v === "status").length).toBeLessThan(250);
    // A job that outlasts stopwaitsecs plus a minute: the error names the process still from before.
    const stuck = new ScriptedIO((args) => (args[0] === "signal" ? "a:a_00: signalled" : running("a:a_00", 10)));
    const e = await refusal(controlWorkers(fakeSupervisor(stuck, long), input({ action: "restart", mode: "graceful" })));
    expect(e.message).toMatch(/still the process from before the restart after 960s[\s\S]*a:a_00 RUNNING/u);
    expect(stuck.clock).toBe(960_000);
  });

  it("rolling restart: one process at a time, and stops at the first that fails", async () => {
    const io = new ScriptedIO((args) => {
      if (args[0] === "restart") return args[1] === "a:a_01" ? { exitCode: 7, output: "a:a_01: ERROR (spawn error)" } : "a:a_00: started";
      return [running("a:a_00", 10), running("a:a_01", 11), running("a:a_02", 12)].join("\n");
    });
    const e = await refusal(
      controlWorkers(fakeSupervisor(io, [{ name: "a", path: "/srv/app", procs: 3 }]), input({ action: "restart", mode: "rolling" })),
    );
    expect(e.message).toMatch(/rolling restart stopped at a:a_01/u);
    expect(io.calls.filter((c) => c[0] === "restart")).toEqual([
      ["restart", "a:a_00"],
      ["restart", "a:a_01"],
    ]);
  });

  it("pause: a graceful stop of the active workers, recorded; a stopped worker is a no-op; resume starts it", async () => {
    const state = new Map([
      ["a", "RUNNING"],
      ["b", "STOPPED"],
    ]);
    const io = new ScriptedIO((args) => {
      if (args[0] === "stop" || args[0] === "start")
        for (const g of args.slice(1)) state.set(g.slice(0, -2), args[0] === "stop" ? "STOPPED" : "RUNNING");
      if (args[0] !== "status") return `${args[1]}: ${args[0]}ed`;
      const groups = args.slice(1).map((g) => g.slice(0, -2));
      return groups
        .map((g) => (state.get(g) === "RUNNING" ? running(`${g}:${g}_00`, 10) : statusLine(`${g}:${g}_00`, "STOPPED", "Nov 24 08:33 AM")))
        .join("\n");
    });
    const sv = fakeSupervisor(io, specs);
    const r = await controlWorkers(sv, input({ action: "pause", names: ["a", "b"] }));
    expect(io.calls.filter((c) => c[0] !== "status")).toEqual([["stop", "a:*"]]);
    // One status before the stop, one of what was stopped after it: no third to report the same.
    expect(io.verbs()).toEqual(["status", "stop", "status"]);
    expect(r.processes.map((p) => [p.fullName, p.state])).toEqual([
      ["a:a_00", "STOPPED"],
      ["b:b_00", "STOPPED"],
    ]);
    expect(r.outcomes).toEqual([
      { worker: "a", outcome: "paused" },
      { worker: "b", outcome: "not-running", detail: "no process runs: nothing to pause" },
    ]);
    expect(fs.existsSync(pauseRecordPath(sv.layout, "a"))).toBe(true);
    expect(fs.existsSync(pauseRecordPath(sv.layout, "b"))).toBe(false);
    io.calls = [];
    const back = await controlWorkers(sv, input({ action: "resume", names: ["a", "b"] }));
    expect(io.verbs()).toEqual(["start", "status"]);
    expect(io.calls[0]).toEqual(["start", "a:*"]);
    expect(back.processes.map((p) => [p.fullName, p.state])).toEqual([
      ["a:a_00", "RUNNING"],
      ["b:b_00", "STOPPED"],
    ]);
    expect(back.outcomes?.map((o) => o.outcome)).toEqual(["resumed", "not-paused"]);
    expect(fs.existsSync(pauseRecordPath(sv.layout, "a"))).toBe(false);
  });

  it.each([
    [true, ["start", "status", "status", "status"], "RUNNING"],
    [false, ["start", "status"], "STARTING"],
  ] as const)("resume of a worker still STARTING after the start: wait=%s calls %j and reports %s", async (wait, verbs, state) => {
    let statusCalls = 0;
    const io = new ScriptedIO((args) => {
      if (args[0] === "start") return "a:a_00: started";
      return ++statusCalls === 1 ? statusLine("a:a_00", "STARTING") : running("a:a_00", 10);
    });
    const sv = fakeSupervisor(io, specs);
    fs.mkdirSync(path.dirname(pauseRecordPath(sv.layout, "a")), { recursive: true });
    fs.writeFileSync(pauseRecordPath(sv.layout, "a"), "{}\n");
    const r = await controlWorkers(sv, input({ action: "resume", names: ["a"], wait }));
    // With wait: the health wait's poll (once startsecs have passed), then the status reported.
    expect(io.verbs()).toEqual(verbs);
    expect(r.processes.map((p) => p.state)).toEqual([state]);
    expect(r.outcomes).toEqual([{ worker: "a", outcome: "resumed" }]);
  });

  it("pause holds whatever --max-time is: no signal that Laravel's paused loop would have to survive", async () => {
    const io = new ScriptedIO((args, self) =>
      args[0] === "status" ? (self.calls.length === 1 ? running("b:b_00", 10) : statusLine("b:b_00", "STOPPED", "x")) : "b: stopped",
    );
    const sv = fakeSupervisor(io, specs); // b has --max-time 60
    const r = await controlWorkers(sv, input({ action: "pause", names: ["b"] }));
    expect(r.outcomes).toEqual([{ worker: "b", outcome: "paused" }]);
    expect(io.calls.some((c) => c[0] === "signal")).toBe(false);
  });

  it("pause --all with one worker that would not stop: exit 1, and what happened to each", async () => {
    const io = new ScriptedIO((args, self) => {
      if (args[0] === "stop") return { exitCode: 1, output: "a:a_00: stopped\nb:b_00: ERROR (abnormal termination)" };
      if (self.calls.filter((c) => c[0] === "stop").length === 0) return [running("a:a_00", 10), running("b:b_00", 11)].join("\n");
      return [statusLine("a:a_00", "STOPPED", "x"), running("b:b_00", 11)].join("\n");
    });
    const sv = fakeSupervisor(io, specs);
    const e = await refusal(controlWorkers(sv, input({ action: "pause", names: [], all: true })));
    expect(e.code).toBe("pause_failed");
    expect(e.details?.workers).toEqual(["b"]);
    expect(e.details?.outcomes).toEqual([
      { worker: "a", outcome: "paused" },
      { worker: "b", outcome: "failed", detail: "still b:b_00 RUNNING" },
    ]);
    expect(e.message).toMatch(/1 of 2 worker\(s\) could not be paused: done: a paused; not done: b \(still b:b_00 RUNNING\)/u);
    expect(fs.existsSync(pauseRecordPath(sv.layout, "a"))).toBe(true);
  });

  it("an unreachable supervisord is refused before any supervisorctl call", async () => {
    const io = new ScriptedIO(() => "");
    io.reachable = false;
    expect((await refusal(controlWorkers(fakeSupervisor(io, specs), input({})))).code).toBe("supervisord_unreachable");
    expect(io.calls).toEqual([]);
  });

  it("supervisorctl output that says the socket is gone is supervisord_unreachable", async () => {
    const io = new ScriptedIO(() => ({ exitCode: 7, output: "unix:///x/supervisor.sock no such file" }));
    expect((await refusal(controlWorkers(fakeSupervisor(io, specs), input({ action: "stop" })))).code).toBe("supervisord_unreachable");
  });

  it("--all acts on managed workers only; with none it calls nothing", async () => {
    const io = new ScriptedIO(() => "");
    const r = await controlWorkers(fakeSupervisor(io, []), input({ names: [], all: true }));
    expect(r.workers).toEqual([]);
    expect(io.calls).toEqual([]);
  });

  it("a mode that does not exist for the action is refused", async () => {
    expect((await refusal(controlWorkers(fakeSupervisor(new ScriptedIO(() => ""), specs), input({ mode: "graceful" })))).code).toBe(
      "usage",
    );
  });
});

describe("controlWorkers on many workers: lanes (lanes.ts)", () => {
  const many = Array.from({ length: 20 }, (_, i) => ({ name: `w${String(i).padStart(2, "0")}`, path: "/srv/app" }));
  const all = many.map((w) => w.name);

  /** A scripted supervisord that keeps each group's state; calls overlap (each waits a turn of the loop), and the most at once is counted. */
  function batchIO(opts: { fails?: string[]; refuses?: string[]; paused?: boolean } = {}) {
    const state = new Map(all.map((n) => [n, opts.paused ? "STOPPED" : "RUNNING"]));
    let inFlight = 0;
    const io = new ScriptedIO((args) => {
      const [verb, ...rest] = args;
      const names = rest.map((a) => a.replace(/:\*$/u, ""));
      if (verb === "status")
        return (names.length ? names : all)
          .map((n) => statusLine(`${n}:${n}_00`, state.get(n) ?? "STOPPED", "pid 1, uptime 0:00:05"))
          .join("\n");
      // As supervisorctl does: a refused name gets its error line and the others are acted on (exit 1).
      const refused = names.some((n) => opts.refuses?.includes(n));
      const lines = names.map((n) => {
        if (opts.refuses?.includes(n)) return `${n}: ERROR (no such group)`;
        if (verb === "stop") state.set(n, "STOPPED");
        else state.set(n, opts.fails?.includes(n) ? "FATAL" : "RUNNING");
        return state.get(n) === "FATAL" ? `${n}:${n}_00: ERROR (spawn error)` : `${n}:${n}_00: ${verb === "stop" ? "stopped" : "started"}`;
      });
      return refused ? { exitCode: 1, output: lines.join("\n") } : lines.join("\n");
    });
    const most = { at: 0 };
    const run = io.run.bind(io);
    io.run = async (config, args, via) => {
      inFlight++;
      most.at = Math.max(most.at, inFlight);
      await new Promise((r) => setImmediate(r));
      try {
        return await run(config, args, via);
      } finally {
        inFlight--;
      }
    };
    return { io, state, most };
  }

  it.each(["start", "stop", "restart"] as const)(
    "%s --all: 12 calls at once, consecutive names each, every worker its outcome",
    async (action) => {
      const { io, most } = batchIO();
      const r = await controlWorkers(fakeSupervisor(io, many), input({ action, names: [], all: true }));
      const changing = io.calls.filter((c) => c[0] === action);
      expect(changing).toHaveLength(12);
      expect(changing.flatMap((c) => c.slice(1))).toEqual(all.map((n) => `${n}:*`));
      expect(most.at).toBe(12);
      expect(r.outcomes).toEqual(
        all.map((n) => ({ worker: n, outcome: { start: "started", stop: "stopped", restart: "restarted" }[action] })),
      );
    },
  );

  it("restart --all where one worker fails to start: the others are restarted, the failure is named, exit 1", async () => {
    const { io } = batchIO({ fails: ["w05"] });
    const e = await refusal(controlWorkers(fakeSupervisor(io, many), input({ action: "restart", names: [], all: true })));
    expect(e.code).toBe("start_failed");
    expect(e.message).toMatch(/1 of 20 worker\(s\) could not be restarted: done: w00 restarted, .*; not done: w05 \(w05:w05_00 FATAL\)/u);
    const outcomes = e.details?.outcomes as { worker: string; outcome: string }[];
    expect(outcomes.filter((o) => o.outcome === "failed").map((o) => o.worker)).toEqual(["w05"]);
    expect(outcomes.filter((o) => o.outcome === "restarted")).toHaveLength(19);
  });

  it("a name supervisorctl refuses fails that worker only; the others, of its lane too, are done", async () => {
    const { io, state } = batchIO({ refuses: ["w00"] });
    const e = await refusal(controlWorkers(fakeSupervisor(io, many), input({ action: "stop", names: [], all: true })));
    expect(e.code).toBe("supervisorctl_failed");
    const outcomes = e.details?.outcomes as { worker: string; outcome: string }[];
    // supervisorctl stopped w01, in w00's lane, all the same (as the real one does): only w00 failed.
    expect(outcomes.filter((o) => o.outcome === "failed").map((o) => o.worker)).toEqual(["w00"]);
    expect(outcomes.find((o) => o.worker === "w01")?.outcome).toBe("stopped");
    expect([...state].filter(([, s]) => s === "STOPPED").map(([n]) => n)).toEqual(all.slice(1));
    expect(e.message).toMatch(/not done: w00 \(.*no such group/u);
  });

  it("resume --all where supervisorctl refuses one name: the others of its lane are resumed and their pause records removed", async () => {
    const { io, state } = batchIO({ refuses: ["w00"], paused: true });
    const sv = fakeSupervisor(io, many);
    fs.mkdirSync(stateDir(sv.layout), { recursive: true });
    for (const n of all) fs.writeFileSync(pauseRecordPath(sv.layout, n), "{}\n");
    const e = await refusal(controlWorkers(sv, input({ action: "resume", names: [], all: true })));
    const outcomes = e.details?.outcomes as { worker: string; outcome: string }[];
    expect(outcomes.filter((o) => o.outcome === "failed").map((o) => o.worker)).toEqual(["w00"]);
    expect(state.get("w01")).toBe("RUNNING");
    expect(all.filter((n) => fs.existsSync(pauseRecordPath(sv.layout, n)))).toEqual(["w00"]);
  });

  it("pause --all then resume --all: lanes both ways, a pause record per worker, then none", async () => {
    const { io, state } = batchIO();
    const sv = fakeSupervisor(io, many);
    const p = await controlWorkers(sv, input({ action: "pause", names: [], all: true }));
    expect(io.calls.filter((c) => c[0] === "stop")).toHaveLength(12);
    expect(p.outcomes?.every((o) => o.outcome === "paused")).toBe(true);
    expect(all.every((n) => fs.existsSync(pauseRecordPath(sv.layout, n)))).toBe(true);
    const r = await controlWorkers(sv, input({ action: "resume", names: [], all: true }));
    expect(io.calls.filter((c) => c[0] === "start")).toHaveLength(12);
    expect(r.outcomes?.every((o) => o.outcome === "resumed")).toBe(true);
    expect(all.some((n) => fs.existsSync(pauseRecordPath(sv.layout, n)))).toBe(false);
    expect([...state.values()].every((s) => s === "RUNNING")).toBe(true);
  });

  it("--dry-run prints the calls of the lanes, and makes none", async () => {
    const { io } = batchIO();
    const r = await controlWorkers(fakeSupervisor(io, many), input({ action: "restart", names: [], all: true, dryRun: true }));
    expect(io.verbs().every((v) => v === "status")).toBe(true);
    expect(r.plan?.supervisorctl).toHaveLength(12);
    expect(r.plan?.supervisorctl.flatMap((c) => c.slice(4))).toEqual(all.map((n) => `${n}:*`));
  });

  it("progress counts workers as lanes end", async () => {
    const { io } = batchIO();
    const seen: string[] = [];
    await controlWorkers(fakeSupervisor(io, many), input({ action: "stop", names: [], all: true, onProgress: (m) => seen.push(m) }));
    expect(seen).toHaveLength(12);
    expect(seen.at(-1)).toBe("20 of 20 worker(s): stop done");
  });
});

describe("restart --rolling of several workers", () => {
  const three = ["a", "b", "c"].map((name) => ({ name, path: "/srv/app", procs: 2 }));

  /** Each worker's two processes; a restart of `fails` errors. Counts restarts in flight, in all and per worker. */
  function rollingIO(fails?: string) {
    const inFlight = new Map<string, number>();
    const most = { all: 0, perWorker: 0 };
    const io = new ScriptedIO((args) => {
      if (args[0] === "restart")
        return args[1] === fails ? { exitCode: 7, output: `${args[1]}: ERROR (spawn error)` } : `${args[1]}: started`;
      const groups = args.length > 1 ? args.slice(1).map((g) => g.replace(/:\*$/u, "")) : ["a", "b", "c"];
      return groups.flatMap((g) => [0, 1].map((i) => running(`${g}:${g}_0${i}`, 10 + i))).join("\n");
    });
    const run = io.run.bind(io);
    io.run = async (config, args, via) => {
      const g = args[0] === "restart" ? (String(args[1]).split(":")[0] as string) : "";
      inFlight.set(g, (inFlight.get(g) ?? 0) + 1);
      if (g) most.perWorker = Math.max(most.perWorker, inFlight.get(g) as number);
      most.all = Math.max(
        most.all,
        [...inFlight].filter(([k]) => k).reduce((t, [, v]) => t + v, 0),
      );
      await new Promise((r) => setImmediate(r));
      try {
        return await run(config, args, via);
      } finally {
        inFlight.set(g, (inFlight.get(g) as number) - 1);
      }
    };
    return { io, most };
  }

  it("one process of a worker at a time, the workers side by side; every worker restarted", async () => {
    const { io, most } = rollingIO();
    const r = await controlWorkers(fakeSupervisor(io, three), input({ action: "restart", mode: "rolling", names: [], all: true }));
    expect(most.perWorker).toBe(1);
    expect(most.all).toBe(3);
    expect(io.calls.filter((c) => c[0] === "restart")).toHaveLength(6);
    expect(r.outcomes).toEqual(["a", "b", "c"].map((worker) => ({ worker, outcome: "restarted" })));
  });

  it("a process that fails stops its worker there; the others are restarted; exit 1 naming both", async () => {
    const { io } = rollingIO("b:b_00");
    const e = await refusal(controlWorkers(fakeSupervisor(io, three), input({ action: "restart", mode: "rolling", names: [], all: true })));
    expect(e.code).toBe("start_failed");
    expect(io.calls.some((c) => c[0] === "restart" && c[1] === "b:b_01")).toBe(false);
    expect(e.details?.outcomes).toEqual([
      { worker: "a", outcome: "restarted" },
      { worker: "b", outcome: "failed", detail: expect.stringMatching(/^rolling restart stopped at b:b_00/u) },
      { worker: "c", outcome: "restarted" },
    ]);
    expect(e.message).toMatch(/1 of 3 worker\(s\) could not be restarted: done: a restarted, c restarted; not done: b/u);
  });
});
