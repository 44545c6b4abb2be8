import fs from "node:fs";
import path from "node:path";
import { invalid } from "../errors.js";
import { logPath } from "./program-file.js";
import { DEFAULTS, unsafeReason } from "./rules.js";
import type { WorkerSpec } from "./spec.js";
import type { World } from "./world.js";
import { hasUnshowable, shownPath, untrustedAt, untrustedReason } from "./trust.js";

// What another local user could have planted where a worker writes or what it runs: its log
// directory (and what already sits in it), a root worker's whole application tree (links
// followed), and the other applications whose workers share its user. Split from workers.ts,
// which plans and applies; these only look, and refuse or warn.

/** The most problems one refusal lists (the hint covers the rest: the whole directory is cleaned). */
const MAX_LISTED = 20;

/**
 * The log files supervisord opens or rotates for a worker: each process's NAME_NN.log and its .1
 * .. .N (N: its stdout_logfile_backups, supervisord's 10 unless set; at least 10 are looked at, so a
 * lowered count still covers the backups an earlier spec left).
 */
export function workerLogNames(logDir: string, worker: { name: string; procs: number; logBackups?: number }): string[] {
  const backups = Math.max(DEFAULTS.logBackups, worker.logBackups ?? DEFAULTS.logBackups);
  const out: string[] = [];
  for (let i = 0; i < worker.procs; i++) {
    const log = logPath(logDir, worker.name, i);
    out.push(log, ...Array.from({ length: backups }, (_, k) => `${log}.${k + 1}`));
  }
  return out;
}

/** lstat, with a missing file as null and any other failure as why (a caller fails closed on it). */
function lstatOrWhy(f: string): fs.Stats | null | string {
  try {
    return fs.lstatSync(f);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? null : `${shownPath(f)} cannot be inspected (${code ?? (e as Error).message})`;
  }
}

/**
 * Why an entry of the log directory may be another user's, or undefined. A symlink is refused
 * whoever owns it (`chown -R` makes a planted link root's without making it root's idea); one
 * of the worker's own log names must also be a regular file, since supervisord appends to it,
 * with one link only (a hard link stays the planter's way in after `chown -R`) and writable by
 * its owner only.
 */
