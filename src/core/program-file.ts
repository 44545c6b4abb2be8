// A worker's program file, both ways: spec -> the text vexo-sv writes (pure, byte-stable, so an
// identical add is "unchanged"), and a file's text -> its programs and, for managed ones, the spec.
import path from "node:path";
import ini from "ini";
import { dictOfKeyValuePairs, shlexSplit } from "./python/shlex.js";
import { DEFAULTS } from "./rules.js";
import type { WorkerSpec } from "./spec.js";
import { parseConfigText } from "./supervisord/configparser.js";

/** First line of every file vexo-sv writes; a file without it is never overwritten. */
export const MARKER = "; managed-by: vexo-sv";

const PROCESS_NAME = "%(program_name)s_%(process_num)02d";

/**
 * The mode of a program file: 0600 when it holds `environment=` (secrets such as DB_PASSWORD are
 * for root, who runs supervisord, and nobody else), else 0644 like the rest of conf.d.
 */
export function programFileMode(text: string): number {
  return /^environment\s*[=:]/mu.test(text) ? 0o600 : 0o644;
}

/** What results show of an environment value: keys stay, values (often secrets) never leave the 0600 file. */
export const HIDDEN = "(hidden)";

/** A spec as results show it: every environment value hidden. */
export function hideEnv<T extends { env: Record<string, string> }>(spec: T): T {
  return { ...spec, env: Object.fromEntries(Object.keys(spec.env).map((k) => [k, HIDDEN])) };
}

/** A program file's text as --dry-run and --json show it: the environment= line with its values hidden. */
export function hideEnvLine(text: string): string {
  return text.replace(
    /^environment=(.*)$/mu,
    (_m, v: string) =>
      `environment=${Object.keys(parseEnvironment(v))
        .map((k) => `${k}="${HIDDEN}"`)
        .join(",")}`,
  );
}

/** supervisord expands `%(...)s`; a literal percent sign must be doubled. */
export function escapePercent(v: string): string {
  return v.replaceAll("%", "%%");
}

/** One argument of `command=`, quoted when shlex would otherwise split or alter it. */
export function quoteArg(arg: string): string {
  return /^[A-Za-z0-9_./:=,%@+-]+$/u.test(arg) ? arg : `"${arg}"`;
}

/** The argv the worker runs, before INI escaping. */
export function workerArgv(spec: WorkerSpec): string[] {
  const argv = [
    spec.php,
    path.join(spec.path, "artisan"),
    "queue:work",
    spec.connection,
    `--queue=${spec.queue.join(",")}`,
    `--sleep=${spec.sleep}`,
    `--tries=${spec.tries}`,
    `--max-time=${spec.maxTime}`,
  ];
  if (spec.timeout !== undefined) argv.push(`--timeout=${spec.timeout}`);
  if (spec.memory !== undefined) argv.push(`--memory=${spec.memory}`);
  if (spec.backoff !== undefined) argv.push(`--backoff=${spec.backoff}`);
  if (spec.maxJobs !== undefined) argv.push(`--max-jobs=${spec.maxJobs}`);
  if (spec.forceMaintenance) argv.push("--force");
  return argv;
}

/** Log file of process `index` (0-based), as supervisord will name it. */
export function logPath(logDir: string, name: string, index: number): string {
  return path.join(logDir, `${name}_${String(index).padStart(2, "0")}.log`);
}

/** Which command owns a program file, named in its header: the one to change it with. */
export type FileOwner = "worker add" | "apply";

/**
 * Two program files that supervisord reads as the same program: equal but for comment lines (the
 * header that names the owner). supervisord compares parsed configs, so rewriting one as the
 * other restarts nothing.
 */
export function sameProgram(a: string, b: string): boolean {
  // Read as supervisord reads them (a bare \r ends a line there too, so text compared line by
  // line could hide a section behind a comment): the same sections, keys and values, nothing more.
  const read = (t: string) => {
    const ini = parseConfigText(t);
    if (ini.errors.length > 0 || ini.defaults.options.size > 0) return null;
    return JSON.stringify([...ini.sections.values()].map((s) => [s.name, [...s.options].map(([k, o]) => [k, o.value])]));
  };
  const ra = read(a);
  return ra !== null && ra === read(b);
}

/**
 * Renders the program file. Pure: the same spec and log directory always give the same
 * bytes, which is what makes `worker add` idempotent (an identical file is "unchanged").
 * Every value has passed workerSpecSchema, so none can end its line or open a comment.
 */
