import { type Layout } from "./layout.js";
import type { ProcessGroup } from "./programs.js";
import { isPaused } from "./pause.js";
import { type PauseRecord, pauseRecords } from "./records.js";
import { DOWN, GOING_DOWN, HEALTHY, type ProcessState, RETRYING, STARTING, UP } from "./states.js";
import { VexoError } from "../errors.js";
import { exitsText, windowWords } from "./exit-words.js";
import { DEFAULT_WINDOW_SECONDS, lookAround, observe } from "./observe.js";
import { type SupervisordClient, calls, parseStatus, refusedInOutput, unreachableError, unreachableReason } from "./supervisorctl.js";
import { supervisordPid } from "./supervisord.js";
import { shownPath } from "./trust.js";
import type { ListResult, ProcessStatus, ShowResult, StatusResult, WorkerInfo, WorkerState } from "./results.js";

// The two read-only reports: `worker ls` (every program with its state) and `status`
// (supervisord, every process, and a health verdict). One supervisorctl status call each.

/**
 * One word for a group from its processes' states (states.ts). `partial` means some run and
 * some do not. With none running: one retrying is `backoff` (a crash loop: FATAL once
 * startretries are spent), else one starting is `starting`, else one going down is `stopping`.
 */
export function groupState(states: ProcessState[], expected: number): WorkerState {
  if (states.length === 0) return "unknown";
  if (states.some((s) => s === "FATAL")) return "fatal";
  const running = states.filter((s) => UP.has(s)).length;
  if (running === states.length && running >= expected) return "running";
  if (states.every((s) => DOWN.has(s))) return "stopped";
  if (running > 0) return "partial";
  if (states.some((s) => RETRYING.has(s))) return "backoff";
  if (states.some((s) => STARTING.has(s))) return "starting";
  if (states.some((s) => GOING_DOWN.has(s))) return "stopping";
  return "partial";
}

function stateOf(e: ProcessGroup, procs: ProcessStatus[] | null, paused: PauseRecord | null, svPid: number | null): WorkerState {
  if (procs === null) return "unknown";
  if (isPaused(paused, procs, svPid)) return "paused";
  return groupState(
    procs.map((p) => p.state),
    e.numprocs,
  );
}

