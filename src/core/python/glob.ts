// glob.glob (recursive=False, so `**` is just `*`), with fnmatch.translate's rules, and Python's
// sort order for str.
import { pyJoin, pySplitPath } from "./path.js";

/** One directory entry; `isDir` follows symlinks, as Python's `DirEntry.is_dir()`. */
export interface DirEntry {
  name: string;
  isDir: boolean;
}
/** Lists a directory; null when it cannot be listed (not a directory, no permission). */
export type ListDirFn = (path: string) => DirEntry[] | null;

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

/**
 * Whether `glob.glob(pattern)` would yield `file`, were it there: segment by segment, a segment
 * without magic compared as it is, `*` never crossing a `/`, a hidden name matched only by a
 * pattern that starts with a dot.
 */
export function globMatch(pattern: string, file: string): boolean {
  const segments = pattern.split("/");
  const names = file.split("/");
  if (segments.length !== names.length) return false;
  return segments.every((seg, i) => {
    const name = names[i] as string;
    if (!MAGIC.test(seg)) return seg === name;
    if (name.startsWith(".") && !seg.startsWith(".")) return false;
    try {
      return fnmatchRegExp(seg).test(name);
    } catch {
      return false; // a pattern Python's glob would raise on matches nothing
    }
  });
}