export function renderProgram(spec: WorkerSpec, logDir: string, owner: FileOwner = "worker add"): string {
  const lines = [
    MARKER,
    owner === "apply"
      ? "; Written by `vexo-sv apply`: change this worker in the workers file and apply it again (a `worker add --replace` here is undone by the next apply)."
      : `; Written by \`vexo-sv worker add\`; change it with \`vexo-sv worker add --name ${spec.name} ... --replace\`.`,
    `[program:${spec.name}]`,
    `command=${workerArgv(spec)
      .map((a) => escapePercent(quoteArg(a)))
      .join(" ")}`,
    `directory=${escapePercent(spec.path)}`,
    `process_name=${PROCESS_NAME}`,
    `numprocs=${spec.procs}`,
    "autostart=true",
    "autorestart=true",
    "stopasgroup=true",
    "killasgroup=true",
    "redirect_stderr=true",
    `stdout_logfile=${escapePercent(logDir.replace(/\/+$/u, ""))}/${PROCESS_NAME}.log`,
  ];
  if (spec.user !== null) lines.push(`user=${spec.user}`);
  lines.push(`stopwaitsecs=${spec.stopwaitsecs}`);
  // Written only when not supervisord's default: a file written before these existed stays the same program.
  if (spec.startsecs !== DEFAULTS.startsecs) lines.push(`startsecs=${spec.startsecs}`);
  if (spec.logMaxMb !== DEFAULTS.logMaxMb) lines.push(`stdout_logfile_maxbytes=${spec.logMaxMb}MB`);
  if (spec.logBackups !== DEFAULTS.logBackups) lines.push(`stdout_logfile_backups=${spec.logBackups}`);
  const env = Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (env.length > 0) {
    lines.push(`environment=${env.map(([k, v]) => `${k}="${escapePercent(v)}"`).join(",")}`);
  }
  return `${lines.join("\n")}\n`;
}

/** One `[program:x]` section of one file, as vexo-sv reads back the files it wrote. */
export interface ProgramSection {
  name: string;
  file: string;
  managed: boolean;
  numprocs: number;
  /** For managed workers: the spec read back from the file; null if it was edited beyond recognition. */
  spec: WorkerSpec | null;
  /** Why `spec` is null, for a managed file. */
  parseError?: string;
}

const HEADER_WITH_DOT = /^\s*\[[^\]\r\n]*\./mu;

/**
 * `ini.decode`, minus two of its habits that supervisord does not share: it nests sections
 * whose names hold a dot (`[program:app.queue]`), and it turns `true`/`false`/`null` into
 * non-strings. Dots in section headers are escaped first, and every scalar comes back a string.
 */
export function decodeIni(text: string): Record<string, Record<string, string>> {
  // Most files have no dotted header at all: skip the rewrite then (it is on `worker ls`'s path).
  const escaped = !HEADER_WITH_DOT.test(text)
    ? text
    : text.replace(/^(\s*\[)([^\]\r\n]*)(\]\s*)$/gmu, (_m, a: string, b: string, c: string) => a + b.replaceAll(".", "\\.") + c);
  const doc = ini.decode(escaped) as Record<string, unknown>;
  const out: Record<string, Record<string, string>> = {};
  for (const [section, body] of Object.entries(doc)) {
    if (typeof body !== "object" || body === null || Array.isArray(body)) continue;
    const sec: Record<string, string> = {};
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v !== "object" || v === null) sec[k] = String(v);
    }
    out[section] = sec;
  }
  return out;
}

/** True when the text was written by vexo-sv. */
export function isManaged(text: string): boolean {
  return text.split("\n", 1)[0]?.trim() === MARKER;
}

/** supervisord's `%%` -> `%` (other expansions are left as they are). */
export function unescapePercent(v: string): string {
  return v.replaceAll("%%", "%");
}

/**
 * `K="v",K2="v2"` as supervisord reads `environment=` (datatypes.dict_of_key_value_pairs, which
 * throws on a malformed list). Reading back vexo-sv's own files, only `%%` is expanded first:
 * vexo-sv writes no other expansion, so a `%(ENV_X)s` written by hand stays as written here.
 */
export function parseEnvironment(v: string): Record<string, string> {
  return Object.fromEntries(dictOfKeyValuePairs(unescapePercent(v)));
}

