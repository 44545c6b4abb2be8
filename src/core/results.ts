import * as z from "zod";
import { ERROR_CODES, type ErrorCode } from "../errors.js";
import { workerSpecSchema } from "./spec.js";
import { alertSettingsSchema } from "./alerts/settings.js";
import { EXIT_REASONS } from "./exits.js";
import { PROCESS_STATES } from "./states.js";

// The result of every command, as zod schemas: the core's result types are inferred from these,
// and docs/schemas/*.json (the JSON Schemas of `--json` output) are generated from them.

const pid = z.int().positive().nullable();
// The spec schema is zod/mini (see spec.ts); registered with its description on a copy of it.
const spec = workerSpecSchema.clone();
z.globalRegistry.add(spec, { description: "The worker spec, as written to (or read back from) its program file" });

export const processStatusSchema = z.object({
  group: z.string().meta({ description: "Group (program) name: the part before `:`, or the whole name" }),
  process: z.string().meta({ description: "Process name within the group" }),
  fullName: z.string().meta({ description: "What supervisorctl takes to address this one process (`g:g_00`, or `g`)" }),
  state: z.enum(PROCESS_STATES),
  pid,
  uptimeSeconds: z.int().nonnegative().nullable(),
  description: z.string().meta({ description: "supervisorctl's description column: uptime, stop date, or the spawn error" }),
});

export const workerStateSchema = z
  .enum(["running", "paused", "partial", "starting", "backoff", "stopping", "stopped", "fatal", "unknown"])
  .meta({
    description:
      "running: every process runs; paused: paused by vexo-sv; partial: some processes run, not all; starting: none runs yet and one is within its startsecs; backoff: none runs and supervisord is retrying one that exited too quickly (FATAL follows after startretries); stopping: none runs and one is being stopped; stopped: every process stopped or exited; fatal: a process gave up (FATAL); unknown: supervisord has not loaded it or did not answer",
  });

const ACTION_HELP =
  "created, replaced, removed: the program file was written or removed; unchanged: the file was already so and every process runs (or the worker is paused); started: the file was already so but processes were stopped, exited or FATAL, and were started (changed); waited: the file was already so and processes were starting or backing off: their start was awaited (not a change)";

export const planSchema = z.object({
  mkdirs: z.array(z.string()),
  writes: z.array(z.object({ path: z.string(), content: z.string() })),
  removes: z.array(z.string()),
  supervisorctl: z.array(z.array(z.string())).meta({ description: "Every supervisorctl call, as its argv" }),
});

export const addResultSchema = z.object({
  changed: z.boolean(),
  action: z.enum(["created", "replaced", "unchanged", "started", "waited"]).meta({ description: ACTION_HELP }),
  dryRun: z.boolean(),
  worker: spec,
  file: z.string(),
  config: z.string(),
  runsAs: z.string().meta({ description: "The user the processes run as: worker.user, else supervisord's own user (no user= line)" }),
  logs: z.array(z.string()),
  plan: planSchema,
  warnings: z.array(z.string()),
});

export const fieldChangeSchema = z.object({
  field: z.string().meta({ description: "a worker field (procs, queue, ...), or env.KEY (values never shown)" }),
  from: z.unknown(),
  to: z.unknown(),
});

export const applyWorkerSchema = z.object({
  name: z.string(),
  action: z.enum(["created", "replaced", "unchanged", "started", "waited", "removed"]).meta({ description: ACTION_HELP }),
  file: z.string(),
  changes: z.array(fieldChangeSchema).meta({ description: "for replaced: each field that differs, old and new" }),
});

export const applyResultSchema = z.object({
  changed: z.boolean(),
  dryRun: z.boolean(),
  config: z.string(),
  workers: z.array(applyWorkerSchema),
  plan: planSchema,
});

export const removedWorkerSchema = z.object({
  name: z.string(),
  file: z.string(),
  changed: z.boolean().meta({ description: "false: there was no such worker, and that was allowed (nothing to do)" }),
});

