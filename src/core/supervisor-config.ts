/**
 * A supervisord.conf and the files it includes, read as supervisord 4.2.5 reads them
 * (supervisor/options.py: ServerOptions.read_config, process_groups_from_parser,
 * _processes_from_section; supervisor/datatypes.py). Standalone: imports only its sibling parser.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, type Stats, statSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { createIni, getOption, type IniError, type IniOption, type ParsedIni, pyStrip, pySplit, readIntoIni } from "./configparser.js";

/** One directory entry; `isDir` follows symlinks, as Python's `DirEntry.is_dir()`. */
export interface DirEntry {
  name: string;
  isDir: boolean;
}

/** Reads a whole file; throws (ENOENT, EISDIR…) when it cannot be opened. */
export type ReadFileFn = (path: string) => string;
/** Lists a directory; null when it cannot be listed (not a directory, no permission). */
export type ListDirFn = (path: string) => DirEntry[] | null;

/** Values `%`-expansions can name: strings, or integers (process_num, numprocs). */
/** Names a `%(name)s` can expand: a Map, or a view of two (see withEnv). */
export interface Expansions {
  get(key: string): string | number | undefined;
  keys(): Iterable<string>;
}

/** The outcome of an expansion: supervisor raises ValueError where this says `ok: false`. */
export type Expanded = { ok: true; value: string } | { ok: false; error: string };

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
// posixpath, as Python's (node's path.posix differs: dirname('/a/b/'), '//' at the start).

/** Python's `os.path.split`. */
export function pySplitPath(p: string): [string, string] {
  const i = p.lastIndexOf("/") + 1;
  let head = p.slice(0, i);
  if (head && !/^\/+$/.test(head)) head = head.replace(/\/+$/, "");
  return [head, p.slice(i)];
}

/** Python's `os.path.join` for two parts. */
export function pyJoin(a: string, b: string): string {
  if (b.startsWith("/")) return b;
  return !a || a.endsWith("/") ? a + b : `${a}/${b}`;
}

/** Python's `os.path.normpath`. */
export function pyNormpath(path: string): string {
  if (!path) return ".";
  const initial = path.startsWith("/") ? (path.startsWith("//") && !path.startsWith("///") ? 2 : 1) : 0;
  const out: string[] = [];
  for (const comp of path.split("/")) {
    if (comp === "" || comp === ".") continue;
    if (comp !== ".." || (!initial && out.length === 0) || out[out.length - 1] === "..") out.push(comp);
    else if (out.length > 0) out.pop();
  }
  return "/".repeat(initial) + out.join("/") || ".";
}

/** Python's `os.path.abspath`. */
export function pyAbspath(p: string, cwd: string): string {
  return pyNormpath(p.startsWith("/") ? p : pyJoin(cwd, p));
}

// ---------------------------------------------------------------------------------------------
// glob.glob (recursive=False, so `**` is just `*`), with fnmatch.translate's rules.

