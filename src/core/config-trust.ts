import fs from "node:fs";
import path from "node:path";
import { invalid, VexoError } from "../errors.js";
import { type Layout, layoutFromText } from "./layout.js";
import type { World } from "./world.js";
import { globMatch } from "./python/glob.js";
import { stateDir } from "./pause.js";
import { privateConfigChanges } from "./private-config.js";
import { isManaged, writtenByVexo } from "./program-file.js";
import { listenerWrittenByVexo } from "./alerts/listener-file.js";
import { readFileStrict, readSupervisorConfig, recordingReader } from "./supervisord/read-config.js";
import { shownPath, untrustedReason } from "./trust.js";

// Whose files a root supervisord would act on. supervisord runs whatever its main config and
// every file its [include] globs match define, and writes its pidfile, socket and logs where the
// config says, through any symlink there. So before vexo-sv starts (or reuses) one under a prefix,
// every one of those paths, every directory above them and the whole prefix tree must be root's
// (or the caller's) and writable by nobody else: listed all at once, so that fixing what is named
// leaves nothing unnamed behind. A tree another user could write is never made root's with chown:
// chown keeps what they planted and every file they still hold open, so the hints say to move it
// aside and set it up anew. A main config with vexo-sv's marker is trusted only when it is what
// vexo-sv writes (private-config.ts): the marker is a line anyone who could write the file keeps.

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
  /** What in the main config (with vexo-sv's marker) is not what vexo-sv writes; empty when it is. */
  changed: string[];
}

interface Trust {
  uids: number[];
  /** Paths supervisord writes to: a symlink there is refused whoever owns it. */
  writes(p: string): boolean;
}

/** Why a program file that claims to be vexo-sv's is refused. */
const FORGED =
  "carries vexo-sv's marker but is not a program file vexo-sv writes, or is an alerts listener that runs another program than this vexo-sv (another user may have written it)";

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
function configProblems(config: string, text: string, uids: number[], f: Findings, self: readonly string[] | null): string[] {
  const layout = layoutFromText(config, text);
  const texts = new Map<string, string>();
  // A FIFO, socket or device there is a finding, never a hang.
  const refused = (file: string, reason: string) => add(f, file, `${reason}, which supervisord cannot read as a config file`);
  const cfg = readSupervisorConfig(config, process.env, recordingReader(texts, refused));
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
  const programs = cfg.files.filter((file) => file !== config);
  // A marker on a file vexo-sv would not write is forged: root's own after a chown it may be, but not vexo-sv's.
  // A listener's is vexo-sv's only when it runs this vexo-sv (none is when not told how it runs).
  for (const file of programs) {
    const t = texts.get(file) ?? "";
    if (isManaged(t) && !writtenByVexo(file, t) && !(self !== null && listenerWrittenByVexo(t, self))) add(f, file, FORGED);
  }
  return [...new Set(programs.filter((file) => !isManaged(texts.get(file) ?? "")))];
}

/** The main config's text as supervisord would read it (a link followed), when it is a regular file. */
function configText(config: string): string | null {
  try {
    return readFileStrict(config);
  } catch {
    return null;
  }
}

/** A config's changes from what vexo-sv writes, as one reason. */
function changedReason(changes: string[]): string {
  return `changed from what vexo-sv writes there (${changes.slice(0, 5).map(shownPath).join("; ")}${changes.length > 5 ? "; ..." : ""})`;
}

/**
 * Every path under and above a prefix, and every path its config makes supervisord read or write,
 * that a user outside `uids` owns or can write, or that is a symlink where supervisord writes; and
 * a main config with vexo-sv's marker that is not what vexo-sv writes.
 */
export function prefixProblems(p: PrefixLike, uids: number[], self: readonly string[] | null = null): PrefixProblems {
  const f: Findings = new Map();
  // The directories above, judged as ancestors (a root-owned sticky /tmp is fine there); the prefix itself is walked.
  const above = untrustedReason(p.dir, { trustedUids: uids });
  if (above && !above.startsWith(`${p.dir} `)) add(f, path.dirname(p.dir), above);
  const writes = (x: string) => x === p.dir || within(p.logDir, x) || x === p.socket || x === p.pidfile;
  const t: Trust = { uids, writes };
  walkTree(p.dir, t, f, { left: MAX_ENTRIES });
  const text = configText(p.config);
  if (text === null || !isManaged(text)) return { findings: f, unmanaged: [], changed: [] };
  const changed = privateConfigChanges(p.config, text);
  if (changed.length > 0) add(f, p.config, changedReason(changed));
  return { findings: f, unmanaged: configProblems(p.config, text, uids, f, self), changed };
}

