/**
 * Root's view of paths other local users may reach: whether a path can be trusted (who could have
 * written it or anything on its way), and how a path is shown in a message. Opening, reading,
 * tailing and creating files safely is safe-files.ts. Standalone on purpose (node: modules only)
 * so both can be reviewed on their own.
 */
import fs from "node:fs";
import path from "node:path";

/** What kind of refusal a TrustError is, for callers that map it onto their own errors. */
export type TrustErrorCode =
  "symlink" | "not_regular" | "not_directory" | "not_found" | "exists" | "too_large" | "wrong_owner" | "hard_link" | "io";

/** A refused or failed file operation; the message names the path and says why in plain words. */
export class TrustError extends Error {
  override readonly name = "TrustError";
  constructor(
    readonly code: TrustErrorCode,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Paths in messages

/**
 * What may not reach a message raw: C0 and C1 controls and DEL (a newline forges a line of its
 * own), Unicode format characters (bidi overrides and isolates, zero-width characters, the BOM,
 * tags), line and paragraph separators, and lone surrogates.
 */
const UNSHOWABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const UNSHOWABLE_ALL = new RegExp(UNSHOWABLE.source, "gu");

/** Each UTF-16 unit of `c` as a JSON \u escape. */
const jsonEscape = (c: string) =>
  Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`).join("");

/** True when `s` holds a character shownPath escapes (a caller quoting for a shell can do the same). */
export function hasUnshowable(s: string): boolean {
  return UNSHOWABLE.test(s);
}

/**
 * A path (or a name) as a message shows it: as it is when every character is plain, else as a
 * JSON string with each character above as a \u escape. A file named "x\nerror: ..." then reads
 * as one quoted word, never as a line of its own, a bidi override cannot reorder what follows,
 * and JSON.parse gives the path back.
 */
export function shownPath(p: string): string {
  return UNSHOWABLE.test(p) ? quoted(p) : p;
}

/** `s` as a JSON string, with every character that may not reach a message raw as a \u escape. */
const quoted = (s: string) => JSON.stringify(s).replace(UNSHOWABLE_ALL, jsonEscape);

// ---------------------------------------------------------------------------------------------
// untrustedReason

/** Options of untrustedReason. */
export interface TrustOptions {
  /** Uids that may own each component, typically [0, process.geteuid()]. */
  trustedUids: readonly number[];
  /** Follow a symlink that is the path itself (as ancestors are followed) instead of reporting it. Default false. */
  followFinal?: boolean;
}

/** The kernel's own limit on symlinks followed in one lookup (MAXSYMLINKS). */
const MAX_LINKS = 40;

interface Walk {
  trusted: ReadonlySet<number>;
  followFinal: boolean;
  links: number;
  /** The last symlink followed, named in a reason found beyond it. */
  via: string | undefined;
  /** The component being looked at: the one a reason is about. */
  at: string | undefined;
}

/** Why a path may have been written by someone other than the trusted uids, and where. */
export interface Untrusted {
  /** The outermost bad component, as the walk reached it (past any symbolic link followed). */
  path: string;
  reason: string;
}

/**
 * Why `p` may have been written by someone other than the trusted uids, or undefined if it cannot.
 * Walks from `/` down, resolving the path the way the kernel does, and reports the OUTERMOST bad
 * component (whoever controls it controls all below). A component is bad when it is owned by an
 * untrusted uid, or is writable by its group or others; a root-owned sticky directory (like /tmp)
 * is accepted as an ancestor but not as the path itself. Symlink policy: a symlink that is an
 * ancestor is followed when the link itself is owned by a trusted uid (its parent having passed),
 * and everything its target goes through is checked in turn; a symlink that is the path itself is
 * reported unless `followFinal`. A component that does not exist ends the walk. On a plain path
 * that is no reason (no one wrote it yet: the caller creates it with O_EXCL or mkdir and checks
 * the owner). Past a symbolic link, the directory it would be created in must be writable by its
 * owner alone, sticky or not: a dangling link into /tmp opens whatever anyone creates there.
 * Paths in reasons go through shownPath. Advisory: the answer can change right after it is given.
 */
export function untrustedReason(p: string, opts: TrustOptions): string | undefined {
  return untrustedAt(p, opts)?.reason;
}

/** untrustedReason, with the component the reason is about (for a hint that names it). */
export function untrustedAt(p: string, opts: TrustOptions): Untrusted | undefined {
  if (p === "" || p.includes("\0")) return { path: p, reason: `${quoted(p)} is not a valid path` };
  const walk: Walk = {
    trusted: new Set(opts.trustedUids),
    followFinal: opts.followFinal ?? false,
    links: 0,
    via: undefined,
    at: undefined,
  };
  const abs = path.isAbsolute(p) ? p : `${process.cwd()}/${p}`;
  const reason = walkReason(abs, walk);
  if (reason === undefined) return undefined;
  const via = walk.via !== undefined ? ` (reached through the symbolic link ${shownPath(walk.via)})` : "";
  return { path: walk.at ?? abs, reason: `${reason}${via}` };
}

function splitPath(p: string): string[] {
  return p.split("/").filter((c) => c !== "");
}

function walkReason(abs: string, w: Walk): string | undefined {
  const pending = splitPath(abs);
  let cur = "/";
  let reason = inspect(cur, w, pending.length === 0);
  while (reason === undefined && pending.length > 0) {
    const name = pending.shift() as string;
    const isLeaf = pending.length === 0;
    if (name === "." || name === "..") {
      // `cur` holds no symlink, so its parent is plain text; a path ending here makes `cur` the leaf.
      if (name === "..") cur = path.dirname(cur);
      if (isLeaf) reason = inspect(cur, w, true);
      continue;
    }
    const next = cur === "/" ? `/${name}` : `${cur}/${name}`;
    w.at = next;
    const st = lstatOrNull(next);
    if (st === null) return missingReason(cur, next, w);
    if (typeof st === "string") return st;
    reason = componentReason(next, st, w.trusted, isLeaf);
    if (reason !== undefined) break;
    if (st.isSymbolicLink()) {
      if (isLeaf && !w.followFinal) return `${shownPath(next)} is a symbolic link`;
      if (++w.links > MAX_LINKS) return `${shownPath(abs)}: too many levels of symbolic links`;
      const target = readlinkOrReason(next);
      if (target.reason !== undefined) return target.reason;
      w.via = next;
      if (target.link.startsWith("/")) cur = "/";
      pending.unshift(...splitPath(target.link));
      if (pending.length === 0) reason = inspect(cur, w, true); // a link to "/" is a link to the root
      continue;
    }
    if (!isLeaf && !st.isDirectory()) return `${shownPath(next)} is not a directory`;
    cur = next;
  }
  return reason;
}

/**
 * `next` (in directory `cur`) does not exist. On a plain path that is fine: the caller creates it
 * and checks the owner. Past a symbolic link it is what the link will open once someone creates
 * it, so `cur` must let only its (trusted) owner create it: no group or other write, and no
 * exception for a sticky directory (in /tmp, /var/tmp or /dev/shm anyone can create the target).
 */
function missingReason(cur: string, next: string, w: Walk): string | undefined {
  if (w.via === undefined) return undefined;
  w.at = cur;
  const st = lstatOrNull(cur);
  if (typeof st === "string") return st;
  if (st === null) return `${shownPath(cur)} disappeared while being inspected`;
  if ((st.mode & 0o022) === 0) return undefined;
  const who = (st.mode & 0o002) !== 0 ? "others" : `group ${st.gid}`;
  return `${shownPath(next)} does not exist yet, and ${shownPath(cur)} lets ${who} create it (mode ${octal(st.mode)})`;
}

/** readlink, with a failure (the link replaced meanwhile) as a reason: fail closed. */
function readlinkOrReason(p: string): { link: string; reason?: string } {
  try {
    return { link: fs.readlinkSync(p) };
  } catch (e) {
    return { link: "", reason: `cannot read the symbolic link ${shownPath(p)}: ${errnoCode(e) ?? (e as Error).message}` };
  }
}

/** lstat, with a missing path as null and any other failure as a reason (fail closed). */
export function lstatOrNull(p: string): fs.Stats | null | string {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    const code = errnoCode(e);
    if (code === "ENOENT") return null;
    return `cannot inspect ${shownPath(p)}: ${code ?? (e as Error).message}`;
  }
}

function inspect(p: string, w: Walk, isLeaf: boolean): string | undefined {
  w.at = p;
  const st = lstatOrNull(p);
  if (st === null) return undefined;
  return typeof st === "string" ? st : componentReason(p, st, w.trusted, isLeaf);
}

function componentReason(p: string, st: fs.Stats, trusted: ReadonlySet<number>, isLeaf: boolean): string | undefined {
  if (!trusted.has(st.uid)) return `${shownPath(p)} is owned by uid ${st.uid} (mode ${octal(st.mode)})`;
  // A symlink's own mode is always 0777 on Linux and grants nothing: only its owner can change it.
  if (st.isSymbolicLink() || (st.mode & 0o022) === 0) return undefined;
  // In a root-owned sticky directory others may add entries but cannot rename or remove ours.
  if (!isLeaf && st.isDirectory() && st.uid === 0 && (st.mode & 0o1000) !== 0) return undefined;
  const who = (st.mode & 0o002) !== 0 ? "others" : `group ${st.gid}`;
  return `${shownPath(p)} is writable by ${who} (mode ${octal(st.mode)})`;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

export function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}