const MAGIC = /[*?[]/;

/** Python's `glob.glob(pattern)` over an injected directory lister, in its (unsorted) yield order. */
export function pyGlob(pattern: string, listDir: ListDirFn, cwd = "."): string[] {
  return [...iglob(pattern, false, listDir, cwd)];
}

function* iglob(pathname: string, dironly: boolean, listDir: ListDirFn, cwd: string): Generator<string> {
  const [dirname, basename] = pySplitPath(pathname);
  if (!MAGIC.test(pathname)) {
    if (basename ? lexists(pathname, listDir, cwd) : listDir(dirname || cwd) !== null) yield pathname;
    return;
  }
  if (!dirname) {
    yield* glob1(cwd, basename, dironly, listDir);
    return;
  }
  const dirs = dirname !== pathname && MAGIC.test(dirname) ? iglob(dirname, true, listDir, cwd) : [dirname];
  for (const dir of dirs) {
    const names = MAGIC.test(basename) ? glob1(dir, basename, dironly, listDir) : glob0(dir, basename, listDir, cwd);
    for (const name of names) yield pyJoin(dir, name);
  }
}

function lexists(path: string, listDir: ListDirFn, cwd: string): boolean {
  const [dir, base] = pySplitPath(path);
  return (listDir(dir || cwd) ?? []).some((e) => e.name === base);
}

function glob0(dir: string, basename: string, listDir: ListDirFn, cwd: string): string[] {
  if (basename) return lexists(pyJoin(dir, basename), listDir, cwd) ? [basename] : [];
  return listDir(dir) !== null ? [basename] : [];
}

function glob1(dir: string, pattern: string, dironly: boolean, listDir: ListDirFn): string[] {
  let entries = listDir(dir) ?? [];
  if (dironly) entries = entries.filter((e) => e.isDir);
  // Hidden names only match a pattern that itself starts with a dot (glob._ishidden).
  if (!pattern.startsWith(".")) entries = entries.filter((e) => !e.name.startsWith("."));
  const re = fnmatchRegExp(pattern);
  return entries.map((e) => e.name).filter((n) => re.test(n));
}

const escapeCp = (c: string): string => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`;

/** fnmatch.translate as a JS RegExp (case-sensitive, `*` and `?` match any character, `/` included). */
export function fnmatchRegExp(pat: string): RegExp {
  const chars = Array.from(pat);
  let re = "";
  let i = 0;
  while (i < chars.length) {
    const c = chars[i++] as string;
    if (c === "*") re += re.endsWith(".*?") ? "" : ".*?";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const [cls, next] = bracket(chars, i);
      re += cls;
      i = next;
    } else re += escapeCp(c);
  }
  return new RegExp(`^(?:${re})$`, "su");
}

/** One `[...]` of fnmatch.translate: returns the JS fragment and the index after it. */
function bracket(chars: string[], i: number): [string, number] {
  const n = chars.length;
  let j = i;
  if (j < n && chars[j] === "!") j++;
  if (j < n && chars[j] === "]") j++;
  while (j < n && chars[j] !== "]") j++;
  if (j >= n) return ["\\[", i]; // no closing bracket: a literal '['
  const chunks = bracketChunks(chars, i, j);
  if (chunks.length === 1 && chunks[0] === "") return ["(?!)", j + 1];
  if (chunks.length === 1 && chunks[0] === "!") return [".", j + 1];
  const negate = (chunks[0] ?? "").startsWith("!");
  if (negate) chunks[0] = (chunks[0] as string).slice(1);
  let body = "";
  chunks.forEach((chunk, k) => {
    const cs = Array.from(chunk);
    // The last char of a chunk and the first of the next one bound a range.
    cs.forEach((ch, m) => (body += (k > 0 && m === 0 ? "-" : "") + escapeCp(ch)));
  });
  return [`[${negate ? "^" : ""}${body}]`, j + 1];
}

/** fnmatch's split of a bracket's content on range hyphens, empty ranges (z-a) removed. */
function bracketChunks(chars: string[], i: number, j: number): string[] {
  const stuff = chars.slice(i, j);
  if (!stuff.includes("-")) return [stuff.join("")];
  const chunks: string[] = [];
  let start = i;
  let k = chars[i] === "!" ? i + 2 : i + 1;
  for (;;) {
    k = chars.indexOf("-", k);
    if (k < 0 || k >= j) break;
    chunks.push(chars.slice(start, k).join(""));
    start = k + 1;
    k += 3;
  }
  const last = chars.slice(start, j).join("");
  if (last) chunks.push(last);
  else chunks[chunks.length - 1] += "-";
  for (let k2 = chunks.length - 1; k2 > 0; k2--) {
    const prev = Array.from(chunks[k2 - 1] as string);
    const cur = Array.from(chunks[k2] as string);
    if (prev.length === 0 || cur.length === 0) throw new Error(`fnmatch cannot translate ${chars.join("")} (IndexError in Python)`);
    if ((prev[prev.length - 1] as string).codePointAt(0)! > (cur[0] as string).codePointAt(0)!) {
      chunks[k2 - 1] = prev.slice(0, -1).join("") + cur.slice(1).join("");
      chunks.splice(k2, 1);
    }
  }
  return chunks;
}

/** Python's `sorted()` order for str: by code point (JS's default compares UTF-16 units). */
export function comparePy(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return unitRank(x) - unitRank(y);
  }
  return a.length - b.length;
}

// Surrogates (code points above U+FFFF) must sort after U+E000..U+FFFF.
const unitRank = (u: number): number => (u >= 0xe000 ? u - 0x800 : u >= 0xd800 ? u + 0x2000 : u);

// ---------------------------------------------------------------------------------------------
// Python's `s % mapping`, which supervisor's expand() applies (options.py: expand).

class FormatError extends Error {
  constructor(
    message: string,
    readonly missingKey = false,
  ) {
    super(message);
  }
}

interface Spec {
  key: string;
  flags: string;
  width: number;
  precision: number | null;
  conv: string;
}

/**
 * Python `%`-interpolation as supervisor's `expand()` does it: `%(name)s`, `%(name)02d`, `%%`; an
 * unknown name or a bad format is an error (supervisor raises "Format string … badly formatted").
 */
export function expandValue(value: string, expansions: Expansions, name = "value"): Expanded {
  try {
    return { ok: true, value: pyPercentFormat(value, expansions) };
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    if (e.missingKey) {
      const available = [...expansions.keys()].sort(comparePy).join(", ");
      return {
        ok: false,
        error: `Format string ${pyRepr(value)} for ${pyRepr(name)} contains names (${e.message}) which cannot be expanded. Available names: ${available}`,
      };
    }
    return { ok: false, error: `Format string ${pyRepr(value)} for ${pyRepr(name)} is badly formatted: ${e.message}` };
  }
}

function pyPercentFormat(s: string, map: Expansions): string {
  let out = "";
  let i = 0;
  for (;;) {
    const p = s.indexOf("%", i);
    if (p < 0) return out + s.slice(i);
    out += s.slice(i, p);
    if (s[p + 1] === "%") {
      out += "%";
      i = p + 2;
      continue;
    }
    const [spec, next] = parseSpec(s, p + 1);
    const v = map.get(spec.key);
    if (v === undefined) throw new FormatError(pyRepr(spec.key), true);
    out += formatOne(spec, v);
    i = next;
  }
}

function parseSpec(s: string, start: number): [Spec, number] {
  let i = start;
  let key: string | null = null;
  if (s[i] === "(") {
    // Nested parentheses belong to the key: `%(a(b)c)s` names "a(b)c".
    let depth = 1;
    const keyStart = ++i;
    for (; i < s.length && depth > 0; i++) depth += s[i] === "(" ? 1 : s[i] === ")" ? -1 : 0;
    if (depth > 0) throw new FormatError("incomplete format key");
    key = s.slice(keyStart, i - 1);
  }
  let flags = "";
  while (i < s.length && "-+ #0".includes(s[i] as string)) flags += s[i++];
  const width = readDigits(s, i);
  i = width[1];
  let precision: number | null = null;
  if (s[i] === ".") [precision, i] = readDigits(s, i + 1);
  if (i < s.length && "hlL".includes(s[i] as string)) i++;
  if (i >= s.length) throw new FormatError("incomplete format");
  const conv = String.fromCodePoint(s.codePointAt(i) ?? 0);
  if (!"sradiuxXoeEfFgGc".includes(conv)) {
    const hex = (conv.codePointAt(0) ?? 0).toString(16);
    throw new FormatError(`unsupported format character ${pyRepr(conv)} (0x${hex}) at index ${i}`);
  }
  // Python would format the whole mapping for a first unnamed `%s` (str(dict)); not worth copying.
  if (key === null) throw new FormatError("format without a (name): positional arguments are not supported");
  return [{ key, flags, width: width[0], precision, conv }, i + conv.length];
}

function readDigits(s: string, i: number): [number, number] {
  if (s[i] === "*") throw new FormatError("* wants int");
  let n = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) n = n * 10 + (s.charCodeAt(i++) - 48);
  return [n, i];
}

function formatOne(spec: Spec, v: string | number): string {
  const { conv, flags } = spec;
  if ("sra".includes(conv)) {
    let str = typeof v === "number" ? String(v) : conv === "s" ? v : pyRepr(v, conv === "a");
    if (spec.precision !== null) str = Array.from(str).slice(0, spec.precision).join("");
    return pad(str, spec.width, flags.includes("-"));
  }
  if (conv === "c") {
    if (typeof v === "string" && Array.from(v).length === 1) return pad(v, spec.width, flags.includes("-"));
    if (typeof v === "string") throw new FormatError("%c requires int or char");
    if (v < 0 || v > 0x10ffff) throw new FormatError("%c arg not in range(0x110000)");
    return pad(String.fromCodePoint(v), spec.width, flags.includes("-"));
  }
  if (typeof v !== "number") {
    if ("diu".includes(conv)) throw new FormatError(`%${conv} format: a real number is required, not str`);
    if ("xXo".includes(conv)) throw new FormatError(`%${conv} format: an integer is required, not str`);
    throw new FormatError("must be real number, not str");
  }
  const [sign, prefix, digits] = "diuxXo".includes(conv) ? intParts(spec, v) : floatParts(spec, v);
  const body = sign + prefix + digits;
  if (flags.includes("-") || !flags.includes("0")) return pad(body, spec.width, flags.includes("-"));
  return sign + prefix + digits.padStart(spec.width - sign.length - prefix.length, "0");
}

const pad = (s: string, width: number, left: boolean): string => (left ? s.padEnd(width) : s.padStart(width));

function signOf(flags: string, negative: boolean): string {
  return negative ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "";
}

function intParts(spec: Spec, v: number): [string, string, string] {
  const base = spec.conv === "o" ? 8 : "xX".includes(spec.conv) ? 16 : 10;
  let digits = BigInt(Math.abs(v)).toString(base);
  if (spec.conv === "X") digits = digits.toUpperCase();
  if (spec.precision !== null) digits = digits.padStart(spec.precision, "0");
  const prefix = spec.flags.includes("#") && base !== 10 ? `0${spec.conv === "o" ? "o" : spec.conv}` : "";
  return [signOf(spec.flags, v < 0), prefix, digits];
}

function floatParts(spec: Spec, v: number): [string, string, string] {
  const p = spec.precision ?? 6;
  const alt = spec.flags.includes("#");
  const conv = spec.conv.toLowerCase();
  const a = Math.abs(v);
  let digits: string;
  if (conv === "f") digits = a.toFixed(p) + (alt && p === 0 ? "." : "");
  else if (conv === "e") digits = pyExp(a, p, alt);
  else digits = pyGeneral(a, p === 0 ? 1 : p, alt);
  if (spec.conv !== conv) digits = digits.toUpperCase();
  return [signOf(spec.flags, v < 0), "", digits];
}

function pyExp(a: number, p: number, alt: boolean): string {
  const [mant, exp] = a.toExponential(p).split("e") as [string, string];
  const e = Number(exp);
  return `${mant}${alt && p === 0 ? "." : ""}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

function pyGeneral(a: number, p: number, alt: boolean): string {
  const exp = a === 0 ? 0 : Number(a.toExponential(p - 1).split("e")[1]);
  const s = exp >= -4 && exp < p ? a.toFixed(p - 1 - exp) : pyExp(a, p - 1, false);
  const e = s.indexOf("e");
  let mant = e < 0 ? s : s.slice(0, e);
  const tail = e < 0 ? "" : s.slice(e);
  // %g drops trailing zeros (and a bare point); with '#' it keeps them and always shows the point.
  if (!alt && mant.includes(".")) mant = mant.replace(/0+$/, "").replace(/\.$/, "");
  else if (alt && !mant.includes(".")) mant += ".";
  return mant + tail;
}

// Python's str.isprintable() is false for these categories (space excepted).
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python's `repr()` (or `ascii()`) of a str. */
export function pyRepr(s: string, ascii = false): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (cp < 0x7f && cp >= 0x20) out += ch;
    else if (!ascii && cp > 0x7f && (ch === " " || !NON_PRINTABLE.test(ch))) out += ch;
    else if (cp <= 0xff) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return out + quote;
}

