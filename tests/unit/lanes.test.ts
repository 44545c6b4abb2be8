import { describe, expect, it } from "vitest";
import { callInLanes, LANE_BOUND, settleBounded, splitLanes } from "../../src/core/lanes.js";
import type { CtlCall } from "../../src/core/supervisorctl.js";

// src/core/lanes.ts: how a batch is split into lanes and how many run at once. No supervisord:
// the tasks are promises the test resolves, so what is observed is order and overlap, never time.

const names = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`);

/** A task that counts how many run at once and ends when the test lets it. */
function gate() {
  let running = 0;
  let most = 0;
  const waiting: (() => void)[] = [];
  const task = async <T>(value: T): Promise<T> => {
    running++;
    most = Math.max(most, running);
    await new Promise<void>((resolve) => waiting.push(resolve));
    running--;
    return value;
  };
  /** Lets every task that waits now go on, and lets the next ones start. */
  const release = async () => {
    for (const go of waiting.splice(0)) go();
    await new Promise((r) => setImmediate(r));
  };
  return { task, release, most: () => most, waiting: () => waiting.length };
}

describe("splitLanes", () => {
  it.each([
    [0, 8, []],
    [1, 8, [1]],
    [3, 8, [1, 1, 1]],
    [8, 8, [1, 1, 1, 1, 1, 1, 1, 1]],
    [9, 8, [2, 1, 1, 1, 1, 1, 1, 1]],
    [50, 8, [7, 7, 6, 6, 6, 6, 6, 6]],
    [5, 2, [3, 2]],
    [4, 1, [4]],
    [4, 0, [4]],
  ] as const)("%i names, bound %i: lane sizes %j", (n, bound, sizes) => {
    const lanes = splitLanes(names(n), bound);
    expect(lanes.map((l) => l.length)).toEqual(sizes);
    // Every name once, in order.
    expect(lanes.flat()).toEqual(names(n));
  });

  it("the bound is 12 unless told", () => {
    expect(LANE_BOUND).toBe(12);
    expect(splitLanes(names(100))).toHaveLength(12);
  });
});

describe("settleBounded", () => {
  it("never runs more than the bound at once, and runs every item", async () => {
    const g = gate();
    const done = settleBounded(names(20), (n) => g.task(n), 3);
    for (let i = 0; i < 20 && g.waiting() > 0; i++) {
      expect(g.waiting()).toBeLessThanOrEqual(3);
      await g.release();
    }
    const out = await done;
    expect(g.most()).toBe(3);
    expect(out.map((s) => (s.status === "fulfilled" ? s.value : null))).toEqual(names(20));
  });

  it("a failure does not stop the others: each settles, in the order given", async () => {
    const out = await settleBounded(
      [1, 2, 3, 4],
      async (n) => {
        if (n === 2) throw new Error("two");
        return n * 10;
      },
      2,
    );
    expect(out.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect(out[1]?.status === "rejected" && (out[1].reason as Error).message).toBe("two");
  });
});

describe("callInLanes", () => {
  it("one call per lane, each naming its lane; a failed lane is returned with its names; progress counts names", async () => {
    const seen: CtlCall[] = [];
    const progress: string[] = [];
    const lanes = await callInLanes(
      async (c) => {
        seen.push(c);
        if (c.args.includes("w2")) throw new Error("refused");
        return { exitCode: 0, output: c.args.slice(1).join(" ") };
      },
      names(5),
      (lane) => ({ args: ["stop", ...lane] }),
      { bound: 2, onProgress: (d, t) => progress.push(`${d}/${t}`) },
    );
    expect(seen.map((c) => c.args)).toEqual([
      ["stop", "w0", "w1", "w2"],
      ["stop", "w3", "w4"],
    ]);
    expect(lanes[0]?.error).toBeInstanceOf(Error);
    expect(lanes[0]?.items).toEqual(["w0", "w1", "w2"]);
    expect(lanes[1]?.result?.output).toBe("w3 w4");
    expect(progress).toHaveLength(2);
    expect(progress.at(-1)).toBe("5/5");
  });

  it("a single lane reports no progress (one call has nothing to count)", async () => {
    const progress: number[] = [];
    await callInLanes(
      async () => ({ exitCode: 0, output: "" }),
      ["a"],
      (l) => ({ args: l }),
      { onProgress: (d) => progress.push(d) },
    );
    expect(progress).toEqual([]);
  });
});