/** Never chown what another user could have written: the hint for a tree of theirs. */
const NO_CHOWN = "never make it root's in place: that keeps what they planted and every file they still hold open";

/** What fixes a prefix: another location when a directory above is not trusted; a new tree when the tree is not. */
function prefixFix(dir: string, { findings, changed }: PrefixProblems, asRoot: boolean): { hint: string; recreate: boolean } {
  const paths = [...findings.keys()];
  const above = paths.filter((p) => !within(dir, p));
  const parts: string[] = [];
  if (above.length > 0)
    parts.push(`use another location: ${above.map(shownPath).join(", ")} is not ${asRoot ? "root's" : "yours or root's"} alone`);
  const inTree = paths.some((p) => within(dir, p));
  if (inTree) {
    const d = shownPath(dir);
    const why =
      changed.length > 0 && paths.length === 1
        ? "its config was changed; if you did not change it, another user may have"
        : "another user could have written in it";
    parts.push(
      `${why}: move the whole ${d} aside (\`mv -T ${d} ${d}.untrusted\`; ${NO_CHOWN}), then set it up anew${asRoot ? " as root" : ""}`,
    );
  }
  return { hint: parts.join("; "), recreate: inTree };
}

/** The refusal of a prefix: every path at once, and a hint that replaces the whole tree, never one path. */
export function prefixRefusal(dir: string, problems: PrefixProblems, asRoot: boolean): VexoError {
  const { findings, unmanaged } = problems;
  const paths = [...findings.keys()];
  const shown = paths.slice(0, 40).map((p) => {
    const whys = [...(findings.get(p) ?? []), ...(unmanaged.includes(p) ? ["not written by vexo-sv"] : [])];
    return `\n  ${shownPath(p)}: ${whys.join("; ")}`;
  });
  const more = paths.length > shown.length ? `\n  and ${paths.length - shown.length} more (all in details.paths)` : "";
  const { hint, recreate } = prefixFix(dir, problems, asRoot);
  const err = invalid(
    "prefix",
    `another user could change what a supervisord started from ${shownPath(dir)} runs:${shown.join("")}${more}`,
    hint,
  );
  Object.assign(err.details as object, {
    paths,
    unmanaged: unmanaged.filter((u) => findings.has(u)),
    ...(recreate ? { recreate: dir } : {}),
  });
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

/** The directory of a private supervisord's config (vexo-sv's marker on its text), else null. */
function privateDir(config: string, text: string | null): string | null {
  return text !== null && isManaged(text) ? path.dirname(config) : null;
}

/** Moving a tree aside and setting it up anew: what replaces a tree another user could have written. */
function moveAside(p: string, anew: string): string {
  const d = shownPath(p);
  return `move ${d} aside (\`mv -T ${d} ${d}.untrusted\`; ${NO_CHOWN}), then ${anew}`;
}

/** What fixes an untrusted path of the config tree: a new tree inside the config's directory, another location above it. */
function layoutFix(config: string, text: string | null, p: string): { fix: string; recreate?: string } {
  const bad = outermostUntrusted(p, [0]);
  if (!within(path.dirname(config), bad)) {
    return {
      fix: `keep supervisord's config and program directory where only root can write (such as /etc/supervisor): ${shownPath(bad)} is not root's alone`,
    };
  }
  const dir = privateDir(config, text);
  if (dir !== null) return { fix: moveAside(dir, "set up the private supervisord anew as root"), recreate: dir };
  return { fix: moveAside(bad, "create it anew as root and put back only files you have read and recognise") };
}

/** An untrusted path of the config tree, with the fix for it. */
export interface LayoutProblem {
  path: string;
  why: string;
  fix: string;
  /** A private supervisord's directory to set up anew, when that is the fix. */
  recreate?: string;
}

/** Files supervisord reads in the program directory that another user owns, can write or leads to, or that are no regular files. */
function confDirProblems(layout: Layout, confDir: string): LayoutProblem[] {
  let names: string[];
  try {
    names = fs.readdirSync(confDir).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? []
      : [{ path: confDir, why: `cannot be listed (${code ?? (e as Error).message})`, fix: "make it a directory of root's" }];
  }
  const fix = `remove the files named (write what you need anew, as root); never make another user's file, or what a link leads to, root's in place`;
  const out: LayoutProblem[] = [];
  for (const name of names) {
    const file = path.join(confDir, name);
    if (layout.includeGlobs.length > 0 && !layout.includeGlobs.some((g) => globMatch(g, file))) continue;
    const why = includedFileProblem(file);
    if (why) out.push({ path: file, why, fix });
  }
  return out;
}

/** What is wrong with one file supervisord reads as root: another user's, writable by others, a link to theirs, not a regular file. */
function includedFileProblem(file: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? undefined : `cannot be inspected (${code ?? (e as Error).message})`;
  }
  const why = pathProblems(file, st, { uids: [0], writes: () => false });
  if (why.length > 0) return why.join("; ");
  let target: fs.Stats;
  try {
    target = fs.statSync(file);
  } catch {
    return undefined; // a dangling link: supervisord skips it, as it skips any file it cannot open
  }
  return target.isFile() || target.isDirectory()
    ? undefined
    : "not a regular file (a FIFO, socket or device), which supervisord cannot read as a config file";
}

