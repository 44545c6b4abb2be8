/**
 * supervisord's own log (`[supervisord] logfile=`) as supervisord 4.2.5 writes it: where it goes
 * and at which level (options.py: server_configs_from_parser, make_logger), each record's
 * `%(asctime)s %(levelname)s %(message)s` (loggers.py), and the lines process.py writes when a
 * process is spawned, starts, exits, is stopped or gives up.
 */
import { expandValue } from "../python/format.js";
import { getOption } from "./configparser.js";
import { configExpansions } from "./expansions.js";
import type { SupervisorConfig } from "./read-config.js";

/** loglevel= names and their numbers (loggers.py: LevelsByDescription). */
export const LOG_LEVELS = { critical: 50, error: 40, warn: 30, info: 20, debug: 10, trace: 5, blather: 3 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

/** What the merged configuration says of the main log; -l/-e on the command line win over it (commandLineLogSettings). */
export interface MainLogSettings {
  /** logfile= expanded (default "supervisord.log"); the exact text "syslog" means syslog, no file. */
  logfile: string;
  /** loglevel= (default info); null for a name supervisord refuses (it would not start). */
  loglevel: LogLevel | null;
}

/** `[supervisord] logfile=` and `loglevel=` from the merged configuration, expanded as supervisord's `get` does. */
export function mainLogSettings(cfg: SupervisorConfig): MainLogSettings {
  const expansions = configExpansions(cfg.envExpansions, cfg.here, cfg.hostNodeName);
  const value = (key: string, fallback: string): string => {
    const raw = getOption(cfg.ini, "supervisord", key)?.value ?? fallback;
    const r = expandValue(raw, expansions, `supervisord.${key}`);
    return r.ok ? r.value : raw;
  };
  const level = value("loglevel", "info").toLowerCase();
  return { logfile: value("logfile", "supervisord.log"), loglevel: Object.hasOwn(LOG_LEVELS, level) ? (level as LogLevel) : null };
}

// supervisord's own options (options.py: ServerOptions and Options), read as Python's getopt reads
// them: short ones clustered (`-nedebug`), long ones by any unambiguous prefix (`--logl=debug`).
const SHORT_WITH_VALUE = new Set("cumdlyzejiqa");
const SHORT_FLAGS = new Set("hvnkts");
const LONG = [
  "help",
  "configuration=",
  "version",
  "nodaemon",
  "user=",
  "umask=",
  "directory=",
  "logfile=",
  "logfile_maxbytes=",
  "logfile_backups=",
  "loglevel=",
  "pidfile=",
  "identifier=",
  "childlogdir=",
  "minfds=",
  "minprocs=",
  "nocleanup",
  "strip_ansi",
  "profile_options=",
  "silent",
];

/** `-l`/`--logfile` and `-e`/`--loglevel` as given to supervisord (the last of each wins); null when its arguments cannot be read. */
export function commandLineLogSettings(args: readonly string[]): { logfile?: string; loglevel?: string } | null {
  const out: { logfile?: string; loglevel?: string } = {};
  const set = (opt: string, value: string) => {
    if (opt === "l" || opt === "logfile") out.logfile = value;
    if (opt === "e" || opt === "loglevel") out.loglevel = value;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") break;
    if (!a.startsWith("-") || a === "-") break; // getopt stops at the first operand
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const given = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const exact = LONG.find((o) => o === given || o === `${given}=`);
      const matches = exact ? [exact] : LONG.filter((o) => o.startsWith(given));
      if (matches.length !== 1) return null; // supervisord refuses it: it would not run
      const opt = matches[0] as string;
      if (!opt.endsWith("=")) continue;
      const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) return null;
      set(opt.slice(0, -1), value);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string;
      if (SHORT_FLAGS.has(c)) continue;
      if (!SHORT_WITH_VALUE.has(c)) return null;
      const value = j + 1 < a.length ? a.slice(j + 1) : args[++i];
      if (value === undefined) return null;
      set(c, value);
      break;
    }
  }
  return out;
}

/** supervisord's own arguments in a /proc cmdline (after the interpreter and the script); null when it cannot be told where they start. */
export function supervisordArgs(cmdline: readonly string[]): string[] | null {
  const at = cmdline.findIndex((a, i) => i < 4 && (/(^|\/)supervisord$/u.test(a) || a === "supervisor.supervisord"));
  return at < 0 ? null : cmdline.slice(at + 1);
}

