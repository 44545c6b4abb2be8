// What a value may hold: the defaults of a worker and the character rules for everything that
// can reach a Supervisor config line. Plain constants and predicates (no zod), so that every
// command, however light, can check the paths it is given and show the defaults in --help.

import { isPySpace } from "./python/str.js";

/** Where supervisord's main config is when none is given: Debian's, then RHEL's (EPEL). */
export const DEFAULT_CONFIGS = ["/etc/supervisor/supervisord.conf", "/etc/supervisord.conf"];

/** Defaults of a worker spec, shown in --help and applied by the schema (spec.ts). */
export const DEFAULTS = {
  connection: "database",
  queue: "default",
  procs: 1,
  php: "php",
  user: "www-data",
  sleep: 3,
  tries: 3,
  maxTime: 3600,
  stopwaitsecs: 3600,
  // supervisord's own defaults, so that a worker written before these flags existed reads back the
  // same and no upgrade restarts it; set them per worker (docs: startsecs decides when a start
  // counts as healthy; 1 s is short for an app that boots under load).
  startsecs: 1,
  logMaxMb: 50,
  logBackups: 10,
} as const;

/** A worker (program) name: what Supervisor allows, minus anything a shell or path would read specially. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/u;

/** The event listener that sends alerts and heals workers: vexo-sv's own program, never a worker. */
export const ALERTS_LISTENER = "vexo-sv-alerts";

/**
 * Names no worker may take, with why: words supervisorctl reads as something other than a group
 * name (`update all` is a bare `update`), and vexo-sv's own alerts listener.
 */
const RESERVED: Readonly<Record<string, string>> = {
  all: "supervisorctl reads it as every program",
  [ALERTS_LISTENER]: "it is vexo-sv's alerts listener, not a worker",
};
export const RESERVED_NAMES: readonly string[] = Object.keys(RESERVED);

/** Why NAME cannot be a worker name, or undefined when it can. */
export function nameProblem(name: string): string | undefined {
  if (Object.hasOwn(RESERVED, name)) return `"${name}" is reserved: ${RESERVED[name]}`;
  if (NAME_RE.test(name)) return undefined;
  return `${JSON.stringify(name.slice(0, 80))} is not a worker name: 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`;
}

/**
 * Characters no value may hold. Control characters (newline, CR, NUL, ...) would end the
 * INI line and inject keys or sections; `;` and `#` start inline comments for supervisord
 * and are cut by the `ini` reader even without a space; `"` and `\` change how supervisord's
 * shlex splits `command=` and `environment=`. Everything else is written so that supervisord
 * reads back exactly what was typed (`%` is doubled by the renderer).
 */
const FORBIDDEN = /[\u0000-\u001f\u007f\u0085\u2028\u2029"\\;#]/u;

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (ch === "\n") return "a newline";
  if (ch === "\r") return "a carriage return";
  if (code === 0) return "a NUL byte";
  if (code < 0x20 || code === 0x7f || code === 0x85) return `control character U+${code.toString(16).padStart(4, "0")}`;
  if (code === 0x2028 || code === 0x2029) return `line separator U+${code.toString(16)}`;
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
  // Neither JavaScript's whitespace (trim) nor Python's (str.isspace, which configparser strips
  // from both ends of every value: U+0085 and U+001C-U+001F too, U+FEFF not).
  const pyEnds = isPySpace(value.charCodeAt(0)) || isPySpace(value.charCodeAt(value.length - 1));
  if (value.trim() !== value || pyEnds) return "must not start or end with whitespace";
  return undefined;
}
