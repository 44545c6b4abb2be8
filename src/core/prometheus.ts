/**
 * Metrics for Prometheus in the text exposition format 0.0.4 (what node_exporter's textfile
 * collector parses; not OpenMetrics): a pure renderer of metric families, the series vexo-sv
 * reports as a function of a plain model, and the atomic write of DIR/vexo-sv.prom.
 */
import path from "node:path";
import fs from "node:fs";
import { type ErrorCode, invalid, VexoError } from "../errors.js";
import { writeAtomic } from "./fsutil.js";
import { PROCESS_STATES, type ProcessState, UP } from "./states.js";
import type { StatusResult } from "./results.js";
import { shownPath, untrustedAt } from "./trust.js";
import { NEVER_CHOWN, shellWord } from "./worker-trust.js";

// ---------------------------------------------------------------------------------------------
// The exposition format

/** The two metric types vexo-sv writes. */
export type MetricType = "gauge" | "counter";

/** One series: a value for one set of label values (every label of its family, none other). */
export interface Sample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** A metric family: one name, HELP and TYPE, the names of its labels, and its samples. */
export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
  samples: readonly Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/u;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/u;

const bug = (message: string) => new VexoError("internal", `metrics: ${message}`);

/** A label value as the format quotes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/gu, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** HELP text as the format takes it: backslash and newline escaped (quotes are plain there). */
function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/gu, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** A value as Go's strconv.ParseFloat reads it (node_exporter's parser). */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return Object.is(v, -0) ? "0" : String(v);
}

const compare = (a: readonly string[], b: readonly string[]) => {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
};

/** A family's sample lines, sorted by label values; throws on a duplicate series or a wrong label set. */
function sampleLines(f: MetricFamily): string[] {
  const rows = f.samples.map((s) => {
    const keys = Object.keys(s.labels);
    if (keys.length !== f.labels.length || !f.labels.every((l) => Object.hasOwn(s.labels, l))) {
      throw bug(`a sample of ${f.name} has labels {${keys.join(",")}}, not {${f.labels.join(",")}}`);
    }
    return { values: f.labels.map((l) => s.labels[l] as string), value: s.value };
  });
  rows.sort((a, b) => compare(a.values, b.values));
  return rows.map((r, i) => {
    if (i > 0 && compare((rows[i - 1] as typeof r).values, r.values) === 0)
      throw bug(`duplicate series of ${f.name}: ${r.values.join(",")}`);
    const pairs = f.labels.map((l, j) => `${l}="${escapeLabelValue(r.values[j] as string)}"`);
    return `${f.name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${formatValue(r.value)}`;
  });
}

/**
 * The text exposition format (0.0.4) of `families`: each family's # HELP and # TYPE, then all its
 * samples together, families sorted by name, samples by label values, no timestamps (the textfile
 * collector rejects them). A family without samples is left out. Throws (internal) on an invalid
 * metric or label name, a family given twice, a sample with another label set, or a duplicate series.
 */
