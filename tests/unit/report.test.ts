import { describe, expect, it } from "vitest";
import { groupState, joinStatus, listWorkers, problemsOf, statusReport } from "../../src/core/report.js";
import type { ProcessState } from "../../src/core/states.js";
import { parseStatus } from "../../src/core/supervisorctl.js";
import { fakeSupervisor, processGroup, running, ScriptedIO, statusLine } from "../helpers/scripted.js";

// src/core/report.ts: worker ls and status, a worker's state from its processes, and its problems.

describe("groupState", () => {
  it.each([
    [["RUNNING", "RUNNING"], 2, "running"],
    [["RUNNING", "STARTING"], 2, "partial"],
    [["RUNNING", "FATAL"], 2, "fatal"],
    [["STOPPED", "EXITED"], 2, "stopped"],
    [["RUNNING"], 2, "partial"],
    [[], 1, "unknown"],
    [["BACKOFF"], 1, "backoff"],
    // None running: a crash loop, never "partial" (that is some running, some not).
    [["BACKOFF", "BACKOFF"], 2, "backoff"],
    [["BACKOFF", "STARTING"], 2, "backoff"],
    [["BACKOFF", "STOPPED"], 2, "backoff"],
    [["RUNNING", "BACKOFF"], 2, "partial"],
    [["BACKOFF", "FATAL"], 2, "fatal"],
  ] as const)("%j of %i -> %s", (states, n, want) => {
    expect(groupState([...states], n)).toBe(want);
  });
});

describe("a worker's state from its processes", () => {
  it.each([
    [["RUNNING", "RUNNING"], 2, "running"],
    [["RUNNING", "STARTING"], 2, "partial"],
    [["STARTING", "STARTING", "STARTING"], 3, "starting"], // was "partial 0/3" (issue 25)
    [["STARTING", "BACKOFF"], 2, "backoff"],
    [["STOPPING"], 1, "stopping"],
    [["STOPPING", "STOPPED"], 2, "stopping"],
    [["STOPPED", "EXITED"], 2, "stopped"],
    [["RUNNING", "FATAL"], 2, "fatal"],
    [["RUNNING"], 2, "partial"],
    [[], 1, "unknown"],
  ] as [ProcessState[], number, string][])("%j of %i: %s", (states, expected, state) => {
    expect(groupState(states, expected)).toBe(state);
  });
});

describe("joinStatus and problemsOf", () => {
  const entries = [processGroup("hand", false), processGroup("b", true, 2), processGroup("a")];
  const statuses = parseStatus(
    [running("a:a_00", 5), running("b:b_00", 6), statusLine("b:b_01", "BACKOFF", "Exited too quickly"), running("hand", 7)].join("\n"),
  );

  it("managed first, sorted, with states from their processes", () => {
    const w = joinStatus(entries, statuses);
    expect(w.map((x) => [x.name, x.state, x.running, x.total])).toEqual([
      ["a", "running", 1, 1],
      ["b", "partial", 1, 2],
      ["hand", "running", 1, 1],
    ]);
  });

  it("unreachable: every state unknown, loaded unknown", () => {
    expect(joinStatus(entries, null).map((x) => [x.state, x.loaded])).toEqual([
      ["unknown", null],
      ["unknown", null],
      ["unknown", null],
    ]);
  });

  it("a recorded pause with its processes stopped is paused and healthy; running again, it is not", () => {
    const stopped = parseStatus(statusLine("a:a_00", "STOPPED", "Nov 24 08:33 AM"));
    const record = new Map([["a", { at: "2026-01-01T00:00:00.000Z", supervisordPid: 7 }]]);
    const w = joinStatus([processGroup("a")], stopped, record, 7);
    expect(w[0]?.state).toBe("paused");
    expect(problemsOf(w[0] as never)).toEqual([]);
    expect(joinStatus([processGroup("a")], statuses, record, 7)[0]?.state).toBe("running");
    expect(problemsOf(joinStatus([processGroup("a")], stopped)[0] as never)).toEqual(["a:a_00: STOPPED (Nov 24 08:33 AM)"]);
  });

  it("STARTING (a process recycled by --max-time) is healthy; BACKOFF is not", () => {
    const w = joinStatus(
      [processGroup("a", true, 2)],
      parseStatus([statusLine("a:a_00", "STARTING"), statusLine("a:a_01", "BACKOFF", "Exited too quickly")].join("\n")),
    );
    expect(problemsOf(w[0] as never)).toEqual(["a:a_01: BACKOFF (Exited too quickly)"]);
  });

  it("every process in BACKOFF (0 of 2 running) is backoff in ls and status, not partial, and unhealthy", async () => {
    const io = new ScriptedIO((args) =>
      args[0] === "version"
        ? "4.2.5"
        : [
            statusLine("a:a_00", "BACKOFF", "Exited too quickly (process log may have details)"),
            statusLine("a:a_01", "BACKOFF", "Exited too quickly (process log may have details)"),
          ].join("\n"),
    );
    const sv = fakeSupervisor(io, [{ name: "a", path: "/srv/app", procs: 2 }]);
    const ls = await listWorkers(sv);
    expect(ls.workers.map((w) => [w.name, w.state, w.running, w.total])).toEqual([["a", "backoff", 0, 2]]);
    const st = await statusReport(sv);
    expect(st.workers[0]?.state).toBe("backoff");
    expect(st.healthy).toBe(false);
    expect(st.problems).toEqual([
      "a:a_00: BACKOFF (Exited too quickly (process log may have details))",
      "a:a_01: BACKOFF (Exited too quickly (process log may have details))",
    ]);
  });

  it("a file supervisord has not loaded is a problem; a hand-written program never is", () => {
    const w = joinStatus([processGroup("c"), processGroup("hand", false)], parseStatus(statusLine("hand", "FATAL", "x")));
    expect(w.map((x) => problemsOf(x))).toEqual([["c: not loaded by supervisord"], []]);
  });

  it("names each process that is not RUNNING, and missing processes", () => {
    const w = joinStatus([processGroup("b", true, 3)], statuses);
    expect(problemsOf(w[0] as never)).toEqual(["b:b_01: BACKOFF (Exited too quickly)", "b: 2 of 3 processes exist"]);
  });
});
