// The character rules for every value that can reach a Supervisor config line. Kept free of
// zod so that every command, however light, can check paths it was given.

/**
 * Characters no value may hold. Control characters (newline, CR, NUL, ...) would end the
 * INI line and inject keys or sections; `;` and `#` start inline comments for supervisord
 * and are cut by the `ini` reader even without a space; `"` and `\` change how supervisord's
 * shlex splits `command=` and `environment=`. Everything else is written so that supervisord
 * reads back exactly what was typed (`%` is doubled by the renderer).
 */
const FORBIDDEN = /[\u0000-\u001f\u007f"\\;#]/u;

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (ch === "\n") return "a newline";
  if (ch === "\r") return "a carriage return";
  if (code === 0) return "a NUL byte";
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, "0")}`;
  return `"${ch}"`;
}

/** Why a free-text value is unsafe, or undefined if it is fine. */
export function unsafeReason(value: string, opts: { spaces?: boolean; max?: number } = {}): string | undefined {
  const max = opts.max ?? 1024;
  if (value.length === 0) return "must not be empty";
  if (value.length > max) return `is ${value.length} characters long; at most ${max} are allowed`;
  const bad = FORBIDDEN.exec(value);
  if (bad) {
    return `must not contain ${describeChar(bad[0])} (newlines, control characters, ; # " and \\ are not allowed in Supervisor config values)`;
  }
  if (!opts.spaces && /\s/u.test(value)) return "must not contain whitespace";
  if (value.trim() !== value) return "must not start or end with whitespace";
  return undefined;
}
