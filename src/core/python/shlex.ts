// Python's shlex, twice on purpose: supervisord splits `command=` with POSIX shlex.split
// (options.py: ProcessConfig.get_execv_args), and reads `environment=` with a NON-posix
// shlex.shlex (datatypes.dict_of_key_value_pairs), where quotes stay in tokens, a backslash is a
// plain character and '#' starts a comment. The two share only their whitespace.

/** shlex's whitespace: space, tab, CR, LF (not Python's str.isspace()). */
const SHLEX_SPACE = " \t\r\n";

/** POSIX shlex.split, as supervisord applies it to `command=`. Throws on an unclosed quote. */
export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote) {
      if (c === quote) quote = null;
      else if (quote === '"' && c === "\\" && (s[i + 1] === '"' || s[i + 1] === "\\")) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (SHLEX_SPACE.includes(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error("unclosed quotation");
  if (inWord) out.push(cur);
  return out;
}

const SHLEX_WORD = /^[A-Za-z0-9_/.+\-():]$/;

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
