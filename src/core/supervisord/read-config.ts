/**
 * A supervisord.conf and the files it includes, read into one parser as supervisord 4.2.5's
 * ServerOptions.read_config does (supervisor/options.py): the main file, `[include] files=`
 * globbed and read in order, `%(here)s` per file, and `[supervisord] environment=`.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, type Stats, statSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { expandValue, pyRepr } from "../python/format.js";
import { type DirEntry, type ListDirFn, pyGlob } from "../python/glob.js";
import { pyAbspath, pyJoin, pySplitPath } from "../python/path.js";
import { dictOfKeyValuePairs } from "../python/shlex.js";
import { comparePy, pySplit } from "../python/str.js";
import { createIni, getOption, type IniError, type IniOption, type ParsedIni, readIntoIni } from "./configparser.js";
import { configExpansions, envExpansions } from "./expansions.js";

/** Reads a whole file; throws (ENOENT, EISDIR…) when it cannot be opened. */
export type ReadFileFn = (path: string) => string;

/** Things that need the machine; injectable so tests need not depend on it. */
export interface ReadOptions {
  /** `platform.node()`, for `%(host_node_name)s`. */
  hostNodeName?: string;
  /** The working directory a relative main config path is resolved against. */
  cwd?: string;
}

/** The merged configuration, as supervisord's parser holds it once read_config has read every file. */
export interface SupervisorConfig {
  mainConfig: string;
  /** `%(here)s` of the main file: abspath(dirname(mainConfig)). */
  here: string;
  hostNodeName: string;
  ini: ParsedIni;
  /** Files actually read, in order (a file matched by two patterns is read twice, as supervisord does). */
  files: string[];
  /** `[include] files=` patterns, made absolute against the main file's directory. */
  includePatterns: string[];
  /** As supervisord's parse_warnings: patterns that matched nothing. */
  warnings: string[];
  /** Reasons supervisord would refuse this configuration (it would exit; here reading goes on). */
  errors: string[];
  /** Section name -> file where it first appeared. */
  sectionToFile: Map<string, string>;
  /** ENV_* from the environment and from `[supervisord] environment=`. */
  envExpansions: Map<string, string | number>;
  /** HOME, for `~` in log file paths. */
  home: string;
  listDir: ListDirFn;
  /** Directory -> whether it exists, asked once per directory (every process of 1,000 workers shares one log dir). */
  dirsSeen: Map<string, boolean>;
}

/** The largest config file read: a bigger one is refused rather than read into memory. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** Why a path is not read as a config file (not a regular file, or too big): `code` ENOTREG, `path`, and `reason`. */
function notAConfigFile(path: string, reason: string): Error {
  return Object.assign(new Error(`${path} is ${reason}`), { code: "ENOTREG", path, reason });
}

/** What a stat says a path is, for a refusal. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  return st.isDirectory() ? "a directory" : "not a regular file";
}

/**
 * Default file reader. Follows a symbolic link (supervisord does), but reads only a regular file
 * of at most 8 MiB, opened non-blocking: a FIFO, socket or device in an include is refused
 * (ENOTREG) before it can hang or harm the read. UTF-8 like Python's locale encoding here,
 * strict, BOM kept (Python keeps it too).
 */
export function readFileStrict(path: string): string {
  const before = statSync(path);
  if (!before.isFile()) throw notAConfigFile(path, kindOf(before));
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notAConfigFile(path, kindOf(st));
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const part = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, part, 0, part.length, null);
      if (n === 0) break;
      parts.push(part.subarray(0, n));
      if ((total += n) > MAX_CONFIG_BYTES) throw notAConfigFile(path, `larger than ${MAX_CONFIG_BYTES} bytes`);
    }
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(Buffer.concat(parts, total));
  } finally {
    closeSync(fd);
  }
}

/**
 * readFileStrict that keeps each text it read in `texts` (for callers that look at a file again),
 * and hands each file it refuses as no config file (a FIFO, socket, device, too big) to `onRefused`.
 */
export function recordingReader(texts: Map<string, string>, onRefused: (path: string, reason: string) => void): ReadFileFn {
  return (path) => {
    try {
      const text = readFileStrict(path);
      texts.set(path, text);
      return text;
    } catch (e) {
      const err = e as { code?: unknown; reason?: unknown };
      if (err.code === "ENOTREG") onRefused(path, String(err.reason));
      throw e;
    }
  };
}

/** Default directory lister, on the real file system. */
export function listDirReal(path: string): DirEntry[] | null {
  try {
    return readdirSync(path, { withFileTypes: true }).map((e) => ({
      name: e.name,
      isDir: e.isDirectory() || (e.isSymbolicLink() && isDirReal(`${path}/${e.name}`)),
    }));
  } catch {
    return null;
  }
}

