import { type Layout } from "./layout.js";
import type { ProcessGroup } from "./programs.js";
import { isPaused } from "./pause.js";
import { type PauseRecord, pauseRecords } from "./records.js";
import { DOWN, GOING_DOWN, HEALTHY, type ProcessState, RETRYING, STARTING, UP } from "./states.js";
import { type SupervisordClient, calls, parseStatus, unreachableReason } from "./supervisorctl.js";
import { supervisordPid } from "./supervisord.js";
import type { ListResult, ProcessStatus, StatusResult, WorkerInfo, WorkerState } from "./results.js";

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
        running: procs.filter((p) => UP.has(p.state)).length,
        total: e.numprocs,
        processes: procs,
        spec: e.spec,
        logs: e.logs,
      };
      if (e.parseError) info.parseError = e.parseError;
      return info;
    })
    .sort((a, b) => Number(b.managed) - Number(a.managed) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Lists every program in the include directory with its live state, in one status call. */
export async function listWorkers(sv: SupervisordClient): Promise<ListResult> {
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
  const st = await statusP;
  const why = unreachableReason(st.output);
  const statuses = why ? null : parseStatus(st.output);
  return {
    config: layout.config,
    confDir: layout.confDir,
    reachable: statuses !== null,
    workers: joinStatus(entries, statuses, pauseRecords(layout), supervisordPid(layout)),
    warnings: why ? [`supervisord is not reachable (${why}); states are unknown`] : [],
  };
}

/**
 * Health of one managed worker's processes, as lines naming what is wrong. STARTING is healthy:
 * a process recycled by --max-time or --max-jobs starts again for a second; a crash loop shows
 * BACKOFF, then FATAL.
 */
export function problemsOf(w: WorkerInfo): string[] {
  if (!w.managed || w.state === "paused") return [];
  if (w.loaded === false) return [`${w.name}: not loaded by supervisord`];
  const out = w.processes
    .filter((p) => !HEALTHY.has(p.state))
    .map((p) => `${p.fullName}: ${p.state}${p.description ? ` (${p.description})` : ""}`);
  if (w.processes.length > 0 && w.processes.length < w.total) out.push(`${w.name}: ${w.processes.length} of ${w.total} processes exist`);
  return out;
}

/** supervisord itself, then every program with every process, and an overall health verdict. */
export async function statusReport(sv: SupervisordClient): Promise<StatusResult> {
  // If supervisorctl cannot run at all, listWorkers says so; the version is only a detail.
  const versionP = sv.run(calls.version()).catch(() => null);
  const list = await listWorkers(sv);
  const v = (await versionP)?.output.trim() ?? "";
  const version = list.reachable && /^\d+\.\d+/u.test(v) ? v : null;
  const problems = list.reachable ? list.workers.flatMap(problemsOf) : [`supervisord is not reachable at ${sv.layout.serverUrl}`];
  return {
    ...list,
    supervisord: { running: list.reachable, pid: list.reachable ? supervisordPid(sv.layout) : null, version },
    healthy: problems.length === 0,
    problems,
  };
}
