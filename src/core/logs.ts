import fs from "node:fs";
import path from "node:path";
import { invalid, VexoError } from "../errors.js";
import { ioError } from "./fsutil.js";
import { shownPath, TrustError } from "./trust.js";
import { openNoFollow, tailLinesSafe } from "./safe-files.js";
import type { Layout } from "./layout.js";
import type { World } from "./world.js";
import type { ProcessInfo } from "./supervisord/processes.js";
import { supervisordPid, supervisordUid } from "./supervisord.js";
import type { LogLine, LogsResult } from "./results.js";

const CHUNK = 64 * 1024;

/** The longest line shown whole; a longer one is cut to its last MAX_LINE_BYTES bytes. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * The last `n` lines of a log file, read backwards from its end, so the cost follows n and the
 * line length, never the file's size. Opened without following a symlink, and only a regular
 * file (a planted FIFO cannot hang it). A line over MAX_LINE_BYTES is cut to its last
 * MAX_LINE_BYTES bytes and is the oldest line returned (see trust.ts: tailLinesSafe). A missing
 * file gives no lines. With `singleLink`, a file with another hard link is unsafe_file: whoever
 * holds that link (another user, in a directory they could write once) reads and writes it.
 */
export function tailLines(file: string, n: number, singleLink = false): string[] {
  if (n <= 0) return [];
  try {
    return tailLinesSafe(file, n, MAX_LINE_BYTES, { singleLink }).lines;
  } catch (e) {
    if (e instanceof TrustError && e.code === "hard_link") {
      throw new VexoError("unsafe_file", e.message, {
        details: { file },
        hint: `look for the other names (\`find / -xdev -samefile ${shownPath(file)}\`); remove this one and restart the worker, so supervisord starts a new log`,
      });
    }
    throw ioError("read", shownPath(file), e);
  }
}

/** Current sizes of log files: where "since now" starts for tailLines(..., since). */
export function logSizes(files: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of files) {
    try {
      out.set(f, fs.lstatSync(f).size);
    } catch {
      out.set(f, 0);
    }
  }
  return out;
}

/**
 * The last `n` lines written to a log after byte `offset` (a size taken before a start): a failure
 * report shows what this start wrote, never an earlier run's errors. A file now smaller than
 * `offset` was rotated or truncated: then all of it is new.
 */
export function tailLinesSince(file: string, n: number, offset: number): string[] {
  const lines = tailLines(file, n);
  let size: number;
  try {
    size = fs.lstatSync(file).size;
  } catch {
    return [];
  }
  if (size < offset) return lines;
  const fresh = size - offset;
  // Keep lines from the end while their bytes fit in what was written since.
  const out: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    bytes += Buffer.byteLength(lines[i] as string) + 1;
    if (bytes > fresh + 1) break;
    out.unshift(lines[i] as string);
  }
  return out;
}

export interface LogsInput {
  /** A worker; undefined for supervisord's own log. */
  name?: string | undefined;
  lines: number;
  process?: number | undefined;
}

/** The files supervisord has open (from /proc/PID/fd), or none when it is not running or not ours to see. */
function openFilesOf(pid: number | null): string[] {
  if (pid === null) return [];
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [fs.readlinkSync(`/proc/${pid}/fd/${fd}`)];
      } catch {
        return []; // closed meanwhile
      }
    });
  } catch {
    return [];
  }
}

/**
 * Finds the file supervisord made for a process's AUTO log: childlogdir/NAME-stdout---IDENT-XXXXXX.log.
 * childlogdir defaults to the temp directory, where any local user can create a file of that
 * name (newer, a symlink, or a hard link to their file): so only a regular file with one link,
 * owned by supervisord's user (or root), counts; the one supervisord has open when it runs the
 * process, else the newest such file.
 */