// ---------------------------------------------------------------------------------------------
// datatypes.dict_of_key_value_pairs: a NON-posix shlex (quotes stay in tokens, '#' comments).

const SHLEX_WORD = /^[A-Za-z0-9_/.+\-():]$/;
const SHLEX_SPACE = " \t\r\n";

/** Tokens of `shlex.shlex(s)` (posix=False) with supervisor's extra wordchars `/.+-():`. */
export function shlexNonPosix(s: string): string[] {
  const chars = Array.from(s);
  const tokens: string[] = [];
  let i = 0;
  let state = " ";
  let token = "";
  const skipLine = (): void => {
    while (i < chars.length && chars[i++] !== "\n");
  };
  for (;;) {
    const c = chars[i++];
    if (state === " ") {
      if (c === undefined) return tokens;
      if (SHLEX_SPACE.includes(c)) continue;
      if (c === "#") skipLine();
      else if (SHLEX_WORD.test(c)) [token, state] = [c, "a"];
      else if (c === "'" || c === '"') [token, state] = [c, c];
      else tokens.push(c);
    } else if (state === "a") {
      if (c === undefined) return [...tokens, token];
      // In non-posix mode a comment inside a word swallows the rest of the line and the word goes on.
      if (c === "#") skipLine();
      else if (SHLEX_WORD.test(c) || c === "'" || c === '"') token += c;
      else {
        tokens.push(token);
        if (!SHLEX_SPACE.includes(c)) tokens.push(c);
        state = " ";
      }
    } else {
      if (c === undefined) throw new Error("No closing quotation");
      token += c;
      if (c === state) {
        tokens.push(token);
        state = " ";
      }
    }
  }
}

