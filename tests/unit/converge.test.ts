import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { convergeRunning, previewRunning, runAction } from "../../src/core/converge.js";
import { pauseRecordPath } from "../../src/core/records.js";
import type { ProcessStatus } from "../../src/core/results.js";
import { PROCESS_STATES, type ProcessState } from "../../src/core/states.js";
import { parseStatus } from "../../src/core/supervisorctl.js";
import { fakeSupervisor, running, ScriptedIO, statusLine } from "../helpers/scripted.js";

// What an unchanged worker needs to run (src/core/converge.ts), on scripted status output.

const procs = (...states: ProcessState[]): ProcessStatus[] =>
  parseStatus(states.map((s, i) => statusLine(`w:w_0${i}`, s, s === "RUNNING" ? `pid ${100 + i}, uptime 0:00:05` : "")).join("\n"));

describe("runAction: every supervisord state", () => {
  const expected: Record<ProcessState, "unchanged" | "started" | "waited"> = {
    RUNNING: "unchanged",
    STOPPED: "started",
    EXITED: "started",
    FATAL: "started",
    STARTING: "waited",
    BACKOFF: "waited",
    STOPPING: "waited",
    UNKNOWN: "waited",
  };
  it.each(PROCESS_STATES.map((s) => [s, expected[s]] as const))("one process %s: %s", (state, action) => {
    expect(runAction(procs(state))).toBe(action);
  });
  it.each([
    [["RUNNING", "STOPPED"], "started"],
    [["STARTING", "FATAL"], "started"],
    [["RUNNING", "STARTING"], "waited"],
    [["RUNNING", "RUNNING"], "unchanged"],
  ] as [ProcessState[], string][])("%j: %s", (states, action) => {
    expect(runAction(procs(...states))).toBe(action);
  });
  it("not loaded at all: waited (the health wait reports it)", () => {
    expect(runAction([])).toBe("waited");
  });
});

describe("convergeRunning", () => {
  const status = (lines: Record<string, string>) => (args: string[]) =>
    args[0] === "status"
      ? args
          .slice(1)
          .map((g) => lines[g.replace(/:\*$/u, "")] ?? "")
          .filter((l) => l !== "")
          .join("\n")
      : "";

  it("starts the stopped workers in one call, waits on the starting ones, leaves running ones alone", async () => {
    const io = new ScriptedIO(
      status({ a: running("a:a_00", 10), b: statusLine("b:b_00", "STOPPED", "Not started"), c: statusLine("c:c_00", "STARTING") }),
    );
    const sv = fakeSupervisor(io);
    const r = await convergeRunning(sv, ["a", "b", "c"], { wait: true, start: true });
    expect(Object.fromEntries(r)).toEqual({ a: "unchanged", b: "started", c: "waited" });
    expect(io.calls).toEqual([
      ["status", "a:*", "b:*", "c:*"],
      ["start", "b:*"],
    ]);
  });

  it("a paused worker is left alone; without start (a dry run) nothing but status runs; without wait nobody waits", async () => {
    const io = new ScriptedIO(status({ p: statusLine("p:p_00", "STOPPED", "Dec 07 02:00 AM"), s: statusLine("s:s_00", "STARTING") }));
    const sv = fakeSupervisor(io);
    fs.mkdirSync(path.dirname(pauseRecordPath(sv.layout, "p")), { recursive: true });
    fs.writeFileSync(pauseRecordPath(sv.layout, "p"), `${JSON.stringify({ at: "2026-12-07T02:00:00Z", supervisordPid: null })}\n`);
    const dry = await convergeRunning(sv, ["p", "s"], { wait: false, start: false });
    expect(Object.fromEntries(dry)).toEqual({ p: "unchanged", s: "unchanged" });
    expect(io.verbs()).toEqual(["status"]);
  });

  it("names nothing: no call at all", async () => {
    const io = new ScriptedIO(() => "");
    expect((await convergeRunning(fakeSupervisor(io), [], { wait: true, start: true })).size).toBe(0);
    expect(io.calls).toEqual([]);
  });
});

describe("previewRunning (a dry run)", () => {
  it("supervisord unreachable: nothing known, said so in a warning, never a silent 'unchanged'", async () => {
    // What supervisorctl prints when supervisord's socket is gone.
    const io = new ScriptedIO(() => ({ exitCode: 4, output: "unix:///tmp/vx/supervisor.sock no such file" }));
    const r = await previewRunning(fakeSupervisor(io), ["a"], true);
    expect(r.actions.size).toBe(0);
    expect(r.warning).toMatch(/^whether a run is not known \(supervisord is not running or not reachable/u);
    expect(io.verbs()).toEqual(["status"]);
  });
  it("reachable: the same answer as convergeRunning, nothing started, no warning", async () => {
    const io = new ScriptedIO((args) => (args[0] === "status" ? statusLine("a:a_00", "STOPPED", "Not started") : ""));
    const r = await previewRunning(fakeSupervisor(io), ["a"], true);
    expect(Object.fromEntries(r.actions)).toEqual({ a: "started" });
    expect(r.warning).toBeUndefined();
    expect(io.verbs()).toEqual(["status"]);
  });
});
