import fs from "node:fs";
import path from "node:path";
import { invalid, VexoError } from "../errors.js";
import { type Layout, layoutFromText } from "./layout.js";
import { stateDir } from "./pause.js";
import { isManaged } from "./program-file.js";
import { readSupervisorConfig } from "./supervisord/read-config.js";
import { readRegularFile, untrustedReason } from "./trust.js";

// Whose files a root supervisord would act on. supervisord runs whatever its main config and
// every file its [include] globs match define, and writes its pidfile, socket and logs where the
// config says, through any symlink there. So before vexo-sv starts (or reuses) one under a prefix,
// every one of those paths, every directory above them and the whole prefix tree must be root's
// (or the caller's) and writable by nobody else: listed all at once, so that fixing what is named
// leaves nothing unnamed behind (a chown per named path, one run at a time, is how a planted
// program ends up root's).

/** The pieces of a private supervisord under one directory (install.ts's prefixPaths). */
export interface PrefixLike {
  dir: string;
  config: string;
  confDir: string;
  logDir: string;
  socket: string;
  pidfile: string;
}

/** Each untrusted path, with what is wrong with it. */
export type Findings = Map<string, string[]>;

/** What prefixProblems found: the untrusted paths, and the program files vexo-sv did not write. */
export interface PrefixProblems {
  findings: Findings;
  /** Files supervisord reads as programs that lack vexo-sv's marker (root's own hand-written ones, or planted). */
  unmanaged: string[];
}

interface Trust {
  uids: number[];
  /** Paths supervisord writes to: a symlink there is refused whoever owns it. */
  writes(p: string): boolean;
}

/** A bound on the walk of a prefix: a tree bigger than this is refused rather than half checked. */
const MAX_ENTRIES = 100_000;

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");
const within = (dir: string, p: string) => p === dir || p.startsWith(`${dir}/`);

function add(f: Findings, p: string, why: string): void {
  const list = f.get(p) ?? [];
  if (!list.includes(why)) list.push(why);
  f.set(p, list);
}

/** What is wrong with one path itself (its directories are walked on their own). */
function pathProblems(p: string, st: fs.Stats, t: Trust): string[] {
  const out: string[] = [];
  if (!t.uids.includes(st.uid)) out.push(`owned by uid ${st.uid} (mode ${octal(st.mode)})`);
  if (st.isSymbolicLink()) {
    if (t.writes(p)) out.push("a symbolic link, which supervisord would write through");
    else if (out.length === 0) {
      // Root's own link is fine when what it leads to is trusted all the way.
      const why = untrustedReason(p, { trustedUids: t.uids, followFinal: true });
      if (why) out.push(`a symbolic link to what another user controls: ${why}`);
    }
  } else if ((st.mode & 0o022) !== 0) {
    out.push(`writable by ${(st.mode & 0o002) !== 0 ? "others" : `group ${st.gid}`} (mode ${octal(st.mode)})`);
  }
  return out;
}

