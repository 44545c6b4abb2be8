/**
 * Supervisor's config dialect, read exactly as supervisord 4.2.5 reads it on Python 3.11:
 * `configparser.RawConfigParser._read` configured by supervisor's `UnhosedConfigParser`
 * (inline comments on `;` and `#`, `strict=False`, delimiters `=` and `:`, empty lines kept
 * inside values, keys lowercased). Imports only Python's str helpers.
 */
import { isPySpace, pyRstrip, pyStrip, splitUniversalLines } from "../python/str.js";

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
