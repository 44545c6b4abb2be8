/**
 * Why workers exit, from supervisord's own log: the exits and FATALs it logged within a window,
 * per process as supervisord names them, classified by Laravel's exit codes (Illuminate/Queue/
 * Worker.php: 12 for --memory, SIGKILL from its own --timeout kill, 0 when recycled). The log is
 * read as every log is (safe-files.ts: no symlink, no FIFO, one hard link), backwards from its end,
 * at most MAX_EXITS_LOG_BYTES over the log and its predecessor LOG.1, and no further back than
 * the window. When the log cannot say, the answer is "unknown", never zero exits.
 */
import path from "node:path";
import { scanLogTail, type LogScan, type ScanLimits } from "./safe-files.js";
import { isStreamPath } from "./supervisord/processes.js";
import {
  commandLineLogSettings,
  LOG_LEVELS,
  type LocalTimeFn,
  type LogLevel,
  machineLocalTime,
  type MainLogEvent,
  mainLogSettings,
  parseMainLogLine,
  recordTime,
} from "./supervisord/main-log.js";
import { shownPath, TrustError } from "./trust.js";
import type { World } from "./world.js";

export const EXIT_REASONS = ["memory", "killed", "recycled", "crashed", "fatal"] as const;
/**
 * memory: exit status 12 (--memory); killed: SIGKILL (a job past --timeout, or the OOM killer);
 * recycled: exit status 0 (--max-time, --max-jobs, queue:restart, --stop-when-empty, a SIGTERM
 * not from supervisord); crashed: any other status or signal; fatal: supervisord gave up on it.
 */
export type ExitReason = (typeof EXIT_REASONS)[number];
export type ExitCounts = Record<ExitReason, number>;

/** The window when none is given: the last hour. */
export const DEFAULT_EXITS_WINDOW_MS = 60 * 60 * 1000;
/** The most bytes read, the log and LOG.1 together: about 40,000 of supervisord's lines. */
export const MAX_EXITS_LOG_BYTES = 4 * 1024 * 1024;
/** How many of a process's latest events are kept. */
export const RECENT_EXITS = 5;
/** supervisord's records are short; a longer line (a traceback's) ends the read there. */
const MAX_LINE_BYTES = 64 * 1024;

/** Where supervisord's log goes, as its configuration says. */
export type MainLogSource =
  | { kind: "file"; path: string; loglevel: LogLevel | null }
  | { kind: "syslog" }
  /** /dev/stdout and the like: supervisord's own output (a container's), not a file to read back. */
  | { kind: "stream"; path: string };

/** A process as supervisord names it: its group and its own name (what its log lines carry). */
export interface ProcessRef {
  group: string;
  name: string;
}

/** One exit (or a FATAL) of one process. */
export interface ExitEvent {
  /** When supervisord logged it, in ms since the epoch. */
  time: number;
  reason: ExitReason;
  /** The exit status; null when a signal ended it, and for fatal. */
  status: number | null;
  /** The signal as supervisord names it ("SIGKILL", "signal 34"); null otherwise. */
  signal: string | null;
  /** supervisord's word: false for "not expected" (a code not in exitcodes=, or an exit before startsecs); null for fatal. */
  expected: boolean | null;
}

export type ProcessExits = ProcessRef &
  (
    | {
        known: true;
        counts: ExitCounts;
        /** Exits supervisord logged as "not expected" (fatal is a state, not an exit: not counted here). */
        unexpected: number;
        /** The latest events, newest first. */
        recent: ExitEvent[];
      }
    /** Another group has a process of the same name: supervisord's log cannot tell them apart. */
    | { known: false; sharedWith: string[] }
  );

export interface ExitsOptions {
  /** The processes to count, each once; pass every process supervisord runs, or a shared name may go unnoticed. */
  processes: readonly ProcessRef[];
  /** The end of the window, in ms since the epoch. */
  now: number;
  windowMs?: number;
  recent?: number;
  maxBytes?: number;
  /** How supervisord's zoneless times map to the epoch; by default this machine's local time. */
  localTime?: LocalTimeFn;
  /**
   * Who may own the log (and LOG.1): supervisord's user. Root and the caller always may. A file
   * anyone else owns or can write is not read: its lines could be anyone's (a LOG.1 planted in
   * /tmp before supervisord's first rotation, as its sample config keeps the log there).
   */
  owners?: readonly number[];
}

export type ExitsUnknownWhy = "syslog" | "stream" | "loglevel" | "missing" | "refused" | "unreadable";

export type ExitsResult =
  | { known: false; why: ExitsUnknownWhy; message: string }
  | {
      known: true;
      /** The window, in ms since the epoch, both ends included. */
      since: number;
      until: number;
      /** The files read, newest first. */
      files: string[];
      /** Why part of the window was not read (the counts are then a floor), or null. */
      unread: string | null;
      /** Reasons supervisord's loglevel keeps out of its log: their counts are not known. */
      unlogged: ExitReason[];
      processes: ProcessExits[];
    };

