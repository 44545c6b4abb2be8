/**
 * Supervisor's config dialect, read exactly as supervisord 4.2.5 reads it on Python 3.11:
 * `configparser.RawConfigParser._read` configured by supervisor's `UnhosedConfigParser`
 * (inline comments on `;` and `#`, `strict=False`, delimiters `=` and `:`, empty lines kept
 * inside values, keys lowercased). Standalone on purpose: no import from the rest of the project.
 */

/** One option as stored: its final value and where it was (last) set. */
export interface IniOption {
  value: string;
  /** 1-based line of the option line (not of its continuation lines). */
  line: number;
  /** The source name given to the parser (a path for files). */
  file: string;
}

/** One section; `options` keeps Python dict order: first insertion decides the position. */
export interface IniSection {
  name: string;
  options: Map<string, IniOption>;
  /** The file this section first appeared in. */
  file?: string;
}

/** A line Python would report: a ParsingError entry, or the fatal MissingSectionHeaderError. */
export interface IniError {
  kind: "parsing" | "missing-section-header";
  file: string;
  line: number;
  /** The raw line, without its line ending. */
  text: string;
}

/** What a RawConfigParser holds after one or more reads. */
export interface ParsedIni {
  /** Sections in first-appearance order, DEFAULT excluded (as `parser.sections()`). */
  sections: Map<string, IniSection>;
  /** The `[DEFAULT]` section: fallbacks for every section's lookups. */
  defaults: IniSection;
  errors: IniError[];
}

/** configparser's DEFAULTSECT. */
export const DEFAULT_SECTION = "DEFAULT";

// Python's str.isspace() (== re's \s on str patterns): JS's \s minus U+FEFF plus U+001C..U+001F and U+0085.
const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** Python's `str.isspace()` for one UTF-16 unit (no whitespace lies outside the BMP). */
export function isPySpace(code: number): boolean {
  return code === 0x20 || (code < 0x20 ? code >= 0x09 && (code <= 0x0d || code >= 0x1c) : code >= 0x85 && PY_SPACE.has(code));
}

/** Python's `str.strip()` with no argument. */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isPySpace(s.charCodeAt(start))) start++;
  while (end > start && isPySpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Python's `str.rstrip()` with no argument. */
export function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && isPySpace(s.charCodeAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** Python's `str.split()` with no argument: runs of whitespace separate, no empty fields. */
export function pySplit(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && isPySpace(s.charCodeAt(i))) i++;
    const start = i;
    while (i < s.length && !isPySpace(s.charCodeAt(i))) i++;
    if (i > start) out.push(s.slice(start, i));
  }
  return out;
}

/**
 * Lines as Python's text mode yields them (universal newlines): `\r\n`, `\r` and `\n` end a line,
 * U+2028 / U+0085 do not. Line endings are dropped; a final newline does not open an empty line.
 */
export function splitUniversalLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 1 && lines[0] === "") return [];
  return lines;
}

/** An empty parser state, to read several files into (as supervisord does with includes). */
export function createIni(): ParsedIni {
  return { sections: new Map(), defaults: { name: DEFAULT_SECTION, options: new Map() }, errors: [] };
}

/** Parse one text (one file) into a fresh parser state. */
export function parseConfigText(text: string, file = "<string>"): ParsedIni {
  const ini = createIni();
  readIntoIni(ini, text, file);
  return ini;
}

const NO_COMMENT = Number.MAX_SAFE_INTEGER;

/**
 * Where `_read` cuts a line for inline comments. Not simply "the first prefix preceded by
 * whitespace": Python searches ';' and '#' in rounds (the k-th occurrence of each per round) and
 * stops at the first round that finds any qualifying one, so `a#b ;c #d` is cut at ` ;c`.
 */
function inlineCommentStart(line: string): number {
  let idx = { ";": -1, "#": -1 } as Record<string, number>;
  let live = [";", "#"];
  let start = NO_COMMENT;
  while (start === NO_COMMENT && live.length > 0) {
    const next: string[] = [];
    const nextIdx: Record<string, number> = {};
    for (const prefix of live) {
      const i = line.indexOf(prefix, (idx[prefix] ?? -1) + 1);
      if (i === -1) continue;
      next.push(prefix);
      nextIdx[prefix] = i;
      if (i === 0 || isPySpace(line.charCodeAt(i - 1))) start = Math.min(start, i);
    }
    live = next;
    idx = nextIdx;
  }
  return start;
}

/** Per-read state of `_read`: these locals do not survive from one file to the next. */
interface ReadState {
  cursect: IniSection | null;
  /** The value parts of options set in this read, joined at the end (`_join_multiline_values`). */
  pending: Map<IniSection, Map<string, string[]>>;
  optname: string | null;
  indentLevel: number;
}

