import { VexoError } from "../errors.js";
import { supervisordPid } from "./machine.js";
import { staleOf } from "./observe.js";
import { isPaused } from "./pause.js";
import type { ProcStat } from "./procstat.js";
import type { ProcessGroup } from "./programs.js";
import { pauseRecords } from "./records.js";
import type { ProcessStatus, StaleWorker, WorkerOutcome } from "./results.js";
import { ACTIVE } from "./states.js";
import { shownPath } from "./trust.js";
import type { SupervisordClient } from "./supervisorctl.js";
import type { World } from "./world.js";

// Which workers run stale code, so that a restart touches those only. A worker is stale when one
// of its processes started in a directory its path no longer resolves to (observe.ts: a release
// switched under a `current` symlink since). Decided from one reading: one status call, the pause
// records, /proc (through the machine seam) and the world's resolution of each path.
//
// - A paused worker runs nothing, so it runs no stale code. It is left paused: a pause is someone's
//   decision, and its next start (resume) runs the release its path resolves to then.
// - A process gone between the status call and /proc is not stale: its successor starts now.
// - A running process whose directory this user cannot see makes the choice impossible: nothing
//   is restarted, rather than a deploy told that every worker runs the new code.

/** Managed workers only (all of them when none is named): what a program vexo-sv did not write should run is not known. */
export function staleCandidates(entries: ProcessGroup[], names: string[]): ProcessGroup[] {
  if (names.length === 0) return entries.filter((e) => e.managed);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length > 0)
    throw new VexoError("not_found", `no worker named ${missing.join(", ")}; nothing was done`, { details: { names: missing } });
  const unmanaged = names.filter((n) => !byName.get(n)?.managed);
  if (unmanaged.length > 0) {
    throw new VexoError(
      "not_managed",
      `${unmanaged.join(", ")}: not written by vexo-sv, so whether it runs stale code cannot be told; nothing was done`,
      { details: { names: unmanaged } },
    );
  }
  return [...new Set(names)].map((n) => byName.get(n) as ProcessGroup);
}

export interface StaleSelection {
  /** The workers with a process in an old release: those to restart. */
  stale: StaleWorker[];
  /** Every candidate, in order: restarted (it is stale), not-stale, not-running or paused. */
  outcomes: WorkerOutcome[];
  /** Workers whose staleness cannot be told, and why. */
  unknown: { worker: string; reason: string }[];
}

type Verdict = { outcome: WorkerOutcome; stale?: StaleWorker } | { unknown: string };

/** One worker: stale, or why it is not, or why it cannot be told. */
function judge(world: World, g: ProcessGroup, procs: ProcessStatus[], stats: Map<number, ProcStat | null>, paused: boolean): Verdict {
  const worker = g.name;
  if (paused) return { outcome: { worker, outcome: "paused", detail: "left paused: its next start runs the current release" } };
  // supervisorctl gives a pid only while RUNNING; a STARTING process was spawned just now.
  const seen = procs.flatMap((p) => (p.pid === null ? [] : [{ p, pid: p.pid, stat: stats.get(p.pid) }]));
  if (seen.length === 0) {
    const active = procs.some((p) => ACTIVE.has(p.state));
    return { outcome: active ? { worker, outcome: "not-stale" } : { worker, outcome: "not-running", detail: "no process runs" } };
  }
  const path = g.spec?.path;
  if (path === undefined) return { unknown: "its program file cannot be read back, so its path is not known" };
  const old = seen.flatMap((s) =>
    s.stat?.cwd && staleOf(world, path, s.stat) ? [{ process: s.p.fullName, pid: s.pid, cwd: s.stat.cwd }] : [],
  );
  if (old.length > 0) return { outcome: { worker, outcome: "restarted" }, stale: { worker, path: world.realPath(path), processes: old } };
  const hidden = seen.filter((s) => s.stat && s.stat.cwd === null);
  if (hidden.length > 0)
    return { unknown: `this user cannot see where ${hidden.map((s) => `${s.p.fullName} (pid ${s.pid})`).join(", ")} runs` };
  return { outcome: { worker, outcome: "not-stale" } };
}

/** Pure: the stale workers among `groups`, from what supervisord and /proc said; `paused`: the workers paused now. */
export function selectStale(
  world: World,
  groups: ProcessGroup[],
  procs: ProcessStatus[],
  stats: Map<number, ProcStat | null>,
  paused: ReadonlySet<string>,
): StaleSelection {
  const out: StaleSelection = { stale: [], outcomes: [], unknown: [] };
  for (const g of groups) {
    const v = judge(
      world,
      g,
      procs.filter((p) => p.group === g.name),
      stats,
      paused.has(g.name),
    );
    if ("unknown" in v) out.unknown.push({ worker: g.name, reason: v.unknown });
    else {
      out.outcomes.push(v.outcome);
      if (v.stale) out.stale.push(v.stale);
    }
  }
  return out;
}

const pidsOf = (procs: ProcessStatus[]) => [...new Set(procs.flatMap((p) => (p.pid === null ? [] : [p.pid])))];

/**
 * One reading of the candidates: their processes (one status call), pause records and /proc.
 * Throws stale_unknown, before anything is done, when a worker's staleness cannot be told.
 */
export async function readStale(
  sv: SupervisordClient,
  groups: ProcessGroup[],
): Promise<{ procs: ProcessStatus[]; selection: StaleSelection }> {
  const procs = await sv.status(groups.map((g) => g.name));
  const records = pauseRecords(sv.layout);
  const svPid = supervisordPid(sv.layout);
  const paused = new Set(
    groups
      .filter((g) =>
        isPaused(
          records.get(g.name) ?? null,
          procs.filter((p) => p.group === g.name),
          svPid,
        ),
      )
      .map((g) => g.name),
  );
  const selection = selectStale(sv.world, groups, procs, sv.machine.procStats(pidsOf(procs)), paused);
  if (selection.unknown.length > 0) {
    const each = selection.unknown.map((u) => `${u.worker}: ${u.reason}`).join("; ");
    throw new VexoError("stale_unknown", `cannot tell which workers run stale code (${each}); nothing was restarted`, {
      details: { workers: selection.unknown.map((u) => u.worker), unknown: selection.unknown },
    });
  }
  return { procs, selection };
}

/** After the restart: none of the restarted workers' processes may still run in an old release. */
export function assertNotStale(sv: SupervisordClient, groups: ProcessGroup[], procs: ProcessStatus[]): void {
  const still = selectStale(sv.world, groups, procs, sv.machine.procStats(pidsOf(procs)), new Set()).stale;
  if (still.length === 0) return;
  const each = still.map(
    (s) => `${s.processes.map((p) => `${p.process} runs in ${shownPath(p.cwd)}`).join(", ")} (its path resolves to ${shownPath(s.path)})`,
  );
  throw new VexoError("still_stale", `restarted, but still on stale code: ${each.join("; ")}`, {
    details: { workers: still.map((s) => s.worker), stale: still },
  });
}