function isDirReal(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// ServerOptions.read_config: the main file, then [include] files, into one parser.

/**
 * Read `mainConfig` and the files its `[include] files=` names into one parser, as supervisord's
 * read_config does. Never throws for configuration problems: they land in `errors`.
 */
export function readSupervisorConfig(
  mainConfig: string,
  env: NodeJS.ProcessEnv,
  readFile: ReadFileFn = readFileStrict,
  listDir: ListDirFn = listDirReal,
  opts: ReadOptions = {},
): SupervisorConfig {
  const cwd = opts.cwd ?? process.cwd();
  const envExp = envExpansions(env);
  const cfg: SupervisorConfig = {
    mainConfig,
    here: pyAbspath(pySplitPath(mainConfig)[0], cwd),
    hostNodeName: opts.hostNodeName ?? hostname(),
    ini: createIni(),
    files: [],
    includePatterns: [],
    warnings: [],
    errors: [],
    sectionToFile: new Map(),
    envExpansions: envExp,
    home: env.HOME ?? homedir(),
    listDir,
    dirsSeen: new Map(),
  };
  if (readOneFile(cfg, mainConfig, readFile, true) === null) return cfg;
  readIncludes(cfg, readFile, pySplitPath(pyAbspath(mainConfig, cwd))[0]);
  // The file each section first appeared in (the parser records it as it opens the section).
  for (const [name, section] of cfg.ini.sections) cfg.sectionToFile.set(name, section.file ?? mainConfig);
  if (!cfg.ini.sections.has("supervisord")) cfg.errors.push(".ini file does not include supervisord section");
  else addSupervisordEnvironment(cfg);
  return cfg;
}

function defaultsHaveHere(ini: ParsedIni): boolean {
  for (const o of ini.defaults.options.values()) if (o.value.includes("%(here)s")) return true;
  return false;
}

/** Read one file into the shared parser; its text, or null when it could not be opened. */
function readOneFile(cfg: SupervisorConfig, path: string, readFile: ReadFileFn, main: boolean): string | null {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    // RawConfigParser.read skips files it cannot open (OSError); a decoding error is fatal.
    const code = (e as { code?: unknown }).code;
    if (main || typeof code !== "string") cfg.errors.push(`could not read config file ${path}: ${(e as Error).message}`);
    return null;
  }
  const errorsBefore = cfg.ini.errors.length;
  readIntoIni(cfg.ini, text, path);
  for (const err of cfg.ini.errors.slice(errorsBefore)) cfg.errors.push(describeIniError(err));
  cfg.files.push(path);
  return text;
}

function describeIniError(err: IniError): string {
  const what = err.kind === "missing-section-header" ? "File contains no section headers" : "Source contains parsing errors";
  return `${what}: ${pyRepr(err.file)}\n\t[line ${String(err.line).padStart(2)}]: ${pyRepr(err.text)}`;
}

function readIncludes(cfg: SupervisorConfig, readFile: ReadFileFn, base: string): void {
  const include = cfg.ini.sections.get("include");
  if (!include) return;
  // Only when there is an [include] section does the main file get its %(here)s replaced early.
  expandHere(cfg.ini, cfg.here);
  const files = getOption(cfg.ini, "include", "files");
  if (!files) {
    cfg.errors.push(".ini file has [include] section, but no files setting");
    return;
  }
  const expanded = expandValue(files.value, configExpansions(cfg.envExpansions, cfg.here, cfg.hostNodeName), "include.files");
  if (!expanded.ok) return void cfg.errors.push(expanded.error);
  for (const rel of pySplit(expanded.value)) {
    const pattern = pyJoin(base, rel);
    cfg.includePatterns.push(pattern);
    const matches = safeGlob(cfg, pattern);
    if (matches.length === 0) cfg.warnings.push(`No file matches via include "${pattern}"`);
    for (const file of matches.sort(comparePy)) {
      // Each included file's %(here)s is its own directory, applied to everything read so far.
      // Every earlier %(here)s is gone already: only this file's, or DEFAULT's, can be left. Skipping
      // the walk when there are none gives the same result without rescanning every section per file.
      const text = readOneFile(cfg, file, readFile, false);
      if (text !== null && (text.includes("%(here)s") || defaultsHaveHere(cfg.ini))) {
        expandHere(cfg.ini, pyAbspath(pySplitPath(file)[0], "/"));
      }
    }
  }
}

function safeGlob(cfg: SupervisorConfig, pattern: string): string[] {
  try {
    return pyGlob(pattern, cfg.listDir);
  } catch (e) {
    cfg.errors.push((e as Error).message);
    return [];
  }
}

/**
 * UnhosedConfigParser.expand_here: a literal replace of `%(here)s` in every section, DEFAULT's
 * values included (they are copied into each section, DEFAULT itself stays as it was).
 */
export function expandHere(ini: ParsedIni, here: string): void {
  for (const section of ini.sections.values()) {
    const keys = new Set([...ini.defaults.options.keys(), ...section.options.keys()]);
    for (const key of keys) {
      const opt = (section.options.get(key) ?? ini.defaults.options.get(key)) as IniOption;
      if (opt.value.includes("%(here)s")) section.options.set(key, { ...opt, value: opt.value.split("%(here)s").join(here) });
    }
  }
}

/** `[supervisord] environment=` adds ENV_* expansions for every program (read_config). */
function addSupervisordEnvironment(cfg: SupervisorConfig): void {
  const raw = getOption(cfg.ini, "supervisord", "environment")?.value ?? "";
  // Expanded twice: once by getdefault() (here + ENV_*), once more by read_config itself.
  const first = expandValue(raw, configExpansions(cfg.envExpansions, cfg.here), "supervisord.environment");
  const second = first.ok
    ? expandValue(first.value, configExpansions(cfg.envExpansions, cfg.here, cfg.hostNodeName), "environment")
    : first;
  if (!second.ok) return void cfg.errors.push(second.error);
  try {
    for (const [k, v] of dictOfKeyValuePairs(second.value)) cfg.envExpansions.set(`ENV_${k}`, v);
  } catch (e) {
    cfg.errors.push((e as Error).message);
  }
}
