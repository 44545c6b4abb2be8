/**
 * Opening, reading, tailing and creating files as root where other local users may reach, so
 * that a planted symlink, FIFO, socket or device, a hard link, a huge log line or the umask
 * cannot turn root's access against it. Whether a path can be trusted at all is trust.ts.
 */
import fs from "node:fs";
import path from "node:path";
import { errnoCode, lstatOrNull, shownPath, TrustError } from "./trust.js";

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_DIRECTORY } = fs.constants;

// ---------------------------------------------------------------------------------------------
// Opening and reading without following symlinks or blocking on FIFOs

function euid(): number {
  const uid = process.geteuid?.();
  if (uid === undefined) throw new Error("trust checks need a POSIX system (process.geteuid)");
  return uid;
}

function openError(file: string, e: unknown): TrustError {
  const code = errnoCode(e);
  const cause = { cause: e };
  if (code === "ELOOP") return new TrustError("symlink", file, `${shownPath(file)} is a symbolic link`, cause);
  // ENXIO: a socket, or a FIFO opened for writing with no reader (O_NONBLOCK); EISDIR: a directory opened to write.
  if (code === "ENXIO" || code === "EISDIR") return new TrustError("not_regular", file, `${shownPath(file)} is not a regular file`, cause);
  if (code === "ENOTDIR") return new TrustError("not_directory", file, `${shownPath(file)} (or a parent of it) is not a directory`, cause);
  if (code === "ENOENT") return new TrustError("not_found", file, `${shownPath(file)} does not exist`, cause);
  if (code === "EEXIST") return new TrustError("exists", file, `${shownPath(file)} already exists`, cause);
  return new TrustError("io", file, `cannot open ${shownPath(file)}: ${(e as Error).message}`, cause);
}

function notRegular(file: string, st: fs.Stats): TrustError | undefined {
  if (st.isSymbolicLink()) return new TrustError("symlink", file, `${shownPath(file)} is a symbolic link`);
  if (!st.isFile()) return new TrustError("not_regular", file, `${shownPath(file)} is not a regular file`);
  return undefined;
}

/**
 * Refuses before open() what open() must never touch: opening a device can have side effects
 * (a tape rewinds, a tty may become our controlling terminal). fstat after open still decides.
 */
function refuseSpecial(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return; // missing or unreadable: open() reports it (or creates the file)
  }
  const err = notRegular(file, st);
  if (err) throw err;
}

/** fstat an fd we own and close it if it is not a regular file. */
function requireRegularFd(fd: number, file: string): fs.Stats {
  const st = fs.fstatSync(fd);
  const err = notRegular(file, st);
  if (err) {
    fs.closeSync(fd);
    throw err;
  }
  return st;
}

/**
 * Opens `file` with O_NOFOLLOW | O_NONBLOCK | O_NOCTTY added to `flags` and returns the fd of a
 * regular file, or throws TrustError: "symlink" (a symlink as the last component; ancestors are
 * followed, check them with untrustedReason), "not_regular" (FIFO, socket, device, directory), "not_found".
 * O_NONBLOCK keeps a planted FIFO from hanging us and changes nothing for regular files, so it stays set.
 */
export function openNoFollow(file: string, flags: number = O_RDONLY, mode = 0o600): number {
  refuseSpecial(file);
  let fd: number;
  try {
    fd = fs.openSync(file, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, mode);
  } catch (e) {
    throw openError(file, e);
  }
  requireRegularFd(fd, file);
  return fd;
}

/** Reads fd from `pos` until `len` bytes or end of file; fewer bytes mean the file shrank meanwhile. */
function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * Reads a regular file as UTF-8 through openNoFollow, refusing (TrustError "too_large") one over
 * `maxBytes` (default 8 MiB) even if it grows while being read.
 */