export function autoLogFinder(layout: Layout): (processName: string) => string | null {
  let dir: string;
  try {
    dir = fs.realpathSync(layout.childLogDir);
  } catch {
    return () => null;
  }
  const pid = supervisordPid(layout);
  const owners = new Set([0, supervisordUid(layout) ?? 0]);
  const open = openFilesOf(pid).filter((f) => path.dirname(f) === dir);
  let names: string[] | undefined;
  const isLog = (f: string) => {
    try {
      const st = fs.lstatSync(f);
      // One link only: another name is someone's way to read and write it (see tailLines).
      return st.isFile() && st.nlink === 1 && owners.has(st.uid) ? st : null;
    } catch {
      return null; // gone, or a dangling link's target: not a log
    }
  };
  return (processName) => {
    const mine = (n: string) => n.startsWith(`${processName}-stdout---`) && n.endsWith(".log");
    const held = open.find((f) => mine(path.basename(f)) && isLog(f));
    if (held) return held;
    names ??= readdirOrEmpty(dir);
    const found = names.filter(mine).flatMap((n) => {
      const st = isLog(path.join(dir, n));
      return st ? [{ f: path.join(dir, n), t: st.mtimeMs }] : [];
    });
    return found.sort((a, b) => b.t - a.t)[0]?.f ?? null;
  };
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Where one process logs, as supervisord resolves it: a file, the file it made for AUTO, or why there is none to read. */
function logFileOf(layout: Layout, p: ProcessInfo, autoLog: (processName: string) => string | null): string {
  const t = p.stdoutLogfile ?? { kind: "none" as const };
  if (t.kind === "file") return t.path;
  if (t.kind === "auto") {
    const made = autoLog(p.name);
    if (made) return made;
    throw new VexoError(
      "not_found",
      `${p.namespec} logs to an AUTO file in ${shownPath(layout.childLogDir)}, and supervisord has not made it yet`,
      {
        hint: `start it, or read it with \`supervisorctl -c ${shownPath(layout.config)} tail ${p.namespec}\``,
      },
    );
  }
  const where =
    t.kind === "stream"
      ? `to ${shownPath(t.path)} (supervisord's own output, as in a container), not to a file`
      : `to no file (stdout_logfile=${t.kind.toUpperCase()})`;
  throw new VexoError("not_found", `${p.namespec} logs ${where}`, {
    hint:
      t.kind === "stream"
        ? "read supervisord's output where it goes: `docker logs`, or the service's journal"
        : `use \`supervisorctl -c ${shownPath(layout.config)} tail ${p.namespec}\``,
  });
}

/**
 * Log files of a worker (or supervisord's own), resolved as supervisord names them. Processes
 * that log to no readable file are skipped with the reason; when none is left, the first reason
 * is the error.
 */
export function logFiles(
  world: World,
  opts: LogsInput,
): { files: { process: string; path: string }[]; skipped: { process: string; reason: string }[] } {
  const layout = world.layout;
  if (!opts.name) return { files: [{ process: "supervisord", path: layout.supervisordLog }], skipped: [] };
  const entry = world.program(opts.name);
  if (!entry) throw new VexoError("not_found", `no program named ${shownPath(opts.name)}`, { details: { names: [opts.name] } });
  let procs = entry.processes;
  if (opts.process !== undefined) {
    const p = procs[opts.process];
    if (!p) throw invalid("process", `${opts.name} has no process ${opts.process}; it has ${procs.length} (0-${procs.length - 1})`);
    procs = [p];
  }
  const files: { process: string; path: string }[] = [];
  const skipped: { process: string; reason: string }[] = [];
  const errors: VexoError[] = [];
  let finder: ((processName: string) => string | null) | undefined;
  const autoLog = (name: string) => (finder ??= autoLogFinder(layout))(name);
  for (const p of procs) {
    // One process: labelled with the worker's name; several: with each process's own.
    const label = entry.processes.length > 1 ? p.name : entry.name;
    try {
      files.push({ process: label, path: logFileOf(layout, p, autoLog) });
    } catch (e) {
      if (!(e instanceof VexoError)) throw e;
      errors.push(e);
      skipped.push({ process: label, reason: e.message });
    }
  }
  if (files.length === 0 && errors[0]) throw errors[0];
  return { files, skipped };
}

/** The last lines of each log file, labelled with their process. */
export function readLogs(world: World, opts: LogsInput): LogsResult {
  const { files, skipped } = logFiles(world, opts);
  const lines: LogLine[] = [];
  for (const f of files) for (const line of tailLines(f.path, opts.lines, true)) lines.push({ process: f.process, line });
  return skipped.length ? { files, lines, skipped } : { files, lines };
}

interface Cursor {
  process: string;
  path: string;
  fd: number | null;
  ino: number;
  pos: number;
  partial: string;
  /** The file's first bytes as last seen: a change means it was truncated and rewritten. */
  head: Buffer;
  /** The owner of the file first opened: a file recreated under the name by another user is not followed. */
  uid: number | null;
  /** Set once the follow is interrupted: a drain waiting on its reader stops there. */
  stopped: boolean;
}

const HEAD = 64;

function readHead(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(Math.min(HEAD, size));
  const n = buf.length ? fs.readSync(fd, buf, 0, buf.length, 0) : 0;
  return buf.subarray(0, n);
}

function openAt(c: Cursor, fromEnd: boolean): void {
  try {
    c.fd = openNoFollow(c.path);
    const st = fs.fstatSync(c.fd);
    if ((c.uid !== null && st.uid !== c.uid) || st.nlink > 1) {
      // Recreated by someone else after a rotation (a directory others can write, such as /tmp),
      // or linked to a name someone else holds.
      fs.closeSync(c.fd);
      c.fd = null;
      return;
    }
    c.uid = st.uid;
    c.ino = st.ino;
    c.pos = fromEnd ? st.size : 0;
    c.partial = "";
    c.head = readHead(c.fd, st.size);
  } catch {
    c.fd = null;
  }
}

/** Where a follow sends each line: a promise when the reader is behind, waited for before reading on. */
export type LogSink = (l: LogLine) => Promise<void> | undefined | void;

/** Reads what was appended since the last drain, line by line, waiting on the sink (or the stop) whenever it says so. */
async function drain(c: Cursor, emit: LogSink, stop: Promise<void>): Promise<void> {
  if (c.fd === null) return;
  const size = fs.fstatSync(c.fd).size;
  const head = readHead(c.fd, size);
  const seen = Math.min(c.head.length, head.length);
  if (size < c.pos || !head.subarray(0, seen).equals(c.head.subarray(0, seen))) {
    // Truncated in place (copytruncate), perhaps already written again: start over.
    c.pos = 0;
    c.partial = "";
  }
  c.head = head;
  const buf = Buffer.alloc(CHUNK);
  while (c.pos < size && !c.stopped) {
    const n = fs.readSync(c.fd, buf, 0, Math.min(CHUNK, size - c.pos), c.pos);
    if (n <= 0) break;
    c.pos += n;
    const parts = (c.partial + buf.subarray(0, n).toString("utf8")).split("\n");
    // A line with no end yet is held up to MAX_LINE_BYTES (its last bytes), however long it grows.
    c.partial = (parts.pop() ?? "").slice(-MAX_LINE_BYTES);
    for (const p of parts) {
      // A reader that does not keep up stops the reading (one chunk at most is held), whatever the log's pace.
      const wait = emit({ process: c.process, line: p.endsWith("\r") ? p.slice(0, -1) : p });
      if (wait) await Promise.race([wait, stop]);
      if (c.stopped) return;
    }
  }
}

/**
 * Streams lines appended to the files until `signal` aborts. Survives rotation: a file
 * renamed away and recreated is read to its end, then the new one from its start; a file
 * truncated in place is read again from its start. Polls (no inotify: works on every fs).
 */
export async function followLogs(
  files: { process: string; path: string }[],
  emit: LogSink,
  signal: AbortSignal,
  intervalMs = 200,
): Promise<void> {
  // One abort listener for the whole follow (not one per poll), waking the current sleep and any
  // wait on a reader that has stopped reading.
  let wake = () => {};
  let stopped = () => {};
  const stop = new Promise<void>((r) => (stopped = r));
  const cursors: Cursor[] = files.map((f) => ({
    ...f,
    fd: null,
    ino: 0,
    pos: 0,
    partial: "",
    head: Buffer.alloc(0),
    uid: null,
    stopped: false,
  }));
  const onAbort = () => {
    for (const c of cursors) c.stopped = true;
    stopped();
    wake();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
  for (const c of cursors) openAt(c, true);
  while (!signal.aborted) {
    for (const c of cursors) await followOne(c, emit, stop);
    if (!signal.aborted) await sleep(intervalMs);
  }
  signal.removeEventListener("abort", onAbort);
  for (const c of cursors) if (c.fd !== null) fs.closeSync(c.fd);
}

/** One poll of one file: what was appended, then a rotation if there was one. */
async function followOne(c: Cursor, emit: LogSink, stop: Promise<void>): Promise<void> {
  await drain(c, emit, stop);
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(c.path);
  } catch {
    st = null;
  }
  if (st && (c.fd === null || st.ino !== c.ino)) {
    // Rotated: finish the old file (again: lines may have reached it between the drain above
    // and the rename), then follow the new one from its start.
    if (c.fd !== null) {
      await drain(c, emit, stop);
      fs.closeSync(c.fd);
    }
    openAt(c, false);
    await drain(c, emit, stop);
  }
}

export type { LogLine, LogsResult };
