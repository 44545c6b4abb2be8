import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import type { Layout } from "./layout.js";
import { type ProcStat, readProcStats } from "./procstat.js";
import { untrustedReason } from "./trust.js";
import { readRegularFile } from "./safe-files.js";

// What only the machine can tell, as one seam (`Machine`): who a user is, which uid and PATH
// supervisord runs with, whether a file is there and may be run, what /proc says of a process.
// `SupervisordClient` carries it (`sv.machine`): the CLI uses `realMachine`, unit tests script
// one, so every refusal of planAdd and planRemove, and the choice of stale workers, is tested
// without /proc, /etc/passwd or getent.

/** The machine lookups the write path (and the choice of stale workers) makes. */
export interface Machine {
  /** The uid of user NAME, or null when there is no such user. */
  userUid(name: string): Promise<number | null>;
  /** The uid supervisord runs as, or null when it cannot be told (callers assume root). */
  supervisordUid(layout: Layout): number | null;
  /** supervisord's PATH (where `command=php ...` finds php). */
  supervisordPathVar(layout: Layout): string;
  /** True for a regular file the caller may execute. */
  isExecutable(file: string): boolean;
  /** True for a regular file (followed through links), e.g. an application's artisan. */
  isFile(file: string): boolean;
  /** What a path is (links followed, as chdir follows them): a directory with its mode and owner, something else, or nothing. */
  statPath(p: string): PathStat | null;
  /** What /proc says of each pid (procstat.ts): null for one that has gone. */
  procStats(pids: readonly number[]): Map<number, ProcStat | null>;
}

/**
 * The whole environment of a supervisord that vexo-sv starts, and so of every worker it runs:
 * nothing of the caller's (a CI token, root's HOME) reaches a worker; a worker's own variables
 * come from its `environment=` (`worker add --env`).
 */
export const SUPERVISORD_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C.UTF-8",
};

/** Finds an executable on PATH, without spawning `which` (`isExecutable`: the machine's check, for a scripted one). */
export function onPath(
  cmd: string,
  pathVar = process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
  executable: (file: string) => boolean = isExecutable,
): string | null {
  for (const dir of pathVar.split(":")) {
    const f = path.join(dir || ".", cmd);
    if (executable(f)) return f;
  }
  return null;
}

/** True for a regular file the caller may execute. */
export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A path as stat(2) shows it, links followed. */
export interface PathStat {
  isDirectory: boolean;
  mode: number;
  uid: number;
  gid: number;
}

