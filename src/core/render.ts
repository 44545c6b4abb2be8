import path from "node:path";
import type { WorkerSpec } from "./spec.js";

/** First line of every file vexo-sv writes; a file without it is never overwritten. */
export const MARKER = "; managed-by: vexo-sv";

const PROCESS_NAME = "%(program_name)s_%(process_num)02d";

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

/**
 * Renders the program file. Pure: the same spec and log directory always give the same
 * bytes, which is what makes `worker add` idempotent (an identical file is "unchanged").
 * Every value has passed workerSpecSchema, so none can end its line or open a comment.
 */
export function renderProgram(spec: WorkerSpec, logDir: string): string {
  const lines = [
    MARKER,
    `; Written by \`vexo-sv worker add\`; change it with \`vexo-sv worker add --name ${spec.name} ... --replace\`.`,
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
  const env = Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (env.length > 0) {
    lines.push(`environment=${env.map(([k, v]) => `${k}="${escapePercent(v)}"`).join(",")}`);
  }
  return `${lines.join("\n")}\n`;
}
