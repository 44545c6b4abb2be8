import { describe, expect, it } from "vitest";
import { poll } from "../../src/core/poll.js";
import { ScriptedIO } from "../helpers/scripted.js";

// src/core/poll.ts: the one poll loop, on the seam's clock. ScriptedIO's sleep advances a virtual
// clock at once: nothing here waits, and nothing depends on the machine's speed.

/**
 * A step that answers `values` in turn (undefined: not yet), recording the clock and timedOut of
 * each call; past 100 calls it throws, so a poll that would never stop fails instead of hanging.
 */
function steps<T>(io: ScriptedIO, values: (T | undefined)[]) {
  const seen: [number, boolean][] = [];
  const step = (timedOut: boolean): T | undefined => {
    if (seen.length === 100) throw new Error("the poll does not stop");
    seen.push([io.clock, timedOut]);
    return values[seen.length - 1];
  };
  return { step, seen };
}

describe("poll", () => {
  it("returns the first value, sleeping the interval between calls", async () => {
    const io = new ScriptedIO(() => "");
    const { step, seen } = steps(io, [undefined, undefined, "up"]);
    await expect(poll(io, { timeoutMs: 10_000, intervalMs: 250 }, step)).resolves.toBe("up");
    expect(seen).toEqual([
      [0, false],
      [250, false],
      [500, false],
    ]);
    expect(io.slept).toBe(500);
  });

  it("at the deadline (no sleep runs past it), calls the step once more with timedOut, and returns what it says", async () => {
    const io = new ScriptedIO(() => "");
    const { step, seen } = steps(io, [undefined, undefined, undefined, undefined, "gave up"]);
    await expect(poll(io, { timeoutMs: 1000, intervalMs: 300 }, step)).resolves.toBe("gave up");
    expect(seen).toEqual([
      [0, false],
      [300, false],
      [600, false],
      [900, false],
      [1000, true],
    ]);
  });

  it("a step that has nothing to say at the deadline is an error, and nothing sleeps after it", async () => {
    const io = new ScriptedIO(() => "");
    const { step, seen } = steps<string>(io, []);
    await expect(poll(io, { timeoutMs: 1000, intervalMs: 500 }, step)).rejects.toThrow(/step returned nothing after the deadline/u);
    expect(seen.map(([, timedOut]) => timedOut)).toEqual([false, false, true]);
    expect(io.clock).toBe(1000);
  });

  it("with no time at all, asks once, already timed out", async () => {
    const io = new ScriptedIO(() => "");
    const { step, seen } = steps(io, [false]);
    await expect(poll(io, { timeoutMs: 0, intervalMs: 100 }, step)).resolves.toBe(false);
    expect(seen).toEqual([[0, true]]);
    expect(io.slept).toBe(0);
  });

  it.each([false, null, 0, ""])("%j is an answer: only undefined means not yet", async (value) => {
    const io = new ScriptedIO(() => "");
    const { step, seen } = steps(io, [value]);
    await expect(poll(io, { timeoutMs: 1000, intervalMs: 100 }, step)).resolves.toBe(value);
    expect(seen).toHaveLength(1);
  });

  it("the deadline counts from the clock when the poll starts", async () => {
    const io = new ScriptedIO(() => "");
    io.clock = 50_000;
    const { step, seen } = steps(io, [undefined, undefined, "done"]);
    await poll(io, { timeoutMs: 200, intervalMs: 100 }, step);
    expect(seen).toEqual([
      [50_000, false],
      [50_100, false],
      [50_200, true],
    ]);
  });

  it("an async step is awaited; one that throws ends the poll with its error", async () => {
    const io = new ScriptedIO(() => "");
    let calls = 0;
    const step = async () => {
      if (++calls === 2) throw new Error("status failed");
      return undefined;
    };
    await expect(poll(io, { timeoutMs: 10_000, intervalMs: 100 }, step)).rejects.toThrow("status failed");
    expect(calls).toBe(2);
    expect(io.slept).toBe(100);
  });

  it("without a bound (a shutdown waits out every stopwaitsecs), it is never timed out", async () => {
    const io = new ScriptedIO(() => "");
    const seen: boolean[] = [];
    const r = await poll(io, { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 100 }, (timedOut) => {
      seen.push(timedOut);
      return seen.length === 5000 ? "gone" : undefined;
    });
    expect(r).toBe("gone");
    expect(seen.includes(true)).toBe(false);
    expect(io.clock).toBe(499_900);
  });
});
