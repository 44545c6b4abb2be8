// Python's str methods that supervisord's reading relies on, where JS's differ: what counts as
// whitespace (str.isspace), strip, split with no argument, and text mode's universal newlines.

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