/** Every entry of a tree (symlinks not followed), each judged on its own. */
function walkTree(p: string, t: Trust, f: Findings, budget: { left: number }): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") add(f, p, `cannot be inspected (${code ?? (e as Error).message})`);
    return;
  }
  for (const why of pathProblems(p, st, t)) add(f, p, why);
  if (!st.isDirectory()) return;
  let names: string[];
  try {
    names = fs.readdirSync(p);
  } catch (e) {
    return add(f, p, `cannot be listed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  for (const n of names) {
    if (--budget.left < 0) return add(f, p, `the tree holds more than ${MAX_ENTRIES} entries; not all could be checked`);
    walkTree(path.join(p, n), t, f, budget);
  }
}

/**
 * An included file as supervisord opens it (following a link: root's own link to its own file is
 * fine), but never a FIFO or device that would hang or harm the read, and never a huge file.
 */
function readIncluded(file: string, texts: Map<string, string>): string {
  const st = fs.statSync(file);
  if (!st.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: "ENOTREG" });
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  try {
    const now = fs.fstatSync(fd);
    if (!now.isFile() || now.size > 8 * 1024 * 1024) throw Object.assign(new Error(`${file} is not a config file`), { code: "ENOTREG" });
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(fs.readFileSync(fd));
    texts.set(file, text);
    return text;
  } finally {
    fs.closeSync(fd);
  }
}

/** The directory part of a glob before its first wildcard. */
function globBase(pattern: string): string {
  const parts = pattern.split("/");
  const i = parts.findIndex((s) => /[*?[]/u.test(s));
  return i < 0 ? path.dirname(pattern) : parts.slice(0, i).join("/") || "/";
}

/**
 * What the main config makes supervisord read and write, read as supervisord reads it: every
 * included file and its glob's directory, the pidfile, the socket, the logs. Paths already found
 * (or under one) are not judged again. Returns the included files without vexo-sv's marker.
 */
function configProblems(config: string, text: string, uids: number[], f: Findings): string[] {
  const layout = layoutFromText(config, text);
  const texts = new Map<string, string>();
  const cfg = readSupervisorConfig(config, process.env, (file) => readIncluded(file, texts));
  const check = (p: string, followFinal: boolean) => {
    if ([...f.keys()].some((k) => within(k, p))) return;
    const why = untrustedReason(p, { trustedUids: uids, followFinal });
    if (why) add(f, p, why);
  };
  for (const file of cfg.files) check(file, true);
  for (const pattern of cfg.includePatterns) check(globBase(pattern), true);
  check(layout.logDir, true);
  // AUTO logs get random names, created O_EXCL (mkstemp), so a root-owned sticky childlogdir
  // such as supervisord's default /tmp is fine; vexo-sv reads them only when supervisord's own (logs.ts).
  if (!rootSticky(layout.childLogDir)) check(layout.childLogDir, true);
  const socket = layout.server.kind === "unix" ? [layout.server.path] : [];
  for (const file of [layout.pidfile, layout.supervisordLog, ...socket]) check(file, false);
  return [...new Set(cfg.files.filter((file) => file !== config && !isManaged(texts.get(file) ?? "")))];
}

/** The main config's text when it is a regular file (a symlink or FIFO is refused later, by the caller). */
function configText(config: string): string | null {
  try {
    return readRegularFile(config);
  } catch {
    return null;
  }
}

/**
 * Every path under and above a prefix, and every path its config makes supervisord read or write,
 * that a user outside `uids` owns or can write, or that is a symlink where supervisord writes.
 */
export function prefixProblems(p: PrefixLike, uids: number[]): PrefixProblems {
  const f: Findings = new Map();
  // The directories above, judged as ancestors (a root-owned sticky /tmp is fine there); the prefix itself is walked.
  const above = untrustedReason(p.dir, { trustedUids: uids });
  if (above && !above.startsWith(`${p.dir} `)) add(f, path.dirname(p.dir), above);
  const writes = (x: string) => x === p.dir || within(p.logDir, x) || x === p.socket || x === p.pidfile;
  const t: Trust = { uids, writes };
  walkTree(p.dir, t, f, { left: MAX_ENTRIES });
  const text = configText(p.config);
  const unmanaged = text !== null && isManaged(text) ? configProblems(p.config, text, uids, f) : [];
  return { findings: f, unmanaged };
}

/** The refusal of a prefix: every path at once, and a hint that fixes the whole tree, not one path. */
export function prefixRefusal(dir: string, { findings, unmanaged }: PrefixProblems, asRoot: boolean): VexoError {
  const paths = [...findings.keys()];
  const shown = paths.slice(0, 40).map((p) => {
    const whys = [...(findings.get(p) ?? []), ...(unmanaged.includes(p) ? ["not written by vexo-sv"] : [])];
    return `\n  ${p}: ${whys.join("; ")}`;
  });
  const more = paths.length > shown.length ? `\n  and ${paths.length - shown.length} more (all in details.paths)` : "";
  const inTree = paths.some((p) => within(dir, p));
  const fix = asRoot
    ? `chown -R root:root ${dir} && chmod -R go-w ${dir}, then remove what you did not create (program files in its conf.d that you do not recognise, symbolic links); if you did not set up ${dir} yourself, remove it all`
    : `use a directory that only you own and can write, and remove what you did not create in it`;
  const hint = inTree
    ? fix
    : "use a directory that only you (or root) own and can write, or fix the owner and mode of the directory named (chown, chmod go-w)";
  const err = invalid("prefix", `another user could change what a supervisord started from ${dir} runs:${shown.join("")}${more}`, hint);
  Object.assign(err.details as object, { paths, unmanaged: unmanaged.filter((u) => findings.has(u)) });
  return err;
}

// ---------------------------------------------------------------------------------------------
// The config tree that commands write into (--config / VEXO_SV_CONFIG)

/** True for a root-owned sticky directory (such as /tmp): fine above a path, never as the path. */
function rootSticky(p: string): boolean {
  try {
    const st = fs.statSync(p);
    return st.isDirectory() && st.uid === 0 && (st.mode & 0o1000) !== 0;
  } catch {
    return false;
  }
}

/** The outermost directory (or file) on the way to `p` that another user could have written. */
function outermostUntrusted(p: string, uids: number[]): string {
  const parts = p.split("/").filter((c) => c !== "");
  for (let i = 1; i <= parts.length; i++) {
    const sub = `/${parts.slice(0, i).join("/")}`;
    if (i < parts.length && rootSticky(sub)) continue;
    if (untrustedReason(sub, { trustedUids: uids, followFinal: true })) return sub;
  }
  return p;
}

/** What fixes an untrusted path of the config tree: chown -R inside the config's directory, moving it otherwise. */
function layoutFix(config: string, p: string): string {
  const bad = outermostUntrusted(p, [0]);
  if (within(path.dirname(config), bad)) {
    return `chown -R root:root ${bad} && chmod -R go-w ${bad}, and remove what you did not create there (symbolic links in particular)`;
  }
  return `keep supervisord's config and program directory where only root can write (such as /etc/supervisor): ${bad} is not root's alone`;
}

/** An untrusted path of the config tree, with the fix for it. */
export interface LayoutProblem {
  path: string;
  why: string;
  fix: string;
}

/**
 * As root: the main config, the program directory and the state directory (and every directory
 * above them, links followed) that a user other than root could have written. vexo-sv writes
 * program files, the lock and pause and removal records there, and supervisord runs what the
 * config and the program directory say, as root. Not root: nothing (the caller writes as itself).
 */
export function layoutProblems(layout: Layout): LayoutProblem[] {
  if (process.geteuid?.() !== 0) return [];
  const out: LayoutProblem[] = [];
  for (const p of [layout.config, layout.confDir, stateDir(layout)]) {
    if (p === null || out.some((o) => within(o.path, p))) continue;
    const why = untrustedReason(p, { trustedUids: [0], followFinal: true });
    if (why) out.push({ path: p, why, fix: layoutFix(layout.config, p) });
  }
  return out;
}

/** Refuses to write into a config tree another user could change (root only): unsafe_file, every path named. */
export function assertTrustedLayout(layout: Layout): void {
  const problems = layoutProblems(layout);
  if (problems.length === 0) return;
  const lines = problems.map((p) => `\n  ${p.path}: ${p.why}`).join("");
  throw new VexoError("unsafe_file", `another user could change what vexo-sv writes here, and so what supervisord runs as root:${lines}`, {
    hint: [...new Set(problems.map((p) => p.fix))].join("; "),
    details: { file: problems[0]?.path, paths: problems.map((p) => p.path) },
  });
}

/** The same problems, as warnings for commands that only read. */
export function layoutWarnings(layout: Layout): string[] {
  return layoutProblems(layout).map(
    (p) => `${p.path}: ${p.why}; another user could change what supervisord runs, and changes are refused until it is fixed: ${p.fix}`,
  );
}