export const removeResultSchema = z.object({
  changed: z.boolean().meta({ description: "true when any worker was (with dryRun: would be) removed" }),
  dryRun: z.boolean(),
  config: z.string(),
  workers: z.array(removedWorkerSchema).meta({ description: "Each worker named, in the order given, once" }),
  plan: planSchema.meta({ description: "Every worker's removal in turn: its file, then stop and update of its group" }),
});

const exitCount = z.int().nonnegative();
export const exitsSchema = z
  .object({
    counts: z.object({ memory: exitCount, killed: exitCount, recycled: exitCount, crashed: exitCount, fatal: exitCount }).meta({
      description:
        "Exits within the window by reason, as Laravel's worker exits: memory (status 12, past --memory), killed (SIGKILL: a job past --timeout, or the OOM killer), recycled (status 0: --max-time, --max-jobs, queue:restart), crashed (any other status or signal), fatal (supervisord gave up: FATAL)",
    }),
    unexpected: exitCount.meta({ description: "Exits supervisord logged as not expected (FATAL not counted)" }),
    recent: z
      .array(
        z.object({
          time: z.string().meta({ description: "ISO 8601, UTC" }),
          reason: z.enum(EXIT_REASONS),
          status: z.int().nullable(),
          signal: z.string().nullable(),
          expected: z.boolean().nullable(),
        }),
      )
      .meta({ description: "The latest exits, newest first (at most 5)" }),
  })
  .nullable()
  .meta({ description: "Exits within exitsWindowSeconds, from supervisord's own log; null: not known (exitsNote says why)" });

export const workerProcessSchema = processStatusSchema.extend({
  startedAt: z
    .string()
    .nullable()
    .meta({ description: "When the process started (ISO 8601, UTC, from /proc); null: not running or not known" }),
  rssBytes: z.int().nonnegative().nullable().meta({ description: "Resident memory (VmRSS); null: not running or not known" }),
  cpuSeconds: z.number().nonnegative().nullable().meta({ description: "CPU time it used (user + system); null: not known" }),
  cwd: z.string().nullable().meta({ description: "The directory it runs in; null: not known (only root and its own user may see it)" }),
  stale: z.boolean().nullable().meta({
    description: "true: it runs in a directory its worker's path no longer resolves to (old code after a release switch); null: not known",
  }),
  exits: exitsSchema,
});

export const workerInfoSchema = z.object({
  name: z.string(),
  managed: z.boolean(),
  file: z.string(),
  state: workerStateSchema,
  loaded: z.boolean().nullable().meta({ description: "false: the file exists but supervisord has not loaded it; null: unknown" }),
  running: z.int().nonnegative().nullable().meta({ description: "Processes RUNNING; null: not known (supervisord did not answer)" }),
  total: z.int().nonnegative(),
  processes: z.array(workerProcessSchema),
  stale: z.boolean().nullable().meta({ description: "true: a process runs stale code (see processes[].stale); null: not known" }),
  exits: exitsSchema,
  spec: z.nullable(spec),
  logs: z.array(z.string()),
  parseError: z.string().optional(),
});

export const listResultSchema = z.object({
  config: z.string(),
  confDir: z.string().nullable().meta({ description: "null: the config includes no program directory" }),
  reachable: z.boolean(),
  workers: z.array(workerInfoSchema),
  exitsWindowSeconds: z.int().positive().meta({ description: "The window exits are counted over, in seconds" }),
  exitsNote: z.string().nullable().meta({ description: "Why exits are not known, or why the counts are a floor; null: they are complete" }),
  warnings: z.array(z.string()),
});

export const showResultSchema = z.object({
  config: z.string(),
  worker: workerInfoSchema,
  exitsWindowSeconds: z.int().positive().meta({ description: "The window exits are counted over, in seconds" }),
  exitsNote: z.string().nullable().meta({ description: "Why exits are not known, or why the counts are a floor; null: they are complete" }),
});