export function readRegularFile(file: string, maxBytes = 8 * 1024 * 1024): string {
  const fd = openNoFollow(file, O_RDONLY);
  try {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const part = readAt(fd, total, Math.min(CHUNK, maxBytes + 1 - total));
      if (part.length === 0) break;
      parts.push(part);
      total += part.length;
      if (total > maxBytes) throw new TrustError("too_large", file, `${shownPath(file)} is larger than ${maxBytes} bytes`);
    }
    return Buffer.concat(parts, total).toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// tailLinesSafe

const CHUNK = 64 * 1024;

export interface TailOptions {
  /** Refuse (TrustError "hard_link") a file with more than one name: another user may hold the other. */
  singleLink?: boolean;
  /**
   * Refuse (TrustError "wrong_owner") a file not owned by one of these uids, or writable by its
   * group or others: whoever else could write it could have written any line of it.
   */
  owners?: readonly number[];
}

/** Throws TrustError "wrong_owner" for a file another user owns or can write (the caller closes fd). */
function refuseOthers(st: fs.Stats, file: string, owners: readonly number[]): void {
  const why = !owners.includes(st.uid)
    ? `is owned by uid ${st.uid}, not by ${owners.map((u) => `uid ${u}`).join(" or ")}`
    : (st.mode & 0o022) !== 0 && `can be written by its group or others (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`;
  if (why) throw new TrustError("wrong_owner", file, `${shownPath(file)} ${why}`);
}

/** Throws TrustError "hard_link" when the open file has more than one link (the caller closes fd). */
function refuseHardLinked(st: fs.Stats, file: string): void {
  if (st.nlink > 1) {
    throw new TrustError(
      "hard_link",
      file,
      `${shownPath(file)} has ${st.nlink} hard links: whoever holds another one can read and write it`,
    );
  }
}

/** The last lines of a file; `truncated` counts lines cut to maxLineBytes (0 or 1: only lines[0] can be cut). */
export interface Tail {
  lines: string[];
  truncated: number;
}

/** How far a backwards scan of a log may go. */
export interface ScanLimits {
  /** The most lines returned. */
  maxLines: number;
  /** A longer line is cut to its last maxLineBytes bytes and ends the scan (see tailLinesSafe). */
  maxLineBytes: number;
  /** Read at most this many bytes from the end of the file; the line this bound cuts through is left out. */
  maxBytes?: number;
  /** The scan ends once a line for which this is true has been taken (it is returned, as lines[0]). */
  stopAt?: (line: string) => boolean;
}

/** A bounded scan of the end of one log file, as opened. */
export interface LogScan extends Tail {
  /** The file's first line was taken: nothing older is left in this file. */
  startReached: boolean;
  /** Which file was read (another name for it, as after a rename, is the same dev and ino), and its size then. */
  dev: number;
  ino: number;
  size: number;
}

interface Scan {
  /** Newest first while scanning. */
  lines: string[];
  truncated: number;
  /** The line being assembled, its pieces newest first. */
  parts: Buffer[];
  partLen: number;
  limits: ScanLimits;
}

/**
 * The last `n` lines of a log file, opened with openNoFollow (a missing file gives no lines). Read
 * backwards in 64 KiB chunks, so work and memory follow the lines asked for, never the file size.
 * A line longer than `maxLineBytes` is cut to its LAST maxLineBytes bytes (moved forward to a UTF-8
 * character boundary) and ENDS the scan: it is returned as lines[0], counted in `truncated`, and
 * older lines are not looked for, since finding where it starts could mean reading the whole file.
 * So at most about n * maxLineBytes + 128 KiB is read or held. A final line without a newline
 * counts; "\r\n" endings lose the "\r"; bytes appended after the call starts are ignored.
 * With `singleLink`, a file with more than one hard link is refused (TrustError "hard_link").
 */
export function tailLinesSafe(file: string, n: number, maxLineBytes = 64 * 1024, opts: TailOptions = {}): Tail {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`line count must be a whole number >= 0, not ${n}`);
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError(`maxLineBytes must be >= 1, not ${maxLineBytes}`);
  if (n === 0) return { lines: [], truncated: 0 };
  const scan = scanLogTail(file, { maxLines: n, maxLineBytes }, opts);
  return scan ? { lines: scan.lines, truncated: scan.truncated } : { lines: [], truncated: 0 };
}

/**
 * The end of a log file read backwards as tailLinesSafe reads it (openNoFollow: no symlink, no
 * FIFO, regular files only; `singleLink` refuses a second hard link), within `limits`: at most
 * maxLines lines and maxBytes bytes, ending at the first line `stopAt` accepts. null when there
 * is no such file. Says whether the file's start was reached and which file it was.
 */