function entryProblem(f: string, st: fs.Stats, trusted: readonly number[], own: boolean): string | undefined {
  const shown = shownPath(f);
  if (st.isSymbolicLink()) return `${shown} is a symbolic link`;
  if (!trusted.includes(st.uid)) return `${shown} is owned by uid ${st.uid}`;
  if (!own) return undefined;
  if (!st.isFile()) return `${shown} is not a regular file`;
  if (st.nlink > 1) return `${shown} has ${st.nlink} hard links (whoever holds another one reads and writes this log)`;
  if ((st.mode & 0o022) !== 0) return `${shown} is writable by ${st.mode & 0o002 ? "others" : "its group"} (mode ${octal(st.mode)})`;
  return undefined;
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");

/**
 * What in the log directory another user may have planted. With a root supervisord (trusted
 * [0]) every entry counts: an attacker who once owned the directory could have planted links
 * for a worker added later. With a supervisord of another user only the worker's own log names
 * are looked at: it writes only what its user could write anyway.
 */
export function logDirProblems(
  logDir: string,
  worker: { name: string; procs: number },
  trusted: readonly number[],
  all: boolean,
): string[] {
  const own = new Set(workerLogNames(logDir, worker));
  let files: string[];
  try {
    files = all ? fs.readdirSync(logDir).map((n) => path.join(logDir, n)) : [...own];
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Not root and not let in: this caller cannot have supervisord write anything as root (its
    // socket is root's), and a change it can make fails on its own; root is never refused entry.
    if (code === "ENOENT" || (code === "EACCES" && process.geteuid?.() !== 0)) return [];
    return [`${shownPath(logDir)} cannot be read (${code ?? (e as Error).message})`];
  }
  const problems: string[] = [];
  for (const f of files.sort()) {
    const st = lstatOrWhy(f);
    const why = typeof st === "string" ? st : st ? entryProblem(f, st, trusted, own.has(f)) : undefined;
    if (why) problems.push(why);
  }
  return problems;
}

function listed(items: string[], sep = "; "): string {
  const more = items.length > MAX_LISTED ? `${sep}and ${items.length - MAX_LISTED} more` : "";
  return `${items.slice(0, MAX_LISTED).join(sep)}${more}`;
}

/**
 * A path as a shell word, for a command in a hint (paths may hold spaces, `$` and `'`). One with a
 * control or format character is written as bash's $'...', each such character an escape: the
 * command stays on its line and the shell reads back the path itself.
 */
export function shellWord(p: string): string {
  if (/^[A-Za-z0-9_./:@+-]+$/u.test(p)) return p;
  if (!hasUnshowable(p)) return `'${p.replaceAll("'", "'\\''")}'`;
  let out = "";
  for (const c of p) {
    const cp = c.codePointAt(0) as number;
    const hex = (n: number) => cp.toString(16).padStart(n, "0");
    if (c === "\\" || c === "'") out += `\\${c}`;
    else if (!hasUnshowable(c)) out += c;
    else out += cp < 0x80 ? `\\x${hex(2)}` : cp <= 0xffff ? `\\u${hex(4)}` : `\\U${hex(8)}`;
  }
  return `$'${out}'`;
}

/** Why a tree another user had is replaced, never handed to root by changing its owner (finding 3 of the review). */
export const NEVER_CHOWN = "making it root's by changing its owner keeps what another user planted in it, and the files they hold open";

/** For a log directory another user owned, could write or planted in: a new one, never the old one made root's. */
const replaceHint = (dir: string) =>
  `move ${shownPath(dir)} aside as root (\`mv -T ${shellWord(dir)} ${shellWord(`${dir}.untrusted`)}\`) and run again, ` +
  "which creates the directory anew (root's, mode 0750); or create a new one as root (`mkdir -m 750 NEWDIR`) and use it as the log directory. " +
  `Do not reuse the old one: ${NEVER_CHOWN}`;

/** For a log directory below a directory another user controls: another place altogether. */
const elsewhereHint = (bad: string) =>
  `${shownPath(bad)} is not root's alone, and whoever controls it controls everything below it: keep worker logs elsewhere, ` +
  "in a new directory created as root (`mkdir -m 750 NEWDIR`) where every directory on the way is root's and writable by root only " +
  `(such as under /var/log), and use that as the log directory; ${NEVER_CHOWN}`;

/**
 * For an application tree a root worker would run, another user's (or writable by one): a fresh
 * copy as root, since chown -R keeps what they planted and the files they hold open.
 */
export const ROOT_APP_HINT =
  "a root worker needs an application only root can change: deploy a fresh copy of the application as root, in a new directory (a checkout and `composer install`, or `cp -r` run as root, " +
  "which makes root the owner), and use that path; or run the worker as the application's own user. " +
  `Do not reuse their tree: ${NEVER_CHOWN}`;

/**
 * A log directory is only as trusted as what is in it. A root supervisord writes worker logs as
 * root: the directory must be root's and writable by root only, all the way up, and hold nothing
 * another user planted (a link, their file). A supervisord running as another user writes as
 * that user: only the worker's own log names must be regular files of root's or that user's.
 */
export function checkLogDir(logDir: string, supervisordUidNow: number | null, worker: { name: string; procs: number }): void {
  const problem = unsafeReason(logDir, { spaces: true, max: 4096 });
  if (problem) throw invalid("logDir", problem);
  if (supervisordUidNow !== null && supervisordUidNow !== 0) {
    const planted = logDirProblems(logDir, worker, [0, supervisordUidNow], false);
    if (planted.length === 0) return;
    throw invalid(
      "logDir",
      `${listed(planted)}: supervisord (uid ${supervisordUidNow}) would write this worker's logs through what another user planted`,
      `remove from ${shownPath(logDir)} everything you did not create`,
    );
  }
  const bad = untrustedAt(logDir, { trustedUids: [0] });
  const planted = logDirProblems(logDir, worker, [0], true);
  if (bad === undefined && planted.length === 0) return;
  const parts = [
    bad?.reason,
    planted.length > 0 ? `${shownPath(logDir)} holds what another user may have planted: ${listed(planted)}` : undefined,
  ];
  const above = bad !== undefined && bad.path !== path.resolve(logDir);
  throw invalid(
    "logDir",
    `${parts.filter((p) => p !== undefined).join("; ")}: supervisord runs as root and would write worker logs where another user can plant files`,
    above ? elsewhereHint(bad.path) : replaceHint(logDir),
  );
}

// ---------------------------------------------------------------------------------------------
// A root worker's application tree

interface TreeWalk {
  stack: string[];
  /** Directories already walked, by device and inode: a link back up (or a bind mount) is walked once. */
  visited: Set<string>;
  seen: number;
}

const dirKey = (st: fs.Stats) => `${st.dev}:${st.ino}`;

/** Queues a directory (reached as `p`) unless it was walked already. */
function enqueue(w: TreeWalk, p: string, st: fs.Stats): void {
  if (w.visited.has(dirKey(st))) return;
  w.visited.add(dirKey(st));
  w.stack.push(p);
}

/**
 * A link inside a root worker's app is followed: it is refused unless its whole resolved path
 * (the link's target and every directory on the way, links in it followed in turn) is root's and
 * writable by root only, wherever it leads (a root-only library outside, as Debian's
 * /usr/share/php, is fine). A dangling link is fine when only root could create its target (the
 * directory it would be made in is root's and writable by root only: not /tmp, sticky or not),
 * and a linked directory is walked like the rest.
 */
function linkProblem(f: string, w: TreeWalk): string | undefined {
  const why = untrustedReason(f, { trustedUids: [0], followFinal: true });
  if (why) return `${shownPath(f)} is a symbolic link, and ${why}`;
  let st: fs.Stats;
  try {
    st = fs.statSync(f);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Dangling, where only root can create the target (checked above); anything else fails closed.
    return code === "ENOENT" ? undefined : `${shownPath(f)} is a symbolic link that cannot be followed (${code ?? (e as Error).message})`;
  }
  if (st.isDirectory()) enqueue(w, f, st);
  return undefined;
}

function treeEntryProblem(f: string, w: TreeWalk): string | undefined {
  const st = lstatOrWhy(f);
  if (st === null) return undefined; // gone meanwhile (a cache file the app just removed)
  if (typeof st === "string") return st; // cannot be looked at: fail closed
  if (st.uid !== 0) return `${shownPath(f)} is owned by uid ${st.uid}`;
  if (st.isSymbolicLink()) return linkProblem(f, w);
  if ((st.mode & 0o022) !== 0) return `${shownPath(f)} is writable by ${st.mode & 0o002 ? "others" : "its group"} (mode ${octal(st.mode)})`;
  if (st.isDirectory()) enqueue(w, f, st);
  return undefined;
}

/**
 * The first entry under DIR that is not root's or that someone else can write, links followed
 * (see linkProblem): a root worker loads the whole app (vendor/, bootstrap/cache/, .env, compiled
 * views in storage/), so any of it another user can change is their code run as root.
 */
export function untrustedInTree(dir: string, limit = 200_000): string | undefined {
  const w: TreeWalk = { stack: [dir], visited: new Set(), seen: 0 };
  try {
    w.visited.add(dirKey(fs.statSync(dir)));
  } catch (e) {
    return `${shownPath(dir)} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`;
  }
  while (w.stack.length > 0) {
    const d = w.stack.pop() as string;
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch (e) {
      return `${shownPath(d)} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`;
    }
    for (const n of names) {
      if (++w.seen > limit) return `${shownPath(dir)} holds more than ${limit} files (links followed), too many to check`;
      const why = treeEntryProblem(path.join(d, n), w);
      if (why) return why;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// One user for several applications

/**
 * A warning when the worker's user also runs workers of another application (by path, links
 * resolved): processes of one uid can read each other's environment (/proc/PID/environ, where
 * env secrets are) and signal or ptrace each other. `peers`: workers planned alongside (apply),
 * which stand for defined workers of the same name. Root workers are left out (root reads all
 * anyway), and so are workers without user= (with a non-root supervisord all run as its user, as
 * the warning about user= being left out already says).
 */
export function sharedUserWarning(spec: WorkerSpec, runsAs: number | null, world: World, peers: WorkerSpec[] = []): string[] {
  if (runsAs === 0 || spec.user === null) return [];
  // `apply` plans every worker against one world: its workers are read once, not once per worker.
  const peerNames = new Set(peers.map((p) => p.name));
  const others = [
    ...world
      .programs()
      .filter((e) => e.managed && e.spec && !peerNames.has(e.name))
      .map((e) => e.spec as WorkerSpec),
    ...peers,
  ];
  const differs = (o: WorkerSpec) => o.path !== spec.path && world.realPath(o.path) !== world.realPath(spec.path);
  const sharing = others.filter((o) => o.name !== spec.name && o.user === spec.user && differs(o));
  if (sharing.length === 0) return [];
  const list = sharing.map((o) => `${o.name} (${shownPath(o.path)})`);
  return [
    `user ${spec.user} also runs workers of other applications: ${listed(list, ", ")}. Each can read this worker's environment (its env secrets) ` +
      "from /proc/PID/environ, and signal or trace it: give each application a user of its own",
  ];
}

/** A warning when every local user can reach the files in an existing log directory (o+x opens any known log name). */
export function logDirReadableBy(logDir: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(logDir);
  } catch {
    return undefined; // not there yet: created LOG_DIR_MODE
  }
  if (!st.isDirectory() || (st.mode & 0o001) === 0) return undefined;
  return `every local user can read the worker logs in ${shownPath(logDir)} (mode ${octal(st.mode)}): chmod 750 ${shellWord(logDir)}`;
}