export const statusResultSchema = listResultSchema.extend({
  supervisord: z.object({ running: z.boolean(), pid, version: z.string().nullable() }),
  healthy: z.boolean(),
  problems: z.array(z.string()).meta({ description: "One line per unhealthy process of a managed worker" }),
  textfile: z.string().optional().meta({ description: "With --textfile: the metrics file written (DIR/vexo-sv.prom)" }),
});

export const workerOutcomeSchema = z.object({
  worker: z.string(),
  outcome: z.enum(["started", "stopped", "restarted", "paused", "resumed", "not-running", "not-paused", "failed", "not-stale"]).meta({
    description:
      "start: started; stop: stopped; restart: restarted; pause: paused, not-running (nothing to pause); resume: resumed, not-paused; any of them: failed (detail says why; the others were done, exit 1); restart with stale: restarted (it ran stale code), not-stale (left as it is), not-running (no process runs: nothing runs old code), paused (left paused: its next start runs the current release)",
  }),
  detail: z.string().optional(),
});

export const staleWorkerSchema = z.object({
  worker: z.string(),
  path: z.string().meta({ description: "Where the worker's path resolves now: the directory a process started now runs in" }),
  processes: z
    .array(z.object({ process: z.string(), pid: z.int().positive(), cwd: z.string() }))
    .meta({ description: "Its processes that ran stale code, each with the directory it ran in" }),
});

export const controlResultSchema = z.object({
  action: z.enum(["start", "stop", "restart", "pause", "resume"]),
  mode: z.enum(["plain", "graceful", "rolling"]),
  dryRun: z.boolean().meta({ description: "true: nothing was changed; supervisorctl and plan say what would be done" }),
  workers: z.array(z.string()),
  supervisorctl: z
    .array(z.array(z.string()))
    .meta({ description: "Every supervisorctl call that changed something, as its argv (with dryRun: that would be made)" }),
  processes: z.array(processStatusSchema).meta({ description: "The targets' processes afterwards (with dryRun: as they are)" }),
  outcomes: z.array(workerOutcomeSchema).optional().meta({
    description:
      "Not with dryRun: what happened to each worker, in the order of workers (a failure exits 1 with the same list in its details)",
  }),
  stale: z.array(staleWorkerSchema).optional().meta({
    description:
      "restart with stale only: the workers found running stale code, read once before acting (workers lists the same names); with dryRun, those that would be restarted",
  }),
  plan: planSchema
    .optional()
    .meta({ description: "dryRun only: the calls, and the pause records (state files) that would be written or removed" }),
});

export const processFailureSchema = z.object({
  process: z.string(),
  state: z.string(),
  error: z.string(),
  log: z.array(z.string()),
});

export const logLineSchema = z.object({ process: z.string(), line: z.string() });

export const logsResultSchema = z.object({
  files: z.array(z.object({ process: z.string(), path: z.string() })),
  lines: z.array(logLineSchema),
  skipped: z
    .array(z.object({ process: z.string(), reason: z.string() }))
    .optional()
    .meta({ description: "Processes that log to no file vexo-sv can read (/dev/stdout, NONE, syslog, an AUTO file not made yet)" }),
});

export const prefixInstallResultSchema = z.object({
  changed: z.boolean(),
  started: z.boolean(),
  created: z.array(z.string()),
  config: z.string(),
  confDir: z.string(),
  logDir: z.string(),
  pid,
  export: z.string(),
});

export const systemInstallResultSchema = z.object({
  changed: z.boolean(),
  actions: z.array(z.string()),
  version: z.string(),
  service: z.literal("running"),
  startedBy: z.enum(["already-running", "systemd", "init-script", "vexo-sv"]),
  config: z.string(),
  confDir: z.string().nullable(),
  pid,
});

export const shutdownResultSchema = z.object({ changed: z.boolean(), pid, config: z.string() });

export const completionResultSchema = z.object({ shell: z.enum(["bash", "zsh", "fish"]), script: z.string() });

const settings = alertSettingsSchema.clone();
z.globalRegistry.add(settings, {
  description:
    "What the alerts listener does (the settings file): exec is CMD's argument list; heal is null when healing is off; flap: more than `exits` unexpected exits in `minutes` is flapping; one alert per worker and kind per windowSeconds",
});

