import { describe, expect, it } from "vitest";
import { isPaused } from "../../src/core/pause.js";
import { processStatus, running, statusLine } from "../helpers/scripted.js";

// src/core/pause.ts: whether a pause record still holds, from the processes as supervisorctl reports them.

describe("isPaused", () => {
  const rec = (supervisordPid: number | null = 1) => ({ at: "2026-01-01T00:00:00.000Z", supervisordPid });
  const st = (state: string, n = 0) =>
    processStatus(state === "RUNNING" ? running(`a:a_0${n}`, 10 + n) : statusLine(`a:a_0${n}`, state, "Nov 24 08:33 AM"));
  it.each([
    ["no pause recorded", null, [st("STOPPED")], 1, false],
    ["recorded, every process stopped", rec(), [st("STOPPED"), st("EXITED", 1)], 1, true],
    ["recorded, but a process was started since", rec(), [st("STOPPED"), st("RUNNING", 1)], 1, false],
    ["recorded, a process STARTING", rec(), [st("STARTING")], 1, false],
    ["recorded under a supervisord that has since restarted", rec(1), [st("STOPPED")], 2, false],
    ["recorded with the supervisord unknown", rec(null), [st("STOPPED")], 2, true],
    ["no processes at all (not loaded)", rec(), [], 1, false],
  ] as const)("%s", (_l, record, procs, svPid, want) => expect(isPaused(record, [...procs], svPid)).toBe(want));
});
