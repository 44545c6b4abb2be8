/**
 * What Linux's /proc says about a process that supervisord runs: resident memory, CPU time, when
 * it started and its working directory. A process that has gone meanwhile (it exited, or its pid
 * is another process's now) is no error: it has no stats, and its value is null.
 */
import fs from "node:fs";
import path from "node:path";
import { VexoError } from "../errors.js";
import { errnoCode, shownPath } from "./trust.js";

/**
 * Clock ticks per second of the times in /proc/PID/stat (USER_HZ). Linux fixes it at 100 on every
 * architecture Debian ships a kernel for (amd64, arm64, armhf, i386, ppc64el, s390x, riscv64,
 * mips64el), whatever the kernel's internal HZ; only alpha and ia64 used another. Node cannot call
 * sysconf(_SC_CLK_TCK) without spawning getconf, so it is a constant here.
 */
export const USER_HZ = 100;

/** One process as /proc shows it. */
export interface ProcStat {
  pid: number;
  /**
   * Resident memory in bytes: VmRSS of /proc/PID/status (anonymous, file-backed and shared pages,
   * the counter statm's second field also shows, and `ps`'s RSS). Read there rather than from
   * statm because it is in kB, so no page size is needed (4 KiB on amd64, 16 or 64 KiB on some
   * arm64 and ppc64el kernels, and Node cannot ask). 0 for a process without memory of its own.
   */
  rssBytes: number;
  /** CPU time of the process itself (user + system), in seconds; its reaped children not counted. */
  cpuSeconds: number;
  /** When it started, as a Unix time in seconds (ticks since boot + boot time: to within about a second). */
  startTime: number;
  /**
   * Its working directory as the kernel names it (" (deleted)" appended when the directory is
   * gone); null when it is not known: only root and the process's own user may read it (EACCES).
   */
  cwd: string | null;
}

/** The fields of /proc/PID/stat that ProcStat uses, in clock ticks. */
export interface StatFields {
  /** The one-letter state (R, S, D, Z, ...). */
  state: string;
  utime: number;
  stime: number;
  /** Ticks since boot when the process started. */
  starttime: number;
}

const malformed = (what: string, text: string) =>
  new VexoError("internal", `unexpected content in ${what}: ${JSON.stringify(text.slice(0, 200))}`);

/**
 * Parses /proc/PID/stat. The command name (field 2, in parentheses) may hold spaces, parentheses
 * and even newlines, so the fields are counted from the LAST ')' on: field N is at N - 3 after it.
 */
export function parseStat(text: string): StatFields {
  const close = text.lastIndexOf(")");
  const f =
    close < 0
      ? []
      : text
          .slice(close + 1)
          .trim()
          .split(/ +/u);
  const num = (n: number) => Number(f[n - 3]);
  const out = { state: f[0] ?? "", utime: num(14), stime: num(15), starttime: num(22) };
  if (out.state === "" || ![out.utime, out.stime, out.starttime].every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw malformed("/proc/PID/stat", text);
  }
  return out;
}

/** VmRSS of /proc/PID/status in bytes; 0 when absent (a zombie or a kernel thread has no memory of its own). */
export function parseStatusRss(text: string): number {
  const m = /^VmRSS:\s*(\d+) kB$/mu.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** The boot time (`btime`) of /proc/stat, as a Unix time in seconds. */
export function parseBootTime(text: string): number {
  const m = /^btime (\d+)$/mu.exec(text);
  if (!m) throw malformed("/proc/stat", text);
  return Number(m[1]);
}

/** Errors that mean the process is not there to be read (it exited, or the pid is not one). */
const GONE = new Set(["ENOENT", "ESRCH"]);

/** What a read found: its value, or why there is none. */
type Got<T> = { ok: true; value: T } | { ok: false; code: "gone" | "denied" };

/** One read of a /proc file: gone and denied are answers, anything else is an io_error. */
function attempt<T>(file: string, read: () => T): Got<T> {
  try {
    return { ok: true, value: read() };
  } catch (e) {
    const code = errnoCode(e) ?? "";
    if (GONE.has(code)) return { ok: false, code: "gone" };
    if (code === "EACCES" || code === "EPERM") return { ok: false, code: "denied" };
    throw new VexoError("io_error", `cannot read ${shownPath(file)}: ${(e as Error).message}`);
  }
}

/**
 * A /proc file's text, read through one descriptor into a buffer: /proc files report size 0, on
 * which readFileSync's fstat-and-grow reading costs several times more (400 processes: 13 ms
 * against 3 ms here). Files larger than 64 KiB are cut there (stat and status are ~1 KiB).
 */
const readText = (file: string, buf: Buffer) => () => {
  const fd = fs.openSync(file, "r");
  try {
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = fs.readSync(fd, buf, n, buf.length - n, null);
    return buf.toString("latin1", 0, n);
  } finally {
    fs.closeSync(fd);
  }
};

/**
 * One pid's stats, or null when it has none: gone (at any step, or a zombie), or hidden from this caller
 * (/proc mounted with hidepid). The stat file is read again last: a different start time means
 * the pid was reused meanwhile, and what was read belongs to two processes.
 */
function readOne(pid: number, root: string, bootTime: number, buf: Buffer): ProcStat | null {
  const dir = path.join(root, String(pid));
  const stat = attempt(`${dir}/stat`, readText(`${dir}/stat`, buf));
  if (!stat.ok) return null;
  const fields = parseStat(stat.value);
  if (fields.state === "Z" || fields.state === "X") return null; // exited, not yet reaped: gone
  const status = attempt(`${dir}/status`, readText(`${dir}/status`, buf));
  if (!status.ok) return null;
  const cwd = attempt(`${dir}/cwd`, () => fs.readlinkSync(`${dir}/cwd`));
  if (!cwd.ok && cwd.code === "gone") return null;
  const again = attempt(`${dir}/stat`, readText(`${dir}/stat`, buf));
  if (!again.ok || parseStat(again.value).starttime !== fields.starttime) return null;
  return {
    pid,
    rssBytes: parseStatusRss(status.value),
    cpuSeconds: (fields.utime + fields.stime) / USER_HZ,
    startTime: bootTime + fields.starttime / USER_HZ,
    cwd: cwd.ok ? cwd.value : null,
  };
}

/**
 * The stats of each pid, read from `root` (/proc; a fake tree in tests): null for a pid whose
 * process has gone (ENOENT/ESRCH at any step) or is hidden from the caller; never an error for
 * those. /proc/stat's boot time is read once per call. Throws VexoError io_error when /proc itself
 * cannot be read (not mounted), and RangeError for a pid that is not a positive integer.
 */
export function readProcStats(pids: readonly number[], root = "/proc"): Map<number, ProcStat | null> {
  const out = new Map<number, ProcStat | null>();
  for (const pid of pids) if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`not a pid: ${pid}`);
  if (pids.length === 0) return out;
  const statFile = path.join(root, "stat");
  const buf = Buffer.allocUnsafe(65536);
  const boot = attempt(statFile, readText(statFile, buf));
  if (!boot.ok) throw new VexoError("io_error", `cannot read ${shownPath(statFile)} (${boot.code === "gone" ? "missing" : "denied"})`);
  const bootTime = parseBootTime(boot.value);
  for (const pid of pids) if (!out.has(pid)) out.set(pid, readOne(pid, root, bootTime, buf));
  return out;
}