/** Joins program files and `supervisorctl status` (null: unreachable); pure. */
export function joinStatus(
  entries: ProcessGroup[],
  statuses: ProcessStatus[] | null,
  paused: Map<string, PauseRecord> = new Map(),
  svPid: number | null = null,
): WorkerInfo[] {
  // Indexed once: 1,000 workers must not mean 1,000 scans of 1,000 status lines.
  const byName = new Map((statuses ?? []).map((s) => [s.fullName, s]));
  return entries
    .map((e) => {
      const procs = e.processes.flatMap((p) => byName.get(p.namespec) ?? []);
      const info: WorkerInfo = {
        name: e.name,
        managed: e.managed,
        file: e.file,
        state: stateOf(e, statuses === null ? null : procs, paused.get(e.name) ?? null, svPid),
        loaded: statuses === null ? null : procs.length > 0,
        running: statuses === null ? null : procs.filter((p) => UP.has(p.state)).length,
        total: e.numprocs,
        // Not observed yet (observe.ts): not known.
        processes: procs.map((p) => ({ ...p, startedAt: null, rssBytes: null, cpuSeconds: null, cwd: null, stale: null, exits: null })),
        stale: null,
        exits: null,
        spec: e.spec,
        logs: e.logs,
      };
      if (e.parseError) info.parseError = e.parseError;
      return info;
    })
    .sort((a, b) => Number(b.managed) - Number(a.managed) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface ListOptions {
  /** The window exits are counted over. */
  windowSeconds?: number;
}

/**
 * supervisorctl's answer to `status`: the processes, or null when supervisord could not be
 * reached (why). Any other error of supervisorctl's own (a config it cannot use) is thrown: it
 * never becomes a list of states.
 */
function statusAnswer(sv: SupervisordClient, st: { exitCode: number; output: string }): { statuses: ProcessStatus[] | null; why?: string } {
  const why = unreachableReason(st.output);
  if (why) return { statuses: null, why };
  const statuses = parseStatus(st.output);
  // `status NAME:*` of a group supervisord has not loaded: no process, not an error.
  if (statuses.length === 0 && refusedInOutput(st.output).length > 0) return { statuses };
  // 0: all running; 3: some not running (supervisorctl's LSB codes). Anything else with no process line is its error.
  if (st.exitCode !== 0 && st.exitCode !== 3 && statuses.length === 0 && st.output.trim() !== "") {
    throw sv.failure(st.output, calls.status());
  }
  return { statuses };
}

/** Lists every program in the include directory with its live state, in one status call. */
export async function listWorkers(sv: SupervisordClient, opts: ListOptions = {}): Promise<ListResult> {
  return (await readList(sv, opts)).list;
}

/** The list, and why supervisord could not be asked (undefined when it answered). */
async function readList(sv: SupervisordClient, opts: ListOptions): Promise<{ list: ListResult; why: string | undefined }> {
  const layout: Layout = sv.layout;
  // Start supervisorctl first so its start-up overlaps with reading the files.
  const statusP = sv.run(calls.status());
  let entries: ProcessGroup[];
  try {
    entries = sv.world.programs();
  } catch (e) {
    statusP.catch(() => undefined); // this error is the one to report
    throw e;
  }
  const windowSeconds = opts.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const svPid = supervisordPid(layout);
  // Read while supervisorctl runs: its answer is what takes longest.
  const sight = lookAround(sv.world, entries, svPid, {
    windowSeconds,
    now: sv.io.now(),
    supervisordUid: sv.machine.supervisordUid(layout),
  });
  const { statuses, why } = statusAnswer(sv, await statusP);
  const joined = joinStatus(entries, statuses, pauseRecords(layout), svPid);
  const seen = observe(sv.world, joined, sight);
  const list: ListResult = {
    config: layout.config,
    confDir: layout.confDir,
    reachable: statuses !== null,
    workers: seen.workers,
    exitsWindowSeconds: windowSeconds,
    exitsNote: seen.exitsNote,
    warnings: why
      ? [`supervisord ${/permission denied/iu.test(why) ? "cannot be asked" : "is not reachable"} (${why}); states are unknown`]
      : [],
  };
  return { list, why };
}

export interface HealthOptions {
  /** More unexpected exits than this within the window is a crash loop. */
  maxExits: number;
  /** Stale workers are reported without failing the check. */
  allowStale: boolean;
  windowSeconds: number;
}

/** More than 5 unexpected exits in the last hour: a worker that leaks or crashes every ~10 minutes. */
export const DEFAULT_MAX_EXITS = 5;
const DEFAULT_HEALTH: HealthOptions = { maxExits: DEFAULT_MAX_EXITS, allowStale: false, windowSeconds: DEFAULT_WINDOW_SECONDS };

/** The problems that are not about a process's state: a crash loop (exits in the window), stale code. */
function historyProblems(w: WorkerInfo, h: HealthOptions): string[] {
  const out: string[] = [];
  if (w.exits && w.exits.unexpected > h.maxExits) {
    out.push(
      `${w.name}: ${w.exits.unexpected} unexpected exits in the last ${windowWords(h.windowSeconds)} (${exitsText(w.exits)}), more than ${h.maxExits}: a crash loop`,
    );
  }
  if (w.stale && !h.allowStale) {
    const old = w.processes.find((p) => p.stale)?.cwd;
    out.push(`${w.name}: runs stale code (started in ${old ? shownPath(old) : "?"}; its path now resolves elsewhere): restart it`);
  }
  return out;
}

/**
 * Health of one managed worker's processes, as lines naming what is wrong. STARTING is healthy:
 * a process recycled by --max-time or --max-jobs starts again for a second; a crash loop shows
 * BACKOFF, then FATAL, or (each run living past startsecs) as unexpected exits in the window.
 */
export function problemsOf(w: WorkerInfo, h: HealthOptions = DEFAULT_HEALTH): string[] {
  if (!w.managed || w.state === "paused") return [];
  if (w.loaded === false) return [`${w.name}: not loaded by supervisord`];
  const out = w.processes
    .filter((p) => !HEALTHY.has(p.state))
    .map((p) => `${p.fullName}: ${p.state}${p.description ? ` (${p.description})` : ""}`);
  if (w.processes.length > 0 && w.processes.length < w.total) out.push(`${w.name}: ${w.processes.length} of ${w.total} processes exist`);
  return [...out, ...historyProblems(w, h)];
}

/**
 * supervisord itself, then every program with every process, and an overall health verdict.
 * When supervisord cannot be asked this throws (exit 1), saying why: permission denied is not
 * "down". Only a health check (`check`) reports a supervisord that does not answer as unhealthy.
 */
export async function statusReport(
  sv: SupervisordClient,
  opts: Partial<HealthOptions> & { check?: boolean; version?: boolean } = {},
): Promise<StatusResult> {
  const h: HealthOptions = { ...DEFAULT_HEALTH, ...opts };
  // If supervisorctl cannot run at all, readList says so; the version is only a detail (metrics leave it out: one process less).
  const versionP = opts.version === false ? Promise.resolve(null) : sv.run(calls.version()).catch(() => null);
  const { list, why } = await readList(sv, { windowSeconds: h.windowSeconds });
  if (why) {
    const e = unreachableError(sv.where, why);
    if (!opts.check || e.code === "permission_denied") throw e;
    return { ...list, supervisord: { running: false, pid: null, version: null }, healthy: false, problems: [e.message] };
  }
  const v = (await versionP)?.output.trim() ?? "";
  const version = /^\d+\.\d+/u.test(v) ? v : null;
  const problems = list.workers.flatMap((w) => problemsOf(w, h));
  return {
    ...list,
    supervisord: { running: true, pid: supervisordPid(sv.layout), version },
    healthy: problems.length === 0,
    problems,
  };
}

/**
 * One worker in full (`worker show NAME`): its spec as read back, its file, each process with
 * /proc's view, its exits by reason and its log paths. One `status NAME:*` call; every group is
 * read (supervisord's log names processes without their group: shared names must be seen).
 */
export async function showWorker(sv: SupervisordClient, name: string, opts: ListOptions = {}): Promise<ShowResult> {
  const statusP = sv.run(calls.status([name]));
  let entries: ProcessGroup[];
  try {
    entries = sv.world.programs();
  } catch (e) {
    statusP.catch(() => undefined);
    throw e;
  }
  const entry = entries.find((e) => e.name === name);
  if (!entry) {
    statusP.catch(() => undefined);
    throw new VexoError("not_found", `no program named ${name}`, { details: { names: [name] } });
  }
  const windowSeconds = opts.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const sight = lookAround(sv.world, entries, null, {
    windowSeconds,
    now: sv.io.now(),
    supervisordUid: sv.machine.supervisordUid(sv.layout),
  });
  const { statuses, why } = statusAnswer(sv, await statusP);
  if (why) throw unreachableError(sv.where, why);
  const joined = joinStatus([entry], statuses, pauseRecords(sv.layout), supervisordPid(sv.layout));
  const seen = observe(sv.world, joined, sight);
  return { config: sv.layout.config, worker: seen.workers[0] as WorkerInfo, exitsWindowSeconds: windowSeconds, exitsNote: seen.exitsNote };
}
