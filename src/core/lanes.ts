import type { CtlResult } from "./ctl-io.js";
import type { CtlCall } from "./supervisorctl.js";

// Many workers at the cost of one. supervisorctl's start, stop and restart wait for each group
// named in turn (supervisord's 1-second tick and startsecs, for every group), so naming fifty
// groups in one call costs fifty waits. Several calls at once wait together: the names are split
// into lanes, one call each, run side by side. A lane is a Python process (~0.17 s CPU to start,
// ~30 MB) that then sleeps on supervisord's socket, so the bound is on processes, not CPU: 12 at
// once cost a 2-core host about one second of both cores to start and ~360 MB at most, and bring
// 50 restarts from 50 waits in turn to 5. Measured on 50 workers (docs/performance.md): 8 lanes
// restart them in 13.1 s, 10 in 11.5 s, 12 in 9.6 s, 16 in 7.9 s: 12 is where more lanes stop
// paying for the processes they cost.
/** How many supervisorctl calls a batch runs at once. */
export const LANE_BOUND = 12;

/** The items in at most `bound` lanes of consecutive items, in order, their sizes differing by one at most. Pure. */
export function splitLanes<T>(items: readonly T[], bound = LANE_BOUND): T[][] {
  const n = Math.min(Math.max(1, Math.floor(bound)), items.length);
  const lanes: T[][] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor(items.length / n) + (i < items.length % n ? 1 : 0);
    lanes.push(items.slice(at, at + size));
    at += size;
  }
  return lanes;
}

/** One lane's end: supervisorctl's answer, or why the call failed. Never both. */
export interface LaneOutcome<T> {
  readonly items: readonly T[];
  readonly result?: CtlResult;
  readonly error?: unknown;
}

/**
 * Runs `task` on each item, at most `bound` at once, each to its end whatever another's fate (a
 * failure in one lane never abandons the others half done). Settles in the order given.
 */
export async function settleBounded<T, R>(
  items: readonly T[],
  task: (item: T) => Promise<R>,
  bound = LANE_BOUND,
): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { status: "fulfilled", value: await task(items[i] as T) };
      } catch (reason) {
        out[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, Math.floor(bound)), items.length) }, worker));
  return out;
}

/**
 * One call per lane of names (`build` makes it), at most `bound` at once. `onProgress` hears
 * "N of M" as lanes end (N: names whose lane has ended). Every lane's outcome is returned.
 */
export async function callInLanes(
  run: (c: CtlCall) => Promise<CtlResult>,
  names: readonly string[],
  build: (lane: string[]) => CtlCall,
  opts: { bound?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<LaneOutcome<string>[]> {
  const lanes = splitLanes(names, opts.bound);
  let done = 0;
  const settled = await settleBounded(
    lanes,
    async (lane) => {
      try {
        return await run(build(lane));
      } finally {
        done += lane.length;
        // Only when there is more than one lane: a single call has nothing to count.
        if (lanes.length > 1) opts.onProgress?.(done, names.length);
      }
    },
    opts.bound,
  );
  return settled.map((s, i) => {
    const items = lanes[i] as string[];
    return s.status === "fulfilled" ? { items, result: s.value } : { items, error: s.reason };
  });
}
