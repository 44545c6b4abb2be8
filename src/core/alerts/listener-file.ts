import path from "node:path";
import { escapePercent, isManaged, logPath, MARKER, quoteArg, sameProgram, unescapePercent } from "../program-file.js";
import { shlexSplit } from "../python/shlex.js";
import { ALERTS_LISTENER } from "../rules.js";
import { getOption, parseConfigText } from "../supervisord/configparser.js";

// The alerts listener's program file: an `[eventlistener:vexo-sv-alerts]` whose command runs
// vexo-sv itself in listener mode. Written and recognised here; like a worker's file it carries
// vexo-sv's marker, and one that carries it is taken as vexo-sv's only when it is exactly what
// vexo-sv would write (the marker is a line anyone who could write the file keeps).

/**
 * The events the listener subscribes to: a process exiting, a process entering FATAL, and a
 * minute's tick (windows, and the sweep that finds FATALs missed and processes up again). Not
 * RUNNING: supervisord hands events to a listener one at a time, and in a crash loop RUNNING
 * events would double what it must hand over (docs/performance.md: with them, a 20-process crash
 * loop overflowed the buffer; without, none).
 */
export const LISTENER_EVENTS = ["PROCESS_STATE_EXITED", "PROCESS_STATE_FATAL", "TICK_60"] as const;

/** What the listener's program file is made of. */
export interface ListenerFileInput {
  /** How to run vexo-sv: the node binary and the script, absolute paths. */
  self: string[];
  /** supervisord's main config, which the listener reads as every command does. */
  config: string;
  /** The program directory, given explicitly: where the settings and the pause records are, whatever the caller's defaults. */
  confDir: string;
  /** The settings' revision (settings.ts): new settings, a new file, a restarted listener. */
  revision: string;
  logDir: string;
}

/** The listener's own log: what it writes on stderr (stdout is supervisord's protocol channel). */
export function listenerLog(logDir: string): string {
  return logPath(logDir, ALERTS_LISTENER, 0);
}

/** The listener's argv. */
export function listenerArgv(i: Omit<ListenerFileInput, "logDir">): string[] {
  return [...i.self, "alerts", "listen", "--config", i.config, "--conf-dir", i.confDir, "--revision", i.revision];
}

/**
 * The program file. Pure: the same input is the same bytes. Every path in it was checked by the
 * caller (no newline, quote, backslash, `;` or `#`); `%` is doubled.
 */
export function renderListener(i: ListenerFileInput): string {
  return `${[
    MARKER,
    "; Written by `vexo-sv alerts enable`: change it by running that again, remove it with `vexo-sv alerts disable`.",
    `[eventlistener:${ALERTS_LISTENER}]`,
    `command=${listenerArgv(i)
      .map((a) => escapePercent(quoteArg(a)))
      .join(" ")}`,
    `events=${LISTENER_EVENTS.join(",")}`,
    // Room for a burst (a hundred workers failing at boot): each event is answered at once, but
    // supervisord hands them over one per round trip. Overflow drops the oldest; the sweep finds FATALs anyway.
    "buffer_size=1000",
    "directory=/",
    "autostart=true",
    "autorestart=true",
    // stdout is the protocol: never logged. What the listener says goes to stderr, and its own log.
    "stdout_logfile=NONE",
    `stderr_logfile=${escapePercent(listenerLog(i.logDir))}`,
  ].join("\n")}\n`;
}

/** The input a listener file was rendered from, read back; null when it is not such a file. */
export function readListenerFile(text: string): ListenerFileInput | null {
  if (!isManaged(text)) return null;
  const ini = parseConfigText(text);
  const section = `eventlistener:${ALERTS_LISTENER}`;
  if (ini.errors.length > 0 || ini.sections.size !== 1 || !ini.sections.has(section)) return null;
  const command = getOption(ini, section, "command")?.value;
  const log = getOption(ini, section, "stderr_logfile")?.value;
  if (command === undefined || log === undefined) return null;
  let argv: string[];
  try {
    argv = shlexSplit(unescapePercent(command));
  } catch {
    return null;
  }
  const at = argv.indexOf("alerts");
  const [, verb, c, config, d, confDir, r, revision, ...rest] = argv.slice(at);
  const flags = verb === "listen" && c === "--config" && d === "--conf-dir" && r === "--revision";
  if (at < 1 || !flags || !config || !confDir || !revision || rest.length > 0) return null;
  return { self: argv.slice(0, at), config, confDir, revision, logDir: path.dirname(unescapePercent(log)) };
}

/**
 * Whether a text is the listener file vexo-sv writes: read back and rendered again, supervisord
 * reads the same. With `self` (how this vexo-sv runs), also that it runs this vexo-sv: the shape
 * alone holds for `/bin/sh -c "..." alerts listen ...`, which supervisord runs as root.
 */
export function listenerWrittenByVexo(text: string, self?: readonly string[]): boolean {
  const input = readListenerFile(text);
  if (input === null || !sameProgram(text, renderListener(input))) return false;
  return self === undefined || (input.self.length === self.length && input.self.every((a, i) => a === self[i]));
}