export const listenerStatusSchema = z
  .object({ state: z.enum(PROCESS_STATES), pid, description: z.string() })
  .nullable()
  .meta({ description: "The listener's process as supervisorctl reports it; null: supervisord has not loaded it" });

export const alertsResultSchema = z.object({
  changed: z.boolean(),
  action: z.enum(["created", "replaced", "unchanged", "started", "removed"]).meta({
    description:
      "created, replaced, removed: the listener's files were written or removed; unchanged: they were already so; started: they were already so, but the listener was not running and was started",
  }),
  dryRun: z.boolean(),
  config: z.string(),
  file: z.string().meta({ description: "The listener's program file" }),
  settingsFile: z.string().meta({ description: "The settings file (root's, 0600)" }),
  settings: z.nullable(settings).meta({ description: "The settings written; null after disable" }),
  log: z.string().meta({ description: "The listener's own log (what it did, each alert and heal)" }),
  listener: listenerStatusSchema,
  plan: planSchema,
  warnings: z.array(z.string()),
});

export const alertsStatusSchema = z.object({
  enabled: z.boolean().meta({ description: "The listener's program file is there (and is vexo-sv's)" }),
  config: z.string(),
  file: z.string(),
  settingsFile: z.string(),
  settings: z.nullable(settings),
  upToDate: z.boolean().nullable().meta({
    description: "The program file was written for these settings (false: one was changed by hand since); null: not enabled",
  }),
  listener: listenerStatusSchema,
  log: z.string(),
  recent: z.array(z.string()).meta({ description: "The last lines of the listener's log" }),
  warnings: z.array(z.string()),
});

export const alertsTestResultSchema = z.object({
  command: z.array(z.string()),
  exitCode: z.int().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  output: z.string().meta({ description: "The first 4 KiB of what it printed (stdout and stderr)" }),
  outputBytes: z.int().nonnegative(),
  ms: z.int().nonnegative(),
});

const ALERT_EVENTS = ["fatal", "flapping", "exited", "healing", "healed", "recovered", "test"] as const;

/** What the alert command (CMD) reads on stdin: one JSON document per alert, then a newline. */
export const alertDocumentSchema = z.object({
  version: z.literal(1),
  event: z.enum(ALERT_EVENTS).meta({
    description:
      "fatal: a process entered FATAL (supervisord gave up starting it); flapping: more unexpected exits than allowed within the flapping window; exited: an unexpected exit (--on-exit); healing: a heal attempt starts the FATAL process again (--heal); healed: it runs again after a heal; recovered: it runs again after an alert (--on-recovery); test: `alerts test`",
  }),
  time: z.string().meta({ description: "When it happened, ISO 8601, UTC" }),
  host: z.string(),
  worker: z.string().nullable().meta({ description: "The program (process group) as supervisord names it; null for a test" }),
  process: z.string().nullable().meta({ description: "The process as supervisorctl addresses it (`group:name`, or `name`)" }),
  managed: z.boolean().meta({ description: "A vexo-sv worker (false: another program, with --all-programs)" }),
  state: z
    .string()
    .nullable()
    .meta({ description: "Its state when the alert was sent, as supervisorctl said; null: not asked or not known" }),
  reason: z.string().meta({ description: "What happened, in one line (supervisord's spawn error for fatal)" }),
  summary: z.string().meta({ description: "One line for a person: host, worker, what happened" }),
  exit: z
    .object({ status: z.int().nullable(), signal: z.string().nullable(), expected: z.boolean().nullable(), reason: z.enum(EXIT_REASONS) })
    .nullable()
    .meta({ description: "Its latest exit in supervisord's log within the flapping window; null: none found, or the log cannot be read" }),
  exits: z
    .object({ count: z.int().nonnegative(), windowMinutes: z.int().positive() })
    .optional()
    .meta({ description: "flapping: unexpected exits counted within the window" }),
  heal: z
    .object({ attempt: z.int().positive(), nextDelaySeconds: z.int().nonnegative().nullable() })
    .optional()
    .meta({ description: "healing and healed: the attempt, and the delay before the next one should this one fail" }),
  suppressed: z
    .int()
    .nonnegative()
    .meta({ description: "Alerts of this kind for this worker held back by the window since the last one sent" }),
  log: z.object({
    file: z.string().nullable(),
    lines: z.array(z.string()).meta({ description: "The last lines of the process's log (each cut to 4 KiB)" }),
    note: z.string().optional().meta({ description: "Why there are no lines (no log file, or one that is not read safely)" }),
  }),
  config: z.string().meta({ description: "supervisord's main config" }),
});