const NUMERIC_FLAGS: Record<string, keyof WorkerSpec> = {
  sleep: "sleep",
  tries: "tries",
  "max-time": "maxTime",
  timeout: "timeout",
  memory: "memory",
  backoff: "backoff",
  "max-jobs": "maxJobs",
};

/** Reads a worker spec back from a program section; throws with the reason when it can't. */
export function specFromSection(name: string, sec: Record<string, string>): WorkerSpec {
  const command = sec.command ?? "";
  const argv = shlexSplit(unescapePercent(command));
  const [php, artisan, verb, ...rest] = argv;
  if (!php || !artisan || verb !== "queue:work" || path.basename(artisan) !== "artisan") {
    throw new Error("command= is not `PHP PATH/artisan queue:work ...`");
  }
  const spec: Record<string, unknown> = {
    name,
    path: path.dirname(artisan),
    php,
    connection: "",
    queue: [] as string[],
    forceMaintenance: false,
  };
  for (const arg of rest) {
    const m = /^--([a-z-]+)(?:=(.*))?$/u.exec(arg);
    if (!m) {
      if (spec.connection !== "") throw new Error(`unexpected argument ${arg}`);
      spec.connection = arg;
      continue;
    }
    const [, flag, value] = m as unknown as [string, string, string | undefined];
    if (flag === "queue" && value !== undefined) spec.queue = value.split(",");
    else if (flag === "force" && value === undefined) spec.forceMaintenance = true;
    else if (flag in NUMERIC_FLAGS && value !== undefined && /^\d+$/u.test(value)) {
      spec[NUMERIC_FLAGS[flag] as string] = Number(value);
    } else throw new Error(`unexpected option ${arg}`);
  }
  const num = (k: string, dflt: number) => {
    const v = sec[k];
    return v !== undefined && /^\d+$/u.test(v) ? Number(v) : dflt;
  };
  spec.procs = num("numprocs", 1);
  spec.stopwaitsecs = num("stopwaitsecs", 10);
  spec.startsecs = num("startsecs", DEFAULTS.startsecs);
  const maxBytes = sec.stdout_logfile_maxbytes;
  const mb = maxBytes === undefined ? DEFAULTS.logMaxMb : /^\d+MB$/u.test(maxBytes) ? Number(maxBytes.slice(0, -2)) : null;
  if (mb === null) throw new Error(`stdout_logfile_maxbytes=${maxBytes} is not N MB as vexo-sv writes it`);
  spec.logMaxMb = mb;
  spec.logBackups = num("stdout_logfile_backups", DEFAULTS.logBackups);
  spec.user = sec.user ?? null;
  spec.env = sec.environment !== undefined ? parseEnvironment(sec.environment) : {};
  return spec as unknown as WorkerSpec;
}

/** Every `[program:x]` section of one file in the include directory. */
export function parseProgramFile(file: string, text: string): ProgramSection[] {
  const managed = isManaged(text);
  const doc = decodeIni(text);
  const entries: ProgramSection[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const m = /^program:(.+)$/u.exec(key.trim());
    if (!m) continue;
    const sec = value;
    const name = (m[1] as string).trim();
    const numprocs = sec.numprocs !== undefined && /^\d+$/u.test(sec.numprocs) ? Number(sec.numprocs) : 1;
    const entry: ProgramSection = {
      name,
      file,
      managed,
      numprocs,
      spec: null,
    };
    if (managed) {
      try {
        entry.spec = specFromSection(name, sec);
      } catch (e) {
        entry.parseError = (e as Error).message;
      }
    }
    entries.push(entry);
  }
  return entries;
}

/**
 * Whether a file that carries vexo-sv's marker is a program file vexo-sv would write: one program
 * whose spec, read back and rendered again, is what supervisord reads in it. The marker is one
 * line anyone who could write the file keeps, so it alone proves nothing.
 */
export function writtenByVexo(file: string, text: string): boolean {
  if (!isManaged(text)) return false;
  const programs = parseProgramFile(file, text);
  const own = programs[0];
  const log = /^stdout_logfile=(.*)\/%\(program_name\)s_%\(process_num\)02d\.log$/mu.exec(text);
  if (programs.length !== 1 || !own?.spec || !log) return false;
  return sameProgram(text, renderProgram(own.spec, unescapePercent(log[1] as string)));
}
