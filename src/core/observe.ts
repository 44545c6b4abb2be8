import fs from "node:fs";
import { type ExitCounts, type ExitsResult, mainLogSource, type ProcessExits, readExits, type SupervisordCommand } from "./exits.js";
import { supervisordPid } from "./machine.js";
import { type ProcStat, readProcStats } from "./procstat.js";
import type { ProcessGroup } from "./programs.js";
import type { Exits, WorkerInfo, WorkerProcess } from "./results.js";
import { supervisordArgs } from "./supervisord/main-log.js";
import type { World } from "./world.js";

// How workers live between changes, added to what `supervisorctl status` said of them: per
// process its resident memory, CPU time, start and working directory (/proc), whether it runs
// stale code (its cwd is no longer where its worker's path resolves), and its recent exits by
// reason (supervisord's own log). What cannot be known is null, never 0.

/** The window exits are counted over when none is given: the last hour. */
export const DEFAULT_WINDOW_SECONDS = 3600;

export interface ObserveOptions {
  windowSeconds: number;
  /** The end of the window, in ms since the epoch. */
  now: number;
  /** The uid supervisord runs as (who may own its log besides root and the caller); null when not known. */
  supervisordUid?: number | null;
}

export interface Observed {
  workers: WorkerInfo[];
  /** Why exits are not known (then every `exits` is null) or are a floor, or null. */
  exitsNote: string | null;
}

const ZERO: ExitCounts = { memory: 0, killed: 0, recycled: 0, crashed: 0, fatal: 0 };

function toExits(p: ProcessExits | undefined): Exits {
  if (!p?.known) return null;
  return {
    counts: { ...p.counts },
    unexpected: p.unexpected,
    recent: p.recent.map((e) => ({ ...e, time: new Date(e.time).toISOString() })),
  };
}

/** A worker's exits: its processes' added up (unknown if any one's is). */
function sumExits(all: Exits[]): Exits {
  if (all.some((e) => e === null)) return null;
  const known = all as NonNullable<Exits>[];
  const counts = { ...ZERO };
  for (const e of known) for (const k of Object.keys(counts) as (keyof ExitCounts)[]) counts[k] += e.counts[k];
  const recent = known
    .flatMap((e) => e.recent)
    .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0))
    .slice(0, 5);
  return { counts, unexpected: known.reduce((n, e) => n + e.unexpected, 0), recent };
}

/**
 * Stale: the process started in a directory its worker's path no longer resolves to (a release
 * switched under a `current` symlink since). null when either is not known.
 */
export function staleOf(world: World, path: string | undefined, stat: ProcStat | null | undefined): boolean | null {
  if (path === undefined || !stat || stat.cwd === null) return null;
  return stat.cwd !== world.realPath(path);
}

/** What is read while supervisorctl answers: supervisord's log, and /proc of supervisord's children. */
export interface Sight {
  stats: Map<number, ProcStat | null>;
  exits: ExitsResult;
}

/** supervisord's child pids, from /proc (the kernel's list: CONFIG_PROC_CHILDREN); empty when not known. */
function childrenOf(pid: number | null): number[] {
  if (pid === null) return [];
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .split(" ")
      .filter((s) => /^\d+$/u.test(s))
      .map(Number);
  } catch {
    return [];
  }
}

/** How supervisord `pid` was started (/proc): its own arguments and its working directory; null when not known. */
export function commandOf(pid: number | null): SupervisordCommand | null {
  if (pid === null) return null;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
    let cwd: string | null = null;
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // not ours to see: a relative -l is then read from /
    }
    return { args: supervisordArgs(cmdline), cwd };
  } catch {
    return null; // gone, or not Linux: the config alone says
  }
}

/**
 * Reads, before supervisorctl has answered (its processes run meanwhile), what observe() adds:
 * supervisord's log over the window, and /proc of every child of supervisord (`svPid`), the
 * processes status will name. `groups`: every group supervisord reads (its log names processes
 * without their group, so all are needed to tell shared names apart).
 */
export function lookAround(world: World, groups: ProcessGroup[], svPid: number | null, opts: ObserveOptions): Sight {
  const command = commandOf(svPid ?? supervisordPid(world.layout));
  const exits: ExitsResult = readExits(mainLogSource(world, command), {
    processes: groups.flatMap((g) => g.processes.map((p) => ({ group: p.group, name: p.name }))),
    now: opts.now,
    windowMs: opts.windowSeconds * 1000,
    owners: opts.supervisordUid == null ? [] : [opts.supervisordUid],
  });
  return { stats: readProcStats(childrenOf(svPid)), exits };
}

/**
 * Adds /proc, exits and staleness to each worker and process, from what lookAround read (a pid
 * it did not see, started since, is read now).
 */
export function observe(world: World, workers: WorkerInfo[], sight: Sight): Observed {
  const pids = workers.flatMap((w) => w.processes.flatMap((p) => (p.pid === null ? [] : [p.pid])));
  const missing = [...new Set(pids)].filter((pid) => !sight.stats.has(pid));
  const stats = new Map([...sight.stats, ...readProcStats(missing)]);
  const exits = sight.exits;
  const byProcess = new Map(exits.known ? exits.processes.map((p) => [`${p.group}:${p.name}`, p]) : []);
  const out = workers.map((w) => {
    const processes: WorkerProcess[] = w.processes.map((p) => {
      const stat = p.pid === null ? null : stats.get(p.pid);
      return {
        ...p,
        startedAt: stat ? new Date(stat.startTime * 1000).toISOString() : null,
        rssBytes: stat ? stat.rssBytes : null,
        cpuSeconds: stat ? stat.cpuSeconds : null,
        cwd: stat?.cwd ?? null,
        stale: staleOf(world, w.spec?.path, stat),
        exits: exits.known ? toExits(byProcess.get(`${p.group}:${p.process}`)) : null,
      };
    });
    const stale = processes.some((p) => p.stale === true)
      ? true
      : processes.every((p) => p.stale === false) && processes.length > 0
        ? false
        : null;
    return { ...w, processes, stale, exits: exits.known ? sumExits(processes.map((p) => p.exits)) : null };
  });
  return { workers: out, exitsNote: exitsNote(exits) };
}

function exitsNote(exits: ExitsResult): string | null {
  if (!exits.known) return exits.message;
  const notes = [
    ...(exits.unread ? [`counts are a floor: ${exits.unread}`] : []),
    ...(exits.unlogged.length > 0 ? [`supervisord's loglevel does not log ${exits.unlogged.join(" or ")} exits`] : []),
  ];
  return notes.length > 0 ? notes.join("; ") : null;
}