export function renderExposition(families: readonly MetricFamily[]): string {
  const sorted = [...families].sort((a, b) => compare([a.name], [b.name]));
  const out: string[] = [];
  sorted.forEach((f, i) => {
    if (!METRIC_NAME.test(f.name)) throw bug(`invalid metric name ${JSON.stringify(f.name)}`);
    const bad = f.labels.find((l) => !LABEL_NAME.test(l) || l.startsWith("__"));
    if (bad !== undefined) throw bug(`invalid label name ${JSON.stringify(bad)} in ${f.name}`);
    if (i > 0 && sorted[i - 1]?.name === f.name) throw bug(`the family ${f.name} is given twice`);
    if (f.samples.length === 0) return;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`, ...sampleLines(f));
  });
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}

// ---------------------------------------------------------------------------------------------
// vexo-sv's series

/** One process of a worker, as one collection saw it. */
export interface ProcessMetrics {
  /** supervisord's name of the process within its group (`app_00`; the group's name for one process). */
  name: string;
  state: ProcessState;
  /** From /proc; null when not known (not running, gone meanwhile, hidden): the series is left out, never 0. */
  startTime: number | null;
  rssBytes: number | null;
  cpuSeconds: number | null;
}

/** One worker (a program group), as one collection saw it; null is "not known": its series is left out. */
export interface WorkerMetrics {
  name: string;
  /** How many processes its spec asks for (numprocs). */
  desired: number;
  /** How many are up (states.ts UP); null when supervisord's answer is not known. */
  running: number | null;
  paused: boolean | null;
  stale: boolean | null;
  /** Exits within the window by reason (the exit classifier's reasons; give each, 0 included); null when not read. */
  exits: Readonly<Record<string, number>> | null;
  processes: readonly ProcessMetrics[];
}

/** What one collection found: the input of metricsFamilies. */
export interface MetricsModel {
  /** When the collection ran, as a Unix time in seconds. */
  collectedAt: number;
  /** Why the collection failed (an error code), or null when it read everything it reports. */
  failure: ErrorCode | null;
  /** Whether supervisord answered; null when not known (permission denied is not "down"). */
  supervisordUp: boolean | null;
  /** The window exits are counted over, in seconds; null when no exits were read. */
  exitsWindowSeconds: number | null;
  workers: readonly WorkerMetrics[];
}

/** The model of a collection that failed with `code`: nothing but that, and supervisord down when that was the failure. */
export function failedCollection(code: ErrorCode, collectedAt: number): MetricsModel {
  const supervisordUp = code === "supervisord_unreachable" ? false : null;
  return { collectedAt, failure: code, supervisordUp, exitsWindowSeconds: null, workers: [] };
}

const bit = (b: boolean) => (b ? 1 : 0);
const P = "vexo_sv_";

type Spec = Omit<MetricFamily, "samples">;

const G = (name: string, labels: string[], help: string): Spec => ({ name: P + name, type: "gauge", labels, help });
const PROC = ["worker", "process"];

/** Every family vexo-sv writes: name, type, labels and help, in one place. */
export const SERIES = {
  supervisordUp: G("supervisord_up", [], "Whether supervisord answered vexo-sv (1) or could not be reached (0)."),
  success: G("collection_success", [], "Whether vexo-sv read everything it reports (1) or the collection failed (0)."),
  timestamp: G("collection_timestamp_seconds", [], "When vexo-sv collected these metrics, as a Unix time."),
  window: G("exits_window_seconds", [], "The window vexo_sv_worker_exits_window counts exits over, in seconds."),
  procUp: G("process_up", PROC, "Whether supervisord reports the process RUNNING (1) or not (0)."),
  procState: G("process_state", [...PROC, "state"], "The process's supervisord state: 1 for the state it is in, 0 for the others."),
  procStart: G("process_start_time_seconds", PROC, "When the process started, as a Unix time."),
  procRss: G("process_resident_memory_bytes", PROC, "Resident memory of the process (VmRSS), in bytes."),
  procCpu: { ...G("process_cpu_seconds_total", PROC, "CPU time (user and system) the process has used, in seconds."), type: "counter" },
  desired: G("worker_desired_processes", ["worker"], "How many processes the worker's spec asks for."),
  running: G("worker_running_processes", ["worker"], "How many of the worker's processes supervisord reports RUNNING."),
  paused: G("worker_paused", ["worker"], "Whether vexo-sv paused the worker (1) or not (0)."),
  stale: G(
    "worker_stale",
    ["worker"],
    "Whether a process of the worker runs in a directory its path no longer resolves to (1) or not (0).",
  ),
  exits: G(
    "worker_exits_window",
    ["worker", "reason"],
    "Exits of the worker's processes within the last vexo_sv_exits_window_seconds, by reason.",
  ),
} as const satisfies Record<string, Spec>;

type Key = keyof typeof SERIES;

function processSamples(w: WorkerMetrics, p: ProcessMetrics, add: (k: Key, labels: Record<string, string>, v: number | null) => void) {
  const labels = { worker: w.name, process: p.name };
  add("procUp", labels, bit(UP.has(p.state)));
  for (const s of PROCESS_STATES) add("procState", { ...labels, state: s }, bit(p.state === s));
  add("procStart", labels, p.startTime);
  add("procRss", labels, p.rssBytes);
  add("procCpu", labels, p.cpuSeconds);
}

/**
 * vexo-sv's metric families from one collection (SERIES lists them). Labels are worker, process,
 * state and reason, never a pid or a time. What is not known is left out, never written as 0.
 */
export function metricsFamilies(m: MetricsModel): MetricFamily[] {
  const samples = new Map<Key, Sample[]>(Object.keys(SERIES).map((k) => [k as Key, []]));
  const add = (k: Key, labels: Record<string, string>, value: number | boolean | null) => {
    if (value !== null) samples.get(k)?.push({ labels, value: typeof value === "boolean" ? bit(value) : value });
  };
  add("success", {}, m.failure === null);
  add("timestamp", {}, m.collectedAt);
  add("supervisordUp", {}, m.supervisordUp);
  add("window", {}, m.exitsWindowSeconds);
  for (const w of m.workers) {
    const worker = { worker: w.name };
    add("desired", worker, w.desired);
    add("running", worker, w.running);
    add("paused", worker, w.paused);
    add("stale", worker, w.stale);
    for (const [reason, n] of Object.entries(w.exits ?? {})) add("exits", { ...worker, reason }, n);
    for (const p of w.processes) processSamples(w, p, add);
  }
  return (Object.keys(SERIES) as Key[]).map((k) => ({ ...SERIES[k], samples: samples.get(k) ?? [] }));
}

/** The textfile of one collection; a failed one says so in a comment line too (its error code, no free text). */
export function renderMetrics(m: MetricsModel): string {
  const body = renderExposition(metricsFamilies(m));
  return m.failure === null ? body : `# vexo-sv: the collection failed (${m.failure})\n${body}`;
}

/**
 * The model of one `status` collection: vexo-sv's managed workers (programs it did not write are
 * left out: their names are not vexo-sv's to label), with what was not known left out.
 */
export function statusMetrics(r: StatusResult, collectedAt: number): MetricsModel {
  return {
    collectedAt,
    failure: null,
    supervisordUp: r.supervisord.running,
    exitsWindowSeconds: r.exitsWindowSeconds,
    workers: r.workers
      .filter((w) => w.managed)
      .map((w) => ({
        name: w.name,
        desired: w.total,
        running: w.running,
        paused: r.supervisord.running ? w.state === "paused" : null,
        stale: w.stale,
        exits: w.exits ? w.exits.counts : null,
        processes: w.processes.map((p) => ({
          name: p.process,
          state: p.state,
          startTime: p.startedAt === null ? null : Date.parse(p.startedAt) / 1000,
          rssBytes: p.rssBytes,
          cpuSeconds: p.cpuSeconds,
        })),
      })),
  };
}

// ---------------------------------------------------------------------------------------------
// The textfile

/** The file vexo-sv writes in node_exporter's textfile directory. */
export const TEXTFILE_NAME = "vexo-sv.prom";

/** The refusal of a textfile directory another user could have written (or one above it). */
function untrustedDir(dir: string, at: { path: string; reason: string }, asRoot: boolean): VexoError {
  const who = asRoot ? "root's" : "yours or root's";
  const make = `\`mkdir -m 755 NEWDIR\`${asRoot ? " as root" : ""}`;
  const hint =
    at.path === dir
      ? `move ${shownPath(dir)} aside (\`mv -T ${shellWord(dir)} ${shellWord(`${dir}.untrusted`)}\`) and create it anew ` +
        `(\`mkdir -m 755 ${shellWord(dir)}\`${asRoot ? " as root" : ""}), or use another directory. Do not reuse the old one: ${NEVER_CHOWN}`
      : `${shownPath(at.path)} is not ${who} alone, and whoever controls it controls everything below it: write the metrics ` +
        `to a new directory (${make}) where every directory on the way is ${who} alone, and point node_exporter's textfile directory at it; ${NEVER_CHOWN}`;
  return invalid(
    "textfile",
    `${at.reason}: another user could redirect the write of ${TEXTFILE_NAME} or replace the metrics node_exporter reads`,
    hint,
  );
}

/** DIR as a directory, or an io_error saying what it is instead. */
function requireDirectory(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VexoError(
      "io_error",
      `cannot write metrics to ${shownPath(dir)}: ${code === "ENOENT" ? "it does not exist" : (e as Error).message}`,
    );
  }
  if (!st.isDirectory()) throw new VexoError("io_error", `cannot write metrics to ${shownPath(dir)}: it is not a directory`);
}

/**
 * Writes `content` to DIR/vexo-sv.prom atomically and returns that path: a temp file in DIR
 * (a dotfile not ending in .prom, so node_exporter never reads it half-written) created with
 * O_CREAT|O_EXCL|O_NOFOLLOW, given mode 0644 whatever the umask, fsynced, then renamed over
 * vexo-sv.prom (rename replaces a symlink there, never follows it). DIR must exist, and no user
 * but root and the caller may own or be able to write it or any directory above it (links
 * followed, as for log directories): else invalid_input on the field `textfile`, nothing written.
 */
export function writeTextfile(dir: string, content: string): string {
  const abs = path.resolve(dir);
  const euid = process.geteuid?.() ?? 0;
  const bad = untrustedAt(abs, { trustedUids: [...new Set([0, euid])], followFinal: true });
  if (bad !== undefined) throw untrustedDir(abs, bad, euid === 0);
  requireDirectory(abs);
  const file = path.join(abs, TEXTFILE_NAME);
  try {
    writeAtomic(file, content, 0o644);
  } catch (e) {
    if (e instanceof VexoError && e.code === "permission_denied") {
      throw new VexoError(e.code, e.message, { hint: "run as root, or write the metrics to a directory you own" });
    }
    throw e;
  }
  return file;
}
