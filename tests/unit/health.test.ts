import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { healthVerdict, STARTSECS_MS, waitHealthy } from "../../src/core/health.js";
import { readPrograms } from "../../src/core/programs.js";
import { fakeSupervisor, processStatus, refusal, running, ScriptedIO, statusLine } from "../helpers/scripted.js";

// src/core/health.ts: did the processes come up. On scripted supervisorctl output through the IO
// seam, in virtual time (sleep advances a clock): no supervisord, no real wait.

describe("healthVerdict", () => {
  const s = (state: string, pid?: number) =>
    processStatus(pid ? running(`a:a_0${pid % 10}`, pid) : statusLine("a:a_00", state, state === "FATAL" ? "Exited too quickly" : ""));
  it.each([
    ["all RUNNING", [s("RUNNING", 10)], {}, "up"],
    ["STARTING waits", [s("STARTING")], {}, "wait"],
    ["FATAL fails", [s("FATAL")], {}, "failed"],
    ["BACKOFF beside STARTING waits", [s("BACKOFF"), processStatus(statusLine("a:a_01", "STARTING"))], {}, "wait"],
    ["old pid after graceful waits", [s("RUNNING", 10)], { newerThan: new Map([["a:a_00", 10]]) }, "wait"],
    ["new pid after graceful is up", [s("RUNNING", 20)], { newerThan: new Map([["a:a_00", 10]]) }, "up"],
    [
      "EXITED during graceful waits",
      [processStatus(statusLine("a:a_00", "EXITED", "Nov 24"))],
      { newerThan: new Map([["a:a_00", 10]]) },
      "wait",
    ],
  ] as const)("%s", (_l, procs, opts, want) => expect(healthVerdict([...procs], opts as never).verdict).toBe(want));
});

describe("waitHealthy", () => {
  it("polls until every process is RUNNING, the first time once startsecs have passed", async () => {
    let n = 0;
    const at: number[] = [];
    const io = new ScriptedIO((_args, self) => {
      at.push(self.clock);
      return ++n < 3 ? statusLine("a:a_00", "STARTING") : running("a:a_00", 10);
    });
    const sv = fakeSupervisor(io, [{ name: "a", path: "/srv/app" }]);
    const procs = await waitHealthy(sv, readPrograms(sv.layout), ["a"]);
    expect(procs.map((p) => p.pid)).toEqual([10]);
    expect(io.calls).toEqual([
      ["status", "a:*"],
      ["status", "a:*"],
      ["status", "a:*"],
    ]);
    // Nothing just started can be RUNNING before startsecs (1 s): no status call is spent on it.
    expect(at).toEqual([STARTSECS_MS, STARTSECS_MS + 250, STARTSECS_MS + 500]);
  });

  it("reports FATAL with the spawn error, the log tail, and the worker to start again", async () => {
    const io = new ScriptedIO(() => statusLine("a:a_00", "FATAL", "Exited too quickly (process log may have details)"));
    const sv = fakeSupervisor(io, [{ name: "a", path: "/srv/app" }]);
    fs.writeFileSync(`${sv.layout.logDir}/a_00.log`, "PHP Fatal error: boom\n");
    const e = await refusal(waitHealthy(sv, readPrograms(sv.layout), ["a"]));
    expect(e.code).toBe("start_failed");
    expect(e.details?.workers).toEqual(["a"]);
    expect(e.details?.failures).toEqual([
      { process: "a:a_00", state: "FATAL", error: "Exited too quickly (process log may have details)", log: ["PHP Fatal error: boom"] },
    ]);
  });

  it("gives up after its bound (virtual time), naming what is still not running", async () => {
    const io = new ScriptedIO(() => statusLine("a:a_00", "STARTING"));
    const sv = fakeSupervisor(io, [{ name: "a", path: "/srv/app" }]);
    const e = await refusal(waitHealthy(sv, readPrograms(sv.layout), ["a"], { timeoutSeconds: 10 }));
    expect(e.message).toMatch(/still not running after 10s/u);
    expect(io.clock).toBe(10_000);
  });

  it("a group supervisord has not loaded fails at once", async () => {
    const io = new ScriptedIO(() => ({ exitCode: 4, output: "a: ERROR (no such group)" }));
    const sv = fakeSupervisor(io, [{ name: "a", path: "/srv/app" }]);
    expect((await refusal(waitHealthy(sv, readPrograms(sv.layout), ["a"]))).message).toMatch(/has not loaded a/u);
  });
});