function statPath(p: string): PathStat | null {
  try {
    const st = fs.statSync(p);
    return { isDirectory: st.isDirectory(), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch {
    return null;
  }
}

/** True for a regular file (links followed). */
function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The uid of user NAME (/etc/passwd first, then NSS via getent), or null when there is no such user. */
export async function userUid(name: string): Promise<number | null> {
  const uidIn = (text: string) => {
    const line = text.split("\n").find((l) => l.split(":", 1)[0] === name);
    return line ? Number(line.split(":")[2]) : null;
  };
  try {
    const uid = uidIn(fs.readFileSync("/etc/passwd", "utf8"));
    if (uid !== null) return uid;
  } catch {
    // fall through to getent
  }
  const r = await execa("getent", ["passwd", name], { reject: false, stdin: "ignore" });
  return r.exitCode === 0 ? uidIn(String(r.stdout)) : null;
}

/** Who may have written a file vexo-sv believes: root and the caller. */
const TRUSTED_UIDS = () => [...new Set([0, process.geteuid?.() ?? 0])];

/**
 * The pid in supervisord's pidfile if that process is alive, else null. A pidfile another user
 * could have written (or planted as a FIFO) is not believed: its pid would decide whose uid a
 * worker runs as, and whose environment is read.
 */
export function supervisordPid(layout: Layout): number | null {
  if (untrustedReason(layout.pidfile, { trustedUids: TRUSTED_UIDS() })) return null;
  let pid: number;
  try {
    pid = Number(readRegularFile(layout.pidfile, 64).trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return alive(pid) && isSupervisordOf(pid, layout) ? pid : null;
}

/** A process's real and effective uids (/proc), or null when it is gone or this is not Linux. */
function processUids(pid: number): { real: number; effective: number } | null {
  try {
    const m = /^Uid:\s+(\d+)\s+(\d+)/mu.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? { real: Number(m[1]), effective: Number(m[2]) } : null;
  } catch {
    return null;
  }
}

/** The uid a process runs as (its effective uid), or null when it is gone or this is not Linux. */
function processUid(pid: number): number | null {
  return processUids(pid)?.effective ?? null;
}

/** The inodes of the listening unix sockets bound to `file` (/proc/net/unix). */
function socketInodes(file: string): Set<string> {
  const out = new Set<string>();
  try {
    for (const line of fs.readFileSync("/proc/net/unix", "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/u);
      if (f.length >= 8 && f.slice(7).join(" ") === file) out.add(f[6] as string);
    }
  } catch {
    // not Linux
  }
  return out;
}

/**
 * Whether the process at a pidfile's pid is really this layout's supervisord. A pid is reused
 * once supervisord is gone, possibly by another user's process, whose uid would then decide
 * whether `user=` is kept (a root supervisord running a worker as root). A root-owned process
 * (real and effective uid 0) is believed; any other must hold supervisord's unix socket open
 * (its fds against /proc/net/unix).
 */
function isSupervisordOf(pid: number, layout: Layout): boolean {
  const ids = processUids(pid);
  if (ids === null) return true; // not Linux: as before
  // Whose it is: a setuid-root program another user runs (chfn waiting for a password) has
  // effective uid 0, and their real uid, name, arguments and environment; it is not root's.
  const uid = ids.real === ids.effective ? ids.effective : -1;
  if (uid === 0 || layout.server.kind !== "unix") return uid === 0 || uid === process.geteuid?.();
  const inodes = socketInodes(layout.server.path);
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      const m = /^socket:\[(\d+)\]$/u.exec(readlinkOrEmpty(`/proc/${pid}/fd/${fd}`));
      return m !== null && inodes.has(m[1] as string);
    });
  } catch {
    return uid === process.geteuid?.(); // not ours to look into: only our own process is believed
  }
}

function readlinkOrEmpty(p: string): string {
  try {
    return fs.readlinkSync(p);
  } catch {
    return "";
  }
}

/** True while a process with that pid exists (EPERM: it exists, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The uid supervisord runs as: from /proc of its pid, else the owner of its unix socket,
 * else null (unknown; callers assume root, the usual system setup).
 */
export function supervisordUid(layout: Layout): number | null {
  const pid = supervisordPid(layout);
  const uid = pid === null ? null : processUid(pid);
  if (uid !== null) return uid;
  if (layout.server.kind !== "unix") return null;
  // The socket's owner, only where nobody else could have put a socket of theirs.
  if (untrustedReason(path.dirname(layout.server.path), { trustedUids: TRUSTED_UIDS() })) return null;
  try {
    return fs.lstatSync(layout.server.path).uid;
  } catch {
    return null;
  }
}

/** supervisord's PATH (where `command=php ...` finds php): from its /proc environ when readable, else the one vexo-sv starts it with. */
export function supervisordPathVar(layout: Layout): string {
  const pid = supervisordPid(layout);
  if (pid !== null) {
    try {
      const env = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      const p = env.find((v) => v.startsWith("PATH="));
      if (p) return p.slice(5);
    } catch {
      // not ours to read, or gone
    }
  }
  return SUPERVISORD_ENV.PATH as string;
}

/** This machine. */
export const realMachine: Machine = {
  statPath,
  userUid,
  supervisordUid,
  supervisordPathVar,
  isExecutable,
  isFile,
  procStats: (pids) => readProcStats(pids),
};