export const errorDocumentSchema = z.object({
  ok: z.literal(false),
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).meta({ description: "See docs/exit-codes.md" }),
    message: z.string(),
    hint: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export type ProcessStatus = z.output<typeof processStatusSchema>;
export type WorkerState = z.output<typeof workerStateSchema>;
export type Plan = z.output<typeof planSchema>;
export type AddResult = z.output<typeof addResultSchema>;
export type RemoveResult = z.output<typeof removeResultSchema>;
export type FieldChange = z.output<typeof fieldChangeSchema>;
export type ApplyWorker = z.output<typeof applyWorkerSchema>;
export type ApplyResult = z.output<typeof applyResultSchema>;
export type WorkerInfo = z.output<typeof workerInfoSchema>;
export type WorkerProcess = z.output<typeof workerProcessSchema>;
export type Exits = z.output<typeof exitsSchema>;
export type ListResult = z.output<typeof listResultSchema>;
export type StatusResult = z.output<typeof statusResultSchema>;
export type ShowResult = z.output<typeof showResultSchema>;
export type ControlResult = z.output<typeof controlResultSchema>;
export type WorkerOutcome = z.output<typeof workerOutcomeSchema>;
export type StaleWorker = z.output<typeof staleWorkerSchema>;
export type ProcessFailure = z.output<typeof processFailureSchema>;
export type LogLine = z.output<typeof logLineSchema>;
export type LogsResult = z.output<typeof logsResultSchema>;
export type PrefixInstallResult = z.output<typeof prefixInstallResultSchema>;
export type SystemInstallResult = z.output<typeof systemInstallResultSchema>;
export type ShutdownResult = z.output<typeof shutdownResultSchema>;
export type AlertDocument = z.output<typeof alertDocumentSchema>;
export type AlertsResult = z.output<typeof alertsResultSchema>;
export type AlertsStatus = z.output<typeof alertsStatusSchema>;
export type AlertsTestResult = z.output<typeof alertsTestResultSchema>;

/** The `--json` document of each command on success: `{"ok": true}` plus its result. */
export const SUCCESS_SCHEMAS: Record<string, z.ZodObject> = {
  "worker add": addResultSchema,
  "worker rm": removeResultSchema,
  apply: applyResultSchema,
  "worker ls": listResultSchema,
  "worker show": showResultSchema,
  "worker start": controlResultSchema,
  "worker stop": controlResultSchema,
  "worker restart": controlResultSchema,
  "worker pause": controlResultSchema,
  "worker resume": controlResultSchema,
  status: statusResultSchema,
  logs: logsResultSchema,
  "logs --follow": logLineSchema,
  install: systemInstallResultSchema,
  "install --prefix": prefixInstallResultSchema,
  shutdown: shutdownResultSchema,
  completion: completionResultSchema,
  "alerts enable": alertsResultSchema,
  "alerts disable": alertsResultSchema,
  "alerts status": alertsStatusSchema,
  "alerts test": alertsTestResultSchema,
};

/** What `--json` prints for a command: its success document or the error document. */
export function documentSchema(command: string): z.ZodType {
  const result = SUCCESS_SCHEMAS[command];
  if (!result) throw new Error(`no schema for ${command}`);
  if (command === "logs --follow") return result; // NDJSON: one line object per line, no envelope
  const success = result.extend({ ok: z.literal(true), warnings: z.array(z.string()).optional() });
  return z.union([success, errorDocumentSchema]);
}