/** The main config with vexo-sv's marker that is not what vexo-sv writes for its directory. */
function changedConfigProblem(config: string, text: string | null): LayoutProblem[] {
  if (text === null || !isManaged(text)) return [];
  const changes = privateConfigChanges(config, text);
  if (changes.length === 0) return [];
  const dir = path.dirname(config);
  const fix = `the config was changed; if you did not change it, another user may have: ${moveAside(dir, "set up the private supervisord anew as root")}`;
  return [{ path: config, why: changedReason(changes), fix, recreate: dir }];
}

/**
 * As root: the main config, the program directory and the state directory (and every directory
 * above them, links followed) that a user other than root could have written; a private
 * supervisord's config that is not what vexo-sv writes; and the files supervisord reads in the
 * program directory that another user owns or leads to. vexo-sv writes program files, the lock
 * and pause and removal records there, and supervisord runs what the config and the program
 * directory say, as root. Not root: nothing (the caller writes as itself).
 */
export function layoutProblems(world: World): LayoutProblem[] {
  if (process.geteuid?.() !== 0) return [];
  const layout = world.layout;
  // The main config's text as this command read it (once: the layout came from the same text).
  const text = world.mainText();
  const out: LayoutProblem[] = [];
  for (const p of [layout.config, layout.confDir, stateDir(layout)]) {
    if (p === null || out.some((o) => within(o.path, p))) continue;
    const why = untrustedReason(p, { trustedUids: [0], followFinal: true });
    if (why) out.push({ path: p, why, ...layoutFix(layout.config, text, p) });
  }
  if (!out.some((o) => o.path === layout.config)) out.push(...changedConfigProblem(layout.config, text));
  const confDir = layout.confDir;
  if (confDir !== null && !out.some((o) => within(o.path, confDir))) out.push(...confDirProblems(layout, confDir));
  return out;
}

/** One fix per problem outside a tree to set up anew, then (last: the CLI names the command after it) that tree's. */
function layoutHint(problems: LayoutProblem[], recreate: string | undefined): string {
  const rest = problems.filter((p) => p.recreate === undefined && (recreate === undefined || !within(recreate, p.path)));
  const anew = problems.find((p) => p.recreate !== undefined);
  return [...new Set([...rest, ...(anew ? [anew] : [])].map((p) => p.fix))].join("; ");
}

/** Refuses to write into a config tree another user could change (root only): unsafe_file, every path named. */
export function assertTrustedLayout(world: World): void {
  const problems = layoutProblems(world);
  if (problems.length === 0) return;
  const lines = problems.map((p) => `\n  ${shownPath(p.path)}: ${p.why}`).join("");
  const recreate = problems.find((p) => p.recreate !== undefined)?.recreate;
  throw new VexoError("unsafe_file", `another user could change what vexo-sv writes here, and so what supervisord runs as root:${lines}`, {
    hint: layoutHint(problems, recreate),
    details: { file: problems[0]?.path, paths: problems.map((p) => p.path), ...(recreate !== undefined ? { recreate } : {}) },
  });
}

/** The same problems, as warnings for commands that only read. */
export function layoutWarnings(world: World): string[] {
  return layoutProblems(world).map(
    (p) =>
      `${shownPath(p.path)}: ${p.why}; another user could change what supervisord runs, and changes are refused until it is fixed: ${p.fix}`,
  );
}