/** How the running supervisord was started: its own arguments (null when not told apart) and its working directory. */
export interface SupervisordCommand {
  args: readonly string[] | null;
  cwd: string | null;
}

/**
 * Where supervisord logs (`[supervisord] logfile=`, the layout's path) and at which level; `-l`
 * and `-e` on the running supervisord's command line win over the config, as they do for it
 * (`supervisord -e debug` copies every worker's output into its log, whatever loglevel= says).
 */
export function mainLogSource(world: World, command: SupervisordCommand | null = null): MainLogSource {
  const settings = mainLogSettings(world.config());
  const given = command?.args ? commandLineLogSettings(command.args) : {};
  if (given === null) return { kind: "file", path: world.layout.supervisordLog, loglevel: null };
  const logfile = given.logfile ?? settings.logfile;
  if (logfile === "syslog") return { kind: "syslog" };
  const file = given.logfile === undefined ? world.layout.supervisordLog : path.resolve(command?.cwd ?? "/", given.logfile);
  const level = given.loglevel?.toLowerCase();
  const loglevel = level === undefined ? settings.loglevel : Object.hasOwn(LOG_LEVELS, level) ? (level as LogLevel) : null;
  return isStreamPath(file) ? { kind: "stream", path: file } : { kind: "file", path: file, loglevel };
}

/** The reason of an exit, by Laravel's worker: 12 memory, SIGKILL killed, 0 recycled, anything else crashed. */
export function exitReason(e: { status: number | null; signal: string | null }): ExitReason {
  if (e.status === 12) return "memory";
  if (e.status === 0) return "recycled";
  return e.signal === "SIGKILL" ? "killed" : "crashed";
}

/**
 * Exits and FATALs per process within [now - window, now], from supervisord's log: the log's end,
 * and LOG.1 when the window reaches back past the log's start. "unknown" (with why) when there is
 * no log file to read, it is refused or unreadable, or its loglevel hides or forges exits.
 */
export function readExits(source: MainLogSource, opts: ExitsOptions): ExitsResult {
  const { since, until } = windowOf(opts);
  if (source.kind === "syslog") return unknown("syslog", "supervisord logs to syslog (logfile=syslog), not to a file");
  if (source.kind === "stream") return unknown("stream", `supervisord logs to ${shownPath(source.path)}, its own output, not to a file`);
  const level = levelVerdict(source.loglevel);
  if ("unknown" in level) return unknown("loglevel", level.unknown);
  let read: WindowRead | null;
  try {
    const owners = [...new Set([0, process.geteuid?.() ?? 0, ...(opts.owners ?? [])])];
    read = readWindow(source.path, since, opts.maxBytes ?? MAX_EXITS_LOG_BYTES, opts.localTime ?? machineLocalTime, owners);
  } catch (e) {
    if (!(e instanceof TrustError)) throw e;
    return unknown(e.code === "io" ? "unreadable" : "refused", e.message);
  }
  if (!read) return unknown("missing", `supervisord's log ${shownPath(source.path)} does not exist`);
  const processes = countExits(read.lines, opts);
  return { known: true, since, until, files: read.files, unread: read.unread, unlogged: level.unlogged, processes };
}

function unknown(why: ExitsUnknownWhy, message: string): ExitsResult {
  return { known: false, why, message };
}

function windowOf(opts: ExitsOptions): { since: number; until: number } {
  const windowMs = opts.windowMs ?? DEFAULT_EXITS_WINDOW_MS;
  if (!Number.isFinite(opts.now)) throw new RangeError(`now must be a time in ms, not ${opts.now}`);
  if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError(`windowMs must be > 0, not ${windowMs}`);
  return { since: opts.now - windowMs, until: opts.now };
}

/** What a loglevel lets the log say: at warn, expected exits and "gave up" (INFO) are missing. */
function levelVerdict(level: LogLevel | null): { unknown: string } | { unlogged: ExitReason[] } {
  if (level === null) return { unknown: "supervisord's loglevel (loglevel=, or -e on its command line) is not one vexo-sv can read" };
  const n = LOG_LEVELS[level];
  // At debug and below, every process's output is copied into the log: a worker could print lines that read as exits.
  if (n <= LOG_LEVELS.debug)
    return { unknown: `at loglevel=${level} supervisord copies what processes print into its log, where a line can pose as an exit` };
  if (n > LOG_LEVELS.warn) return { unknown: `at loglevel=${level} supervisord does not log exits` };
  return { unlogged: n === LOG_LEVELS.warn ? ["recycled", "fatal"] : [] };
}

interface WindowRead {
  files: string[];
  /** Oldest first. */
  lines: string[];
  unread: string | null;
}

/**
 * The lines of the log back to the window's start: the log's end, then LOG.1 (supervisord's
 * rotation renames LOG to LOG.1) with what is left of the byte bound. null: no log file.
 */
