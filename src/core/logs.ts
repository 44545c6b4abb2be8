import fs from "node:fs";
import { invalid, VexoError } from "../errors.js";
import { ioError } from "./fsutil.js";
import { openNoFollow, tailLinesSafe } from "./trust.js";
import type { Layout } from "./layout.js";
import { readPrograms } from "./programs.js";
import type { LogLine, LogsResult } from "./results.js";

const CHUNK = 64 * 1024;

/** The longest line shown whole; a longer one is cut to its last MAX_LINE_BYTES bytes. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * The last `n` lines of a log file, read backwards from its end, so the cost follows n and the
 * line length, never the file's size. Opened without following a symlink, and only a regular
 * file (a planted FIFO cannot hang it). A line over MAX_LINE_BYTES is cut to its last
 * MAX_LINE_BYTES bytes and is the oldest line returned (see trust.ts: tailLinesSafe). A missing
 * file gives no lines.
 */
export function tailLines(file: string, n: number): string[] {
  if (n <= 0) return [];
  try {
    return tailLinesSafe(file, n, MAX_LINE_BYTES).lines;
  } catch (e) {
    throw ioError("read", file, e);
  }
}

export interface LogsInput {
  /** A worker; undefined for supervisord's own log. */
  name?: string | undefined;
  lines: number;
  process?: number | undefined;
}

/** Log files of a worker (or supervisord's own), only ever those its config names. */
export function logFiles(layout: Layout, opts: LogsInput): { process: string; path: string }[] {
  if (!opts.name) return [{ process: "supervisord", path: layout.supervisordLog }];
  const entry = readPrograms(layout).find((e) => e.name === opts.name);
  if (!entry) throw new VexoError("not_found", `no program named ${opts.name} in ${layout.confDir}`, { details: { names: [opts.name] } });
  if (entry.logs.length === 0) {
    throw new VexoError("not_found", `${opts.name} does not log to a file named in its config (stdout_logfile)`, {
      hint: `use \`supervisorctl -c ${layout.config} tail ${opts.name}\``,
    });
  }
  let files = entry.logs.map((p, i) => ({
    process: entry.logs.length > 1 || entry.numprocs > 1 ? `${entry.name}_${String(i).padStart(2, "0")}` : entry.name,
    path: p,
  }));
  if (opts.process !== undefined) {
    const f = files[opts.process];
    if (!f) {
      throw invalid("process", `${opts.name} has no process ${opts.process}; it has ${files.length} (0-${files.length - 1})`);
    }
    files = [f];
  }
  return files;
}

/** The last lines of each log file, labelled with their process. */
export function readLogs(layout: Layout, opts: LogsInput): LogsResult {
  const files = logFiles(layout, opts);
  const lines: LogLine[] = [];
  for (const f of files) for (const line of tailLines(f.path, opts.lines)) lines.push({ process: f.process, line });
  return { files, lines };
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
    c.ino = st.ino;
    c.pos = fromEnd ? st.size : 0;
    c.partial = "";
    c.head = readHead(c.fd, st.size);
  } catch {
    c.fd = null;
  }
}

function drain(c: Cursor, emit: (l: LogLine) => void): void {
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
  while (c.pos < size) {
    const len = Math.min(CHUNK, size - c.pos);
    const buf = Buffer.alloc(len);
    const n = fs.readSync(c.fd, buf, 0, len, c.pos);
    if (n <= 0) break;
    c.pos += n;
    const parts = (c.partial + buf.subarray(0, n).toString("utf8")).split("\n");
    // A line with no end yet is held up to MAX_LINE_BYTES (its last bytes), however long it grows.
    c.partial = (parts.pop() ?? "").slice(-MAX_LINE_BYTES);
    for (const p of parts) emit({ process: c.process, line: p.endsWith("\r") ? p.slice(0, -1) : p });
  }
}

/**
 * Streams lines appended to the files until `signal` aborts. Survives rotation: a file
 * renamed away and recreated is read to its end, then the new one from its start; a file
 * truncated in place is read again from its start. Polls (no inotify: works on every fs).
 */
export async function followLogs(
  files: { process: string; path: string }[],
  emit: (l: LogLine) => void,
  signal: AbortSignal,
  intervalMs = 200,
): Promise<void> {
  // One abort listener for the whole follow (not one per poll), waking the current sleep.
  let wake = () => {};
  const onAbort = () => wake();
  signal.addEventListener("abort", onAbort, { once: true });
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
  const cursors: Cursor[] = files.map((f) => ({ ...f, fd: null, ino: 0, pos: 0, partial: "", head: Buffer.alloc(0) }));
  for (const c of cursors) openAt(c, true);
  while (!signal.aborted) {
    for (const c of cursors) {
      drain(c, emit);
      let st: fs.Stats | null = null;
      try {
        st = fs.statSync(c.path);
      } catch {
        st = null;
      }
      if (st && (c.fd === null || st.ino !== c.ino)) {
        // Rotated: finish the old file, then follow the new one from its start.
        if (c.fd !== null) fs.closeSync(c.fd);
        openAt(c, false);
        drain(c, emit);
      }
    }
    await sleep(intervalMs);
  }
  signal.removeEventListener("abort", onAbort);
  for (const c of cursors) if (c.fd !== null) fs.closeSync(c.fd);
}

export type { LogLine, LogsResult };
