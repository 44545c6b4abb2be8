import { VexoError } from "../errors.js";
import { tailLines, tailLinesSince } from "./logs.js";
import { poll } from "./poll.js";
import type { ProcessGroup } from "./programs.js";
import { FAILED_START, STARTING, UP } from "./states.js";
import type { SupervisordClient } from "./supervisorctl.js";
import type { ProcessFailure, ProcessStatus } from "./results.js";

// Did the processes come up? The wait after add, start and restart, and the failure report
// (supervisord's spawn error plus the last lines of each failed process's log).

/** How a log line written before this start is marked in a failure report. */
export const OLDER = "(before this start) ";

/**
 * The last lines of a process's log for a failure report: those written since `since` was taken,
 * and, when fewer than ten were, the lines before them marked OLDER. A worker that was already
 * failing (BACKOFF before `start`) may write nothing new, and its report must still show why.
 */
function logTail(entries: ProcessGroup[], p: ProcessStatus, since?: Map<string, number>): string[] {
  const log = entries.flatMap((e) => e.processes).find((x) => x.namespec === p.fullName)?.stdoutLogfile;
  const file = log?.kind === "file" ? log.path : undefined;
  if (!file) return [];
  try {
    const fresh = tailLinesSince(file, 10, since?.get(file) ?? 0);
    if (fresh.length >= 10 || !since?.has(file)) return fresh;
    const all = tailLines(file, 10);
    return [...all.slice(0, Math.max(0, all.length - fresh.length)).map((l) => `${OLDER}${l}`), ...fresh];
  } catch (e) {
    // A log that cannot be read safely (a planted symlink, a FIFO) is not read: say so instead.
    return [`(log not read: ${(e as Error).message})`];
  }
}

/** Processes that failed to start: the error and the log lines, as the exit-1 error. */
export function startFailure(entries: ProcessGroup[], failed: ProcessStatus[], how: string, since?: Map<string, number>): VexoError {
  const failures: ProcessFailure[] = failed.map((p) => ({
    process: p.fullName,
    state: p.state,
    error: p.description || p.state,
    log: logTail(entries, p, since),
  }));
  const lines = failures.map((f) => `${f.process} ${f.state}: ${f.error}${f.log.length ? `\n    ${f.log.join("\n    ")}` : ""}`);
  return new VexoError("start_failed", `${how}: ${failures.length} process(es) failed to start\n  ${lines.join("\n  ")}`, {
    details: { failures, workers: [...new Set(failed.map((p) => p.group))] },
  });
}

export interface HealthOptions {
  timeoutSeconds?: number;
  /** Pids before a graceful restart: a process still showing one of them has not restarted yet. */
  newerThan?: Map<string, number | null>;
  /** Log sizes before the start (logSizes): a failure report shows only what was written since. */
  since?: Map<string, number>;
}

/** What one status poll says: every process up, a failure to report, or keep waiting. */
export function healthVerdict(procs: ProcessStatus[], opts: HealthOptions): { verdict: "up" | "failed" | "wait"; failed: ProcessStatus[] } {
  const fresh = (p: ProcessStatus) => !opts.newerThan || p.pid === null || opts.newerThan.get(p.fullName) !== p.pid;
  // After a graceful restart, EXITED is the moment between the old process and the new one.
  const failed = procs.filter((p) => FAILED_START.has(p.state) && !(p.state === "EXITED" && opts.newerThan));
  // A retry (BACKOFF) would turn into STARTING again, but it already failed once; FATAL/EXITED are final. Report once nothing is mid-start.
  if (failed.length > 0 && procs.every((p) => !STARTING.has(p.state))) return { verdict: "failed", failed };
  if (procs.length > 0 && procs.every((p) => UP.has(p.state) && fresh(p))) return { verdict: "up", failed };
  return { verdict: "wait", failed };
}

/**
 * supervisord's default startsecs: no process it has just started can be RUNNING sooner, so a
 * status call before then would only cost a Python start.
 */
export const STARTSECS_MS = 1000;

/** The startsecs of the named groups (a worker's spec; supervisord's default for the rest), lowest and highest, in ms. */
function startsecsOf(entries: ProcessGroup[], names: string[]): { least: number; most: number } {
  const ms = names.map((n) => (entries.find((e) => e.name === n)?.spec?.startsecs ?? 1) * 1000);
  return ms.length === 0 ? { least: STARTSECS_MS, most: STARTSECS_MS } : { least: Math.min(...ms), most: Math.max(...ms) };
}

/**
 * How often to ask while waiting: four times a second at first (a start takes startsecs), then
 * less often, so a graceful restart waiting for an hour-long job does not start supervisorctl
 * (a Python start each time) 14,400 times.
 */
export const pollInterval = (elapsedMs: number): number => (elapsedMs < 10_000 ? 250 : elapsedMs < 60_000 ? 1000 : 5000);

/**
 * Waits until every process of the groups is RUNNING (supervisord only says RUNNING once a
 * process has lived past startsecs) or one has failed; polls `status` at a modest pace, the
 * first time once startsecs have passed.
 */
export async function waitHealthy(
  sv: SupervisordClient,
  entries: ProcessGroup[],
  names: string[],
  opts: HealthOptions = {},
): Promise<ProcessStatus[]> {
  // A minute past the longest startsecs of the workers awaited (a worker's own --startsecs, up to 600 s).
  const starts = startsecsOf(entries, names);
  const seconds = opts.timeoutSeconds ?? 60 + starts.most / 1000;
  await sv.io.sleep(starts.least);
  return poll(sv.io, { timeoutMs: seconds * 1000 - starts.least, intervalMs: pollInterval }, async (timedOut) => {
    const procs = await sv.status(names);
    if (procs.length === 0) throw startFailure(entries, [], `supervisord has not loaded ${names.join(", ")}`, opts.since);
    const { verdict, failed } = healthVerdict(procs, opts);
    if (verdict === "up") return procs;
    if (verdict === "failed") throw startFailure(entries, failed, "not running", opts.since);
    if (!timedOut) return undefined;
    const bad = procs.filter((p) => !UP.has(p.state));
    if (bad.length > 0 || !opts.newerThan)
      throw startFailure(entries, bad.length ? bad : procs, `still not running after ${seconds}s`, opts.since);
    // Every process runs, but some are still the ones signalled: their job outlasted the bound.
    const old = procs.filter((p) => p.pid !== null && opts.newerThan?.get(p.fullName) === p.pid);
    throw startFailure(entries, old, `still the process from before the restart after ${seconds}s (finishing a job?)`, opts.since);
  });
}