/** `dict_of_key_value_pairs`: `K=v,K2="v 2"` -> map; the 4th token of each group is skipped unchecked. */
export function dictOfKeyValuePairs(arg: string): Map<string, string> {
  const tokens = shlexNonPosix(arg);
  const out = new Map<string, string>();
  for (let i = 0; i < tokens.length; i += 4) {
    const [k, eq, v] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (k === undefined || eq !== "=" || v === undefined) throw new Error(`Unexpected end of key/value pairs in value '${arg}'`);
    out.set(k, v.replace(/^['"]+|['"]+$/g, ""));
  }
  return out;
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
  const envExpansions = new Map<string, string | number>();
  for (const [k, v] of Object.entries(env)) if (v !== undefined) envExpansions.set(`ENV_${k}`, v);
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
    envExpansions,
    home: env.HOME ?? homedir(),
    listDir,
  };
  if (!readOneFile(cfg, mainConfig, readFile, true)) return cfg;
  readIncludes(cfg, readFile, pySplitPath(pyAbspath(mainConfig, cwd))[0]);
  // The file each section first appeared in (the parser records it as it opens the section).
  for (const [name, section] of cfg.ini.sections) cfg.sectionToFile.set(name, section.file ?? mainConfig);
  if (!cfg.ini.sections.has("supervisord")) cfg.errors.push(".ini file does not include supervisord section");
  else addSupervisordEnvironment(cfg);
  return cfg;
}

/** The text readOneFile read last (so readIncludes can tell whether it holds a %(here)s). */
let lastText = "";

function defaultsHaveHere(ini: ParsedIni): boolean {
  for (const o of ini.defaults.options.values()) if (o.value.includes("%(here)s")) return true;
  return false;
}

/** Read one file into the shared parser; false when it could not be opened. */
function readOneFile(cfg: SupervisorConfig, path: string, readFile: ReadFileFn, main: boolean): boolean {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    // RawConfigParser.read skips files it cannot open (OSError); a decoding error is fatal.
    const code = (e as { code?: unknown }).code;
    if (main || typeof code !== "string") cfg.errors.push(`could not read config file ${path}: ${(e as Error).message}`);
    return false;
  }
  lastText = text;
  const errorsBefore = cfg.ini.errors.length;
  readIntoIni(cfg.ini, text, path);
  for (const err of cfg.ini.errors.slice(errorsBefore)) cfg.errors.push(describeIniError(err));
  cfg.files.push(path);
  return true;
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
  const expansions = new Map<string, string | number>([
    ["here", cfg.here],
    ["host_node_name", cfg.hostNodeName],
  ]);
  for (const [k, v] of cfg.envExpansions) expansions.set(k, v);
  const expanded = expandValue(files.value, expansions, "include.files");
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
      if (readOneFile(cfg, file, readFile, false) && (lastText.includes("%(here)s") || defaultsHaveHere(cfg.ini))) {
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
  const first = expandValue(raw, withHere(cfg.envExpansions, cfg.here), "supervisord.environment");
  const second = first.ok ? expandValue(first.value, withHere(cfg.envExpansions, cfg.here, cfg.hostNodeName), "environment") : first;
  if (!second.ok) return void cfg.errors.push(second.error);
  try {
    for (const [k, v] of dictOfKeyValuePairs(second.value)) cfg.envExpansions.set(`ENV_${k}`, v);
  } catch (e) {
    cfg.errors.push((e as Error).message);
  }
}

function withHere(base: ReadonlyMap<string, string | number>, here: string, host?: string): Map<string, string | number> {
  const m = new Map(base);
  m.set("here", here);
  if (host !== undefined) m.set("host_node_name", host);
  return m;
}

/** Python's `int(str)`: surrounding whitespace, a sign, `_` between digits, any Unicode decimal digit. */
export function pyInt(s: string): number | null {
  const t = pyStrip(s);
  if (!/^[+-]?\p{Nd}+(?:_\p{Nd}+)*$/u.test(t)) return null;
  let n = 0;
  for (const ch of t) if (/\p{Nd}/u.test(ch)) n = n * 10 + digitValue(ch.codePointAt(0) ?? 0);
  return t.startsWith("-") ? -n : n;
}

// Unicode decimal digits come in runs of ten from zero; adjacent runs (math digits) stay aligned.
function digitValue(cp: number): number {
  let start = cp;
  while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}

// ---------------------------------------------------------------------------------------------
// process_groups_from_parser / _processes_from_section: what supervisord will run.

/** Where a process's stdout goes, as logfile_name() classifies the expanded value. */
export type LogTarget =
  | { kind: "auto" }
  | { kind: "none" }
  | { kind: "syslog" }
  /** /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: not a file to read back. */
  | { kind: "stream"; path: string }
  | { kind: "file"; path: string };

/** One process supervisord would create. */
export interface ProcessInfo {
  /** The process group (the program itself, or the `[group:g]` that lists it). */
  group: string;
  name: string;
  /** How supervisorctl shows it: `name` when group == name, else `group:name` (make_namespec). */
  namespec: string;
  processNum: number;
  stdoutLogfile: LogTarget | null;
}

/** One `[program:x]`, `[fcgi-program:x]`, `[eventlistener:x]` or `[group:g]` section. */
export interface ProgramInfo {
  kind: "program" | "fcgi-program" | "eventlistener" | "group";
  section: string;
  name: string;
  file: string;
  priority: number | null;
  numprocs: number | null;
  numprocsStart: number | null;
  /** For a group: the programs it lists. For a program: the groups that list it. */
  programs: string[];
  groups: string[];
  /** In supervisord's order: by (priority, name) within each group. */
  processes: ProcessInfo[];
  /** Reasons supervisord would reject this section. */
  errors: string[];
}

interface SectionProcs {
  priority: number | null;
  numprocs: number | null;
  numprocsStart: number | null;
  processes: ProcessInfo[];
  errors: string[];
}

const KINDS = ["program", "fcgi-program", "eventlistener", "group"] as const;

/** Every program-like section of the merged config, with its processes as supervisord names them. */
export function programsOf(cfg: SupervisorConfig): ProgramInfo[] {
  const out: ProgramInfo[] = [];
  const grouped = new Map<string, string[]>();
  for (const sectionName of cfg.ini.sections.keys()) {
    const kind = KINDS.find((k) => sectionName.startsWith(`${k}:`));
    if (kind !== "group") continue;
    const info = groupInfo(cfg, sectionName);
    for (const member of info.programs) grouped.set(member, [...(grouped.get(member) ?? []), info.name]);
    out.push(info);
  }
  for (const sectionName of cfg.ini.sections.keys()) {
    const kind = KINDS.find((k) => sectionName.startsWith(`${k}:`));
    if (kind === undefined || kind === "group") continue;
    out.push(programInfo(cfg, kind, sectionName, grouped.get(sectionName) ?? []));
  }
  const position = new Map([...cfg.ini.sections.keys()].map((section, i) => [section, i]));
  const at = (p: ProgramInfo) => position.get(p.section) ?? 0;
  return out.sort((a, b) => at(a) - at(b));
}

function programInfo(cfg: SupervisorConfig, kind: ProgramInfo["kind"], section: string, groups: string[]): ProgramInfo {
  const rawName = section.slice(section.indexOf(":") + 1);
  const base = { kind, section, file: cfg.sectionToFile.get(section) ?? cfg.mainConfig, programs: [], groups };
  const checked = processOrGroupName(rawName);
  // An eventlistener pool keeps its raw name as group name (process_groups_from_parser does not strip it).
  const groupName = kind === "eventlistener" ? rawName : (checked.name ?? rawName);
  const errors = checked.error ? [checked.error] : [];
  // A program listed by [group:x] sections belongs to those groups only; supervisord builds it once per group.
  const asGroups = groups.length > 0 && kind !== "eventlistener" ? groups : [groupName];
  const runs = asGroups.map((g) => processesFromSection(cfg, section, g));
  const first = runs[0] as SectionProcs;
  return {
    ...base,
    name: checked.name ?? rawName.trim(),
    priority: first.priority,
    numprocs: first.numprocs,
    numprocsStart: first.numprocsStart,
    processes: runs.flatMap((r) => r.processes),
    errors: [...errors, ...new Set(runs.flatMap((r) => r.errors))],
  };
}

function groupInfo(cfg: SupervisorConfig, section: string): ProgramInfo {
  const checked = processOrGroupName(section.slice(section.indexOf(":") + 1));
  const name = checked.name ?? section.slice(6);
  const errors = checked.error ? [checked.error] : [];
  const get = sectionGetter(cfg, section, withHere(new Map(), cfg.here));
  const programsRaw = get("programs", null);
  const priority = toInt(get("priority", 999), "priority", errors);
  const programs = programsRaw.ok && programsRaw.value ? String(programsRaw.value).split(",").map(pyStrip) : [];
  if (!programsRaw.ok) errors.push(programsRaw.error);
  const members: string[] = [];
  const keyed: { p: ProcessInfo; prio: number }[] = [];
  for (const program of programs) {
    const member = memberSection(cfg, section, program, errors);
    if (member === null) continue;
    members.push(member);
    const run = processesFromSection(cfg, member, name);
    for (const p of run.processes) keyed.push({ p, prio: run.priority ?? 999 });
  }
  const file = cfg.sectionToFile.get(section) ?? cfg.mainConfig;
  const sorted = sortProcesses(keyed);
  return {
    kind: "group",
    section,
    name,
    file,
    priority,
    numprocs: null,
    numprocsStart: null,
    programs: members,
    groups: [],
    processes: sorted,
    errors,
  };
}

function memberSection(cfg: SupervisorConfig, group: string, program: string, errors: string[]): string | null {
  const asProgram = cfg.ini.sections.has(`program:${program}`);
  const asFcgi = cfg.ini.sections.has(`fcgi-program:${program}`);
  if (asProgram && asFcgi) errors.push(`[${group}] name ${program} is ambiguous (exists as program and fcgi-program)`);
  else if (!asProgram && !asFcgi) errors.push(`[${group}] names unknown program or fcgi-program ${program}`);
  else return asProgram ? `program:${program}` : `fcgi-program:${program}`;
  return null;
}

/** ProcessConfig.__lt__: by priority, then name; Python's sort is stable. */
function sortProcesses(keyed: { p: ProcessInfo; prio: number }[]): ProcessInfo[] {
  keyed.sort((a, b) => (a.prio !== b.prio ? a.prio - b.prio : comparePy(a.p.name, b.p.name)));
  return keyed.map((k) => k.p);
}

/** datatypes.process_or_group_name: stripped; space, ':' and '/' refused. */
function processOrGroupName(raw: string): { name: string | null; error?: string } {
  const s = pyStrip(raw);
  for (const ch of " :/")
    if (s.includes(ch)) return { name: null, error: `Invalid name: ${pyRepr(raw)} because of character: ${pyRepr(ch)}` };
  return { name: s };
}

type Got = { ok: true; value: string | number | null } | { ok: false; error: string };
type Getter = (key: string, dflt: string | number | null, doExpand?: boolean) => Got;

/** UnhosedConfigParser.saneget: the section's value (or DEFAULT's), %-expanded with ENV_* plus `extra`. */
function sectionGetter(cfg: SupervisorConfig, section: string, extra: Expansions): Getter {
  return (key, dflt, doExpand = true) => {
    const opt = getOption(cfg.ini, section, key);
    if (!opt) return typeof dflt === "string" && doExpand ? expandLazily(cfg, dflt, extra, `${section}.${key}`) : { ok: true, value: dflt };
    if (!doExpand) return { ok: true, value: opt.value };
    return expandLazily(cfg, opt.value, extra, `${section}.${key}`);
  };
}

/** expandValue, without building the expansion map for the many values that hold no `%` (their expansion is themselves). */
function expandLazily(cfg: SupervisorConfig, value: string, extra: Expansions, name: string): Expanded {
  return value.includes("%") ? expandValue(value, withEnv(cfg, extra), name) : { ok: true, value };
}

/**
 * supervisord's `expansions.update(environ_expansions)` then `update(extra)`, as a view: `extra`
 * first, then the ENV_* names. Copying the environment per value was a fifth of `worker ls`'s
 * own time at 200 workers (bench/profile-ls.mjs).
 */
function withEnv(cfg: SupervisorConfig, extra: Expansions): Expansions {
  const env = cfg.envExpansions;
  return {
    get: (key) => extra.get(key) ?? env.get(key),
    keys: () => new Set([...env.keys(), ...extra.keys()]),
  };
}

function toInt(r: Got, key: string, errors: string[]): number | null {
  if (!r.ok) return (errors.push(r.error), null);
  if (typeof r.value === "number" || r.value === null) return r.value;
  const n = pyInt(r.value);
  if (n === null) errors.push(`invalid literal for int() with base 10: ${pyRepr(r.value)} (${key})`);
  return n;
}

/** _processes_from_section, limited to what names processes and places their stdout log. */
function processesFromSection(cfg: SupervisorConfig, section: string, groupName: string): SectionProcs {
  const errors: string[] = [];
  const programName = processOrGroupName(section.slice(section.indexOf(":") + 1));
  if (programName.name === null)
    return { priority: null, numprocs: null, numprocsStart: null, processes: [], errors: [programName.error ?? ""] };
  // supervisord mutates this one dict in the loop below: later lookups see process_num and ENV_*.
  const common = new Map<string, string | number>([
    ["here", cfg.here],
    ["program_name", programName.name],
    ["host_node_name", cfg.hostNodeName],
    ["group_name", groupName],
  ]);
  const get = sectionGetter(cfg, section, common);
  const priority = toInt(get("priority", section.startsWith("eventlistener:") ? -1 : 999), "priority", errors);
  const numprocs = toInt(get("numprocs", 1), "numprocs", errors);
  const numprocsStart = toInt(get("numprocs_start", 0), "numprocs_start", errors);
  const envGot = get("environment", "", false);
  const envStr = envGot.ok ? String(envGot.value) : "";
  const template = processNameTemplate(get("process_name", "%(program_name)s", false), numprocs, errors);
  const processes: ProcessInfo[] = [];
  if (numprocs === null || numprocsStart === null || template === null || errors.length > 0)
    return { priority, numprocs, numprocsStart, processes, errors };
  for (let num = numprocsStart; num < numprocs + numprocsStart; num++) {
    const p = oneProcess(cfg, section, common, { num, numprocs, envStr, template, groupName }, errors);
    if (p) processes.push(p);
  }
  processes.sort((a, b) => comparePy(a.name, b.name));
  return { priority, numprocs, numprocsStart, processes, errors };
}

function processNameTemplate(r: Got, numprocs: number | null, errors: string[]): string | null {
  const checked = processOrGroupName(r.ok ? String(r.value) : "");
  if (checked.name === null) return (errors.push(checked.error ?? ""), null);
  if ((numprocs ?? 1) > 1 && !checked.name.includes("%(process_num)")) {
    errors.push("%(process_num) must be present within process_name when numprocs > 1");
    return null;
  }
  return checked.name;
}

interface ProcessArgs {
  num: number;
  numprocs: number;
  envStr: string;
  template: string;
  groupName: string;
}

function oneProcess(
  cfg: SupervisorConfig,
  section: string,
  common: Map<string, string | number>,
  a: ProcessArgs,
  errors: string[],
): ProcessInfo | null {
  common.set("process_num", a.num);
  common.set("numprocs", a.numprocs);
  // supervisord updates the dict with the environment again for each process: an ENV_x that the
  // last process's environment= set goes back to the environment's own value.
  for (const k of [...common.keys()]) if (cfg.envExpansions.has(k)) common.delete(k);
  const env = expandValue(a.envStr, withEnv(cfg, common), "environment");
  if (!env.ok) return (errors.push(env.error), null);
  try {
    // [program:x] environment= adds ENV_* for this program's later expansions.
    for (const [k, v] of dictOfKeyValuePairs(env.value)) common.set(`ENV_${k}`, v);
  } catch (e) {
    return (errors.push((e as Error).message), null);
  }
  const stdout = stdoutLogfile(cfg, section, common, errors);
  const command = sectionGetter(cfg, section, common)("command", null);
  if (!command.ok) return (errors.push(command.error), null);
  if (command.value === null) return (errors.push(`program section ${section} does not specify a command`), null);
  const name = expandValue(a.template, withEnv(cfg, common), "process_name");
  if (!name.ok) return (errors.push(name.error), null);
  if (stdout === undefined) return null;
  return {
    group: a.groupName,
    name: name.value,
    namespec: a.groupName === name.value ? name.value : `${a.groupName}:${name.value}`,
    processNum: a.num,
    stdoutLogfile: stdout,
  };
}

/** Whether a directory exists, asked once per directory and config (every process of 1,000 workers shares one log dir). */
const dirsSeen = new WeakMap<SupervisorConfig, Map<string, boolean>>();
function dirExists(cfg: SupervisorConfig, dir: string): boolean {
  let seen = dirsSeen.get(cfg);
  if (!seen) dirsSeen.set(cfg, (seen = new Map()));
  let exists = seen.get(dir);
  if (exists === undefined) seen.set(dir, (exists = cfg.listDir(dir) !== null));
  return exists;
}

/** stdout_logfile: expanded TWICE (saneget, then expand() again), then datatypes.logfile_name. */
function stdoutLogfile(cfg: SupervisorConfig, section: string, common: Expansions, errors: string[]): LogTarget | null | undefined {
  const opt = getOption(cfg.ini, section, "stdout_logfile");
  if (!opt) return { kind: "auto" };
  const once = expandLazily(cfg, opt.value, common, `${section}.stdout_logfile`);
  const twice = once.ok ? expandLazily(cfg, once.value, common, "stdout_logfile") : once;
  if (!twice.ok) return (errors.push(twice.error), undefined);
  const lower = twice.value.toLowerCase();
  if (lower === "none" || lower === "off") return { kind: "none" };
  if (lower === "auto") return { kind: "auto" };
  // The deprecated "syslog" file name means: no file, stdout_syslog=true.
  if (lower === "syslog") return { kind: "syslog" };
  const path = expandUser(twice.value, cfg.home);
  const dir = pySplitPath(path)[0];
  if (dir && !dirExists(cfg, dir)) return (errors.push(`The directory named as part of the path ${twice.value} does not exist`), undefined);
  return /^\/dev\/(stdout|stderr|fd\/\d+)$|^\/proc\/self\/fd\/\d+$/.test(path) ? { kind: "stream", path } : { kind: "file", path };
}

/** os.path.expanduser for `~` and `~/…` (`~user` is left as is: no user database here). */
function expandUser(p: string, home: string): string {
  if (!p.startsWith("~")) return p;
  const slash = p.indexOf("/", 1);
  const i = slash < 0 ? p.length : slash;
  if (i !== 1) return p;
  return home.replace(/\/+$/, "") + p.slice(i) || "/";
}