export function scanLogTail(file: string, limits: ScanLimits, opts: TailOptions = {}): LogScan | null {
  const { maxLines, maxLineBytes, maxBytes } = limits;
  if (!Number.isSafeInteger(maxLines) || maxLines < 1) throw new RangeError(`maxLines must be a whole number >= 1, not ${maxLines}`);
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError(`maxLineBytes must be >= 1, not ${maxLineBytes}`);
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 0))
    throw new RangeError(`maxBytes must be a whole number >= 0, not ${maxBytes}`);
  let fd: number;
  try {
    fd = openNoFollow(file, O_RDONLY);
  } catch (e) {
    if (e instanceof TrustError && e.code === "not_found") return null;
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    if (opts.singleLink) refuseHardLinked(st, file);
    if (opts.owners) refuseOthers(st, file, opts.owners);
    return { ...scanBackwards(fd, st.size, limits), dev: st.dev, ino: st.ino, size: st.size };
  } finally {
    fs.closeSync(fd);
  }
}

function scanBackwards(fd: number, size: number, limits: ScanLimits): Tail & { startReached: boolean } {
  const s: Scan = { lines: [], truncated: 0, parts: [], partLen: 0, limits };
  const floor = limits.maxBytes === undefined ? 0 : Math.max(0, size - limits.maxBytes);
  let pos = size;
  while (pos > floor) {
    const len = Math.min(CHUNK, pos - floor);
    const chunk = readAt(fd, pos - len, len);
    if (chunk.length < len) return done(s, false); // truncated under us (rotation): what is complete stands
    // The file's last newline ends the last line rather than starting an empty one.
    const end = pos === size && chunk[len - 1] === 0x0a ? len - 1 : len;
    pos -= len;
    if (takeLines(s, chunk, end)) return done(s, false);
  }
  if (floor === 0) {
    if (size > 0) finishLine(s); // the file's first line has no newline before it
    return done(s, true);
  }
  // Stopped by maxBytes: the oldest piece is a whole line only if a newline comes just before it.
  if (floor < size && readAt(fd, floor - 1, 1)[0] === 0x0a) finishLine(s);
  return done(s, false);
}

/** Splits one chunk (up to `end`) into lines, newest first; true when the scan is over. */
function takeLines(s: Scan, chunk: Buffer, end: number): boolean {
  const { maxLines, maxLineBytes, stopAt } = s.limits;
  while (end > 0) {
    const nl = chunk.lastIndexOf(0x0a, end - 1);
    if (nl < 0) break;
    addPart(s, chunk.subarray(nl + 1, end));
    if (s.partLen > maxLineBytes) return cutLine(s, maxLineBytes);
    finishLine(s);
    if (s.lines.length >= maxLines || stopAt?.(s.lines[s.lines.length - 1] as string)) return true;
    end = nl;
  }
  addPart(s, chunk.subarray(0, end));
  return s.partLen > maxLineBytes ? cutLine(s, maxLineBytes) : false;
}

function addPart(s: Scan, part: Buffer): void {
  if (part.length === 0) return;
  s.parts.push(part);
  s.partLen += part.length;
}

function finishLine(s: Scan): void {
  const bytes = s.parts.length === 1 ? (s.parts[0] as Buffer) : Buffer.concat(s.parts.reverse(), s.partLen);
  s.lines.push(stripCr(bytes.toString("utf8")));
  s.parts = [];
  s.partLen = 0;
}

function cutLine(s: Scan, maxLine: number): true {
  const bytes = Buffer.concat(s.parts.reverse(), s.partLen);
  let start = bytes.length - maxLine;
  // Never start on a UTF-8 continuation byte (10xxxxxx): drop the rest of a split character.
  while (start < bytes.length && ((bytes[start] as number) & 0xc0) === 0x80) start++;
  s.lines.push(stripCr(bytes.subarray(start).toString("utf8")));
  s.truncated++;
  s.parts = [];
  s.partLen = 0;
  return true;
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

function done(s: Scan, startReached: boolean): Tail & { startReached: boolean } {
  return { lines: s.lines.reverse(), truncated: s.truncated, startReached };
}

// ---------------------------------------------------------------------------------------------
// Creating files and directories with exact modes

function checkMode(mode: number): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new RangeError(`mode must be within 0..07777, not ${mode}`);
}