/** A time as supervisord writes it: its local wall clock, with no zone. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

/** Turns a wall-clock time into ms since the epoch: the zone is the caller's choice. */
export type LocalTimeFn = (w: WallClock) => number;

/** The machine's local time (where supervisord runs with the same TZ as we do). */
export const machineLocalTime: LocalTimeFn = (w) => new Date(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.ms).getTime();

/** What supervisord logs about one process (or, for spawnerr, about a spawn it does not name). */
export type MainLogEvent =
  | { kind: "exited"; time: number; name: string; status: number | null; signal: string | null; expected: boolean }
  | { kind: "stopped"; time: number; name: string; status: number | null; signal: string | null }
  | { kind: "gave_up"; time: number; name: string }
  | { kind: "spawned"; time: number; name: string; pid: number }
  | { kind: "success"; time: number; name: string }
  | { kind: "spawnerr"; time: number; message: string };

// asctime is "%Y-%m-%d %H:%M:%S" + ",%03d" (milliseconds); levelname is one of LevelsByName's.
const RECORD = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3}) (?:CRIT|ERRO|WARN|INFO|DEBG|TRAC|BLAT) /u;

/** A record's time and message, or null for a line that does not start a record (a continuation, or a cut line). */
function record(line: string, localTime: LocalTimeFn): { time: number; message: string } | null {
  const m = RECORD.exec(line);
  if (!m) return null;
  const [year, month, day, hour, minute, second, ms] = m.slice(1, 8).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { time: localTime({ year, month, day, hour, minute, second, ms }), message: line.slice(m[0].length) };
}

/** When a record was logged (ms since the epoch), or null for a line that does not start a record. */
export function recordTime(line: string, localTime: LocalTimeFn = machineLocalTime): number | null {
  return record(line, localTime)?.time ?? null;
}

// Process names never hold a space (datatypes.process_or_group_name), so NAME ends at the first one.
const EXITED = /^exited: ([^ ]+) \((.*); (expected|not expected)\)$/u;
const STOPPED = /^stopped: ([^ ]+) \((.*)\)$/u;
const GAVE_UP = /^gave up: ([^ ]+) entered FATAL state, too many start retries too quickly$/u;
const SPAWNED = /^spawned: '([^ ]+)' with pid (\d+)$/u;
const SUCCESS = /^success: ([^ ]+) entered RUNNING state, /u;
const SPAWNERR = /^spawnerr: (.*)$/u;

/** options.decode_wait_status: "exit status N", "terminated by SIGX[ (core dumped)]", or an unknown cause (both null). */
function waitStatus(text: string): { status: number | null; signal: string | null } {
  const exit = /^exit status (\d+)$/u.exec(text);
  if (exit) return { status: Number(exit[1]), signal: null };
  const sig = /^terminated by (SIG[A-Z0-9]+|signal \d+)(?: \(core dumped\))?$/u.exec(text);
  return { status: null, signal: sig ? (sig[1] as string) : null };
}

/** One line of supervisord's log as an event, or null when it is no record of the kinds above. */
export function parseMainLogLine(line: string, localTime: LocalTimeFn = machineLocalTime): MainLogEvent | null {
  const rec = record(line, localTime);
  if (!rec) return null;
  const { time, message: msg } = rec;
  let m: RegExpExecArray | null;
  if ((m = EXITED.exec(msg)))
    return { kind: "exited", time, name: m[1] as string, ...waitStatus(m[2] as string), expected: m[3] === "expected" };
  if ((m = STOPPED.exec(msg))) return { kind: "stopped", time, name: m[1] as string, ...waitStatus(m[2] as string) };
  if ((m = GAVE_UP.exec(msg))) return { kind: "gave_up", time, name: m[1] as string };
  if ((m = SPAWNED.exec(msg))) return { kind: "spawned", time, name: m[1] as string, pid: Number(m[2]) };
  if ((m = SUCCESS.exec(msg))) return { kind: "success", time, name: m[1] as string };
  if ((m = SPAWNERR.exec(msg))) return { kind: "spawnerr", time, message: m[1] as string };
  return null;
}
