import { describe, expect, it } from "vitest";
import { PROCESS_STATES, type ProcessState, SUBSETS } from "../../src/core/states.js";

// The one vocabulary of process states (src/core/states.ts): every state supervisord reports, in
// every named subset, written out. A change to any subset changes this table on purpose.

const IN = "x";
const TABLE: Record<ProcessState, Record<keyof typeof SUBSETS, string>> = {
  //         UP  STARTING RETRYING ACTIVE GOING_DOWN DOWN UNKNOWN FAILED_START HEALTHY
  STOPPED: { UP: "", STARTING: "", RETRYING: "", ACTIVE: "", GOING_DOWN: "", DOWN: IN, UNKNOWN: "", FAILED_START: IN, HEALTHY: "" },
  STARTING: { UP: "", STARTING: IN, RETRYING: "", ACTIVE: IN, GOING_DOWN: "", DOWN: "", UNKNOWN: "", FAILED_START: "", HEALTHY: IN },
  RUNNING: { UP: IN, STARTING: "", RETRYING: "", ACTIVE: IN, GOING_DOWN: "", DOWN: "", UNKNOWN: "", FAILED_START: "", HEALTHY: IN },
  BACKOFF: { UP: "", STARTING: "", RETRYING: IN, ACTIVE: IN, GOING_DOWN: "", DOWN: "", UNKNOWN: "", FAILED_START: IN, HEALTHY: "" },
  STOPPING: { UP: "", STARTING: "", RETRYING: "", ACTIVE: "", GOING_DOWN: IN, DOWN: "", UNKNOWN: "", FAILED_START: "", HEALTHY: "" },
  EXITED: { UP: "", STARTING: "", RETRYING: "", ACTIVE: "", GOING_DOWN: "", DOWN: IN, UNKNOWN: "", FAILED_START: IN, HEALTHY: "" },
  FATAL: { UP: "", STARTING: "", RETRYING: "", ACTIVE: "", GOING_DOWN: "", DOWN: IN, UNKNOWN: "", FAILED_START: IN, HEALTHY: "" },
  UNKNOWN: { UP: "", STARTING: "", RETRYING: "", ACTIVE: "", GOING_DOWN: "", DOWN: "", UNKNOWN: IN, FAILED_START: IN, HEALTHY: "" },
};

describe("process states: every state in every subset", () => {
  it("the table names every state supervisord reports, and every subset", () => {
    expect(Object.keys(TABLE).sort()).toEqual([...PROCESS_STATES].sort());
    for (const row of Object.values(TABLE)) expect(Object.keys(row).sort()).toEqual(Object.keys(SUBSETS).sort());
  });
  it.each(PROCESS_STATES)("%s", (state) => {
    const actual = Object.fromEntries(Object.entries(SUBSETS).map(([name, s]) => [name, s.has(state) ? IN : ""]));
    expect(actual).toEqual(TABLE[state]);
  });
  it("each state is exactly one of up, starting, retrying, going down, down, unknown", () => {
    for (const state of PROCESS_STATES) {
      const parts = [SUBSETS.UP, SUBSETS.STARTING, SUBSETS.RETRYING, SUBSETS.GOING_DOWN, SUBSETS.DOWN, SUBSETS.UNKNOWN];
      expect(
        parts.filter((p) => p.has(state)),
        state,
      ).toHaveLength(1);
    }
  });
});