/**
 * Creates `file`, which must not exist (not even as a dangling symlink: TrustError "exists"), and
 * writes `content` to it, ending with exactly `mode` whatever the umask. It is created 0600 and
 * fchmod-ed only once written, so no one else can open it half-written; a failed write removes it.
 */
export function writeFileExclusive(file: string, content: string | Uint8Array, mode: number): void {
  checkMode(mode);
  let fd: number;
  try {
    fd = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY, 0o600);
  } catch (e) {
    throw openError(file, e);
  }
  try {
    fs.writeFileSync(fd, content);
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw new TrustError("io", file, `cannot write ${shownPath(file)}: ${(e as Error).message}`, { cause: e });
  }
  fs.closeSync(fd);
}

/**
 * Makes directory `dir` (its parent must exist) or accepts an existing one owned by the caller
 * (euid), and sets exactly `mode` on it whatever the umask. Refuses a symlink ("symlink"), a
 * non-directory ("not_directory") or another owner's directory ("wrong_owner"). The mode is set
 * through an fd opened with O_NOFOLLOW, so a directory swapped for a symlink meanwhile is not chmod-ed.
 */
export function mkdirMode(dir: string, mode: number): void {
  checkMode(mode);
  try {
    fs.mkdirSync(dir, 0o700); // never wider than wanted before the fchmod below
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT") throw new TrustError("not_found", dir, `${shownPath(path.dirname(dir))} does not exist`, { cause: e });
    if (code !== "EEXIST") throw openError(dir, e);
  }
  let fd: number;
  try {
    fd = fs.openSync(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  } catch (e) {
    // With O_DIRECTORY, Linux reports a symlink as ENOTDIR rather than ELOOP: tell them apart.
    if (errnoCode(e) !== "ENOTDIR") throw openError(dir, e);
    const link = lstatOrNull(dir);
    if (typeof link === "object" && link?.isSymbolicLink())
      throw new TrustError("symlink", dir, `${shownPath(dir)} is a symbolic link`, { cause: e });
    throw new TrustError("not_directory", dir, `${shownPath(dir)} is not a directory`, { cause: e });
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.uid !== euid()) throw new TrustError("wrong_owner", dir, `${shownPath(dir)} is owned by uid ${st.uid}, not by uid ${euid()}`);
    fs.fchmodSync(fd, mode);
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Lock files

/** Opens an existing lock file or creates it 0600; O_EXCL tells which happened. */
function openOrCreateLock(file: string): number {
  const flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
  // Two rounds: the file may vanish between EEXIST and the plain open (someone removed a stale lock).
  for (let round = 0; round < 2; round++) {
    try {
      const fd = fs.openSync(file, flags | O_CREAT | O_EXCL, 0o600);
      fs.fchmodSync(fd, 0o600); // the umask may have removed bits
      return fd;
    } catch (e) {
      if (errnoCode(e) !== "EEXIST") throw openError(file, e);
    }
    refuseSpecial(file);
    try {
      return fs.openSync(file, flags);
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") throw openError(file, e);
    }
  }
  throw new TrustError("io", file, `${shownPath(file)} keeps disappearing while being opened`);
}

/**
 * Opens lock file `file` read-write (creating it with mode 0600 if missing) and returns its fd.
 * Refuses (TrustError) a symlink, anything but a regular file, and a file not owned by the caller
 * (euid): someone else's file could be locked by them forever. An existing file of ours whose
 * mode is not 0600 is set to 0600, so other users cannot open it to hold the lock.
 */
export function openLockFile(file: string): number {
  const fd = openOrCreateLock(file);
  const st = requireRegularFd(fd, file);
  try {
    if (st.uid !== euid()) throw new TrustError("wrong_owner", file, `${shownPath(file)} is owned by uid ${st.uid}, not by uid ${euid()}`);
    if ((st.mode & 0o7777) !== 0o600) fs.fchmodSync(fd, 0o600);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}