function readWindow(file: string, since: number, maxBytes: number, localTime: LocalTimeFn, owners: number[]): WindowRead | null {
  const older = (line: string) => (recordTime(line, localTime) ?? since) < since;
  const limits = (bytes: number): ScanLimits => ({
    maxLines: Number.MAX_SAFE_INTEGER,
    maxLineBytes: MAX_LINE_BYTES,
    maxBytes: bytes,
    stopAt: older,
  });
  const current = scanLogTail(file, limits(maxBytes), { singleLink: true, owners });
  if (!current) return null;
  const only = (unread: string | null): WindowRead => ({ files: [file], lines: current.lines, unread });
  const gap = coverage(current, file, older, maxBytes);
  if (gap !== "start") return only(gap);
  const prevFile = `${file}.1`;
  const left = maxBytes - current.size;
  if (left <= 0) return only(boundReached(maxBytes));
  let prev: LogScan | null;
  try {
    prev = scanLogTail(prevFile, limits(left), { singleLink: true, owners });
  } catch (e) {
    if (!(e instanceof TrustError)) throw e;
    return only(`${shownPath(prevFile)} was not read: ${e.message}`);
  }
  if (!prev) return only(null); // never rotated (or logfile_backups=0): nothing older is kept
  if (prev.dev === current.dev && prev.ino === current.ino) return only(`supervisord rotated ${shownPath(file)} while it was read`);
  const prevGap = coverage(prev, prevFile, older, left);
  return { files: [file, prevFile], lines: [...prev.lines, ...current.lines], unread: prevGap === "start" ? null : prevGap };
}

/** Whether a scan reached back to the window's start (null), to the file's start ("start"), or why it stopped short. */
function coverage(scan: LogScan, file: string, older: (line: string) => boolean, bound: number): null | "start" | string {
  const first = scan.lines.find((l) => recordTime(l) !== null);
  if (first !== undefined && older(first)) return null;
  if (scan.startReached) return "start";
  if (scan.truncated > 0) return `a line of ${shownPath(file)} over ${MAX_LINE_BYTES} bytes ends what was read`;
  return boundReached(bound);
}

function boundReached(maxBytes: number): string {
  return `only the last ${maxBytes} bytes of supervisord's log were read, and they do not reach back to the window's start`;
}

interface Tally {
  counts: ExitCounts;
  unexpected: number;
  events: ExitEvent[];
}

/** The event a log line records for the counts: an exit or a FATAL (a stop that was asked for is no exit). */
function exitEvent(e: MainLogEvent): ExitEvent | null {
  if (e.kind === "gave_up") return { time: e.time, reason: "fatal", status: null, signal: null, expected: null };
  if (e.kind !== "exited") return null;
  return { time: e.time, reason: exitReason(e), status: e.status, signal: e.signal, expected: e.expected };
}

/**
 * Pure: the exits and FATALs in `lines` (supervisord's log, oldest first) within [now - window,
 * now], per process in the order given. Lines of other processes, and records of other kinds, are
 * ignored; a process whose name another group's process shares is not counted (known: false).
 */
export function countExits(lines: readonly string[], opts: ExitsOptions): ProcessExits[] {
  const { since, until } = windowOf(opts);
  const localTime = opts.localTime ?? machineLocalTime;
  const groups = new Map<string, Set<string>>();
  for (const p of opts.processes) groups.set(p.name, (groups.get(p.name) ?? new Set()).add(p.group));
  const tallies = new Map<string, Tally>();
  for (const [name, gs] of groups) if (gs.size === 1) tallies.set(name, { counts: zeroCounts(), unexpected: 0, events: [] });
  for (const line of lines) {
    // Most lines are neither: skip them before the regular expressions.
    if (!line.includes("exited: ") && !line.includes("gave up: ")) continue;
    const parsed = parseMainLogLine(line, localTime);
    const tally = parsed && "name" in parsed ? tallies.get(parsed.name) : undefined;
    const e = tally && parsed ? exitEvent(parsed) : null;
    if (!tally || !e || e.time < since || e.time > until) continue;
    tally.counts[e.reason]++;
    if (e.expected === false) tally.unexpected++;
    tally.events.push(e);
  }
  const recent = opts.recent ?? RECENT_EXITS;
  if (!Number.isSafeInteger(recent) || recent < 0) throw new RangeError(`recent must be a whole number >= 0, not ${recent}`);
  return opts.processes.map((p) => {
    const t = tallies.get(p.name);
    if (!t) return { ...p, known: false, sharedWith: [...(groups.get(p.name) ?? [])].filter((g) => g !== p.group) };
    return {
      ...p,
      known: true,
      counts: { ...t.counts },
      unexpected: t.unexpected,
      recent: t.events.slice(Math.max(0, t.events.length - recent)).reverse(),
    };
  });
}

function zeroCounts(): ExitCounts {
  return { memory: 0, killed: 0, recycled: 0, crashed: 0, fatal: 0 };
}