/**
 * Read one text into `ini`, as `RawConfigParser._read` + `_join_multiline_values`. Parsing errors
 * are collected in `ini.errors` (Python raises them after the whole file); a missing section header
 * stops the read at that line, as Python raises right there. Returns false in that case.
 */
export function readIntoIni(ini: ParsedIni, text: string, file: string): boolean {
  const st: ReadState = { cursect: null, pending: new Map(), optname: null, indentLevel: 0 };
  const lines = splitUniversalLines(text);
  let ok = true;
  for (let n = 0; n < lines.length; n++) {
    if (!readLine(ini, st, lines[n] ?? "", n + 1, file)) {
      ok = false;
      break;
    }
  }
  // Python raises MissingSectionHeaderError before joining, but the parts already stored stay lists
  // only in a parser nobody uses again; joining here keeps the returned state usable.
  for (const [section, parts] of st.pending) {
    for (const [key, value] of parts) {
      const opt = section.options.get(key);
      if (opt) opt.value = pyRstrip(value.join("\n"));
    }
  }
  return ok;
}

function readLine(ini: ParsedIni, st: ReadState, line: string, lineno: number, file: string): boolean {
  let commentStart = inlineCommentStart(line);
  const stripped = pyStrip(line);
  if (stripped.startsWith("#") || stripped.startsWith(";")) commentStart = 0;
  const value = commentStart === NO_COMMENT ? stripped : pyStrip(line.slice(0, commentStart));
  if (!value) {
    // An empty line belongs to the value being read, unless the line held a comment.
    if (commentStart === NO_COMMENT && st.cursect && st.optname) partsOf(st, st.cursect, st.optname)?.push("");
    return true;
  }
  let indent = 0;
  while (indent < line.length && isPySpace(line.charCodeAt(indent))) indent++;
  if (st.cursect && st.optname && indent > st.indentLevel) {
    // Continuation: checked before the header test, so an indented `[x]` is part of a value.
    partsOf(st, st.cursect, st.optname)?.push(value);
    return true;
  }
  st.indentLevel = indent;
  const header = sectionHeader(value);
  if (header !== null) {
    st.cursect = openSection(ini, header, file);
    st.optname = null;
    return true;
  }
  if (!st.cursect) {
    ini.errors.push({ kind: "missing-section-header", file, line: lineno, text: line });
    return false;
  }
  readOption(ini, st, value, line, lineno, file);
  return true;
}

/** `SECTCRE.match`: `\[(.+)\]` anchored at the start only, greedy: `[a]b]c` names `a]b`, text after the last `]` is ignored. */
function sectionHeader(value: string): string | null {
  if (value.charCodeAt(0) !== 0x5b) return null;
  // `.` stops at \n only; values never hold one (lines are split on it).
  const close = value.lastIndexOf("]");
  return close >= 2 ? value.slice(1, close) : null;
}

function openSection(ini: ParsedIni, name: string, file?: string): IniSection {
  // strict=False: a repeated header re-opens the section (options merge, later values win).
  const existing = ini.sections.get(name);
  if (existing) return existing;
  if (name === DEFAULT_SECTION) return ini.defaults;
  const section: IniSection = file === undefined ? { name, options: new Map() } : { name, options: new Map(), file };
  ini.sections.set(name, section);
  return section;
}

/** `OPTCRE`: the option is what precedes the first `=` or `:`, both sides trimmed. */
function readOption(ini: ParsedIni, st: ReadState, value: string, line: string, lineno: number, file: string): void {
  const cursect = st.cursect as IniSection;
  let d = 0;
  while (d < value.length && value[d] !== "=" && value[d] !== ":") d++;
  if (d === value.length) {
    // Non-fatal: the line is recorded and skipped; optname keeps its old value, so deeper-indented
    // lines that follow still continue the previous option.
    ini.errors.push({ kind: "parsing", file, line: lineno, text: line });
    return;
  }
  const rawName = pyRstrip(value.slice(0, d));
  // An empty name is reported but the option is stored all the same (under "").
  if (!rawName) ini.errors.push({ kind: "parsing", file, line: lineno, text: line });
  const key = rawName.toLowerCase();
  const optval = pyStrip(value.slice(d + 1));
  cursect.options.set(key, { value: optval, line: lineno, file });
  let parts = st.pending.get(cursect);
  if (!parts) st.pending.set(cursect, (parts = new Map()));
  parts.set(key, [optval]);
  st.optname = key;
}

function partsOf(st: ReadState, section: IniSection, key: string): string[] | undefined {
  return st.pending.get(section)?.get(key);
}

/** `parser.get(section, key)` without interpolation: the section's value, else DEFAULT's. */
export function getOption(ini: ParsedIni, section: string, key: string): IniOption | undefined {
  const s = section === DEFAULT_SECTION ? ini.defaults : ini.sections.get(section);
  return s?.options.get(key) ?? ini.defaults.options.get(key);
}
