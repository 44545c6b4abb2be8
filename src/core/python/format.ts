// Python's `s % mapping`, which supervisor's expand() applies (options.py: expand), `repr()` for
// its messages, and `int(str)`.
import { comparePy, pyStrip } from "./str.js";

/** Names a `%(name)s` can expand: a Map, or a view of two (see withEnv). */
export interface Expansions {
  get(key: string): string | number | undefined;
  keys(): Iterable<string>;
}

/** The outcome of an expansion: supervisor raises ValueError where this says `ok: false`. */
export type Expanded = { ok: true; value: string } | { ok: false; error: string };

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
