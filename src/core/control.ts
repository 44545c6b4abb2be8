import { invalid, VexoError } from "../errors.js";
import { NAME_RE } from "./defaults.js";
import { ensureDir, removeFile, writeAtomic } from "./fsutil.js";
import { type Layout, type LayoutOptions, resolveLayout } from "./layout.js";
import { tailLines } from "./logs.js";
import type { ProgramEntry } from "./parse.js";
import { pauseFile, stateDir } from "./pause.js";
import { type ProcessStatus, parseStatus } from "./status.js";
import { assertReachable, type CtlCall, ctl, ctlArgv, faultReason, probe, runCtl } from "./supervisorctl.js";
import { readPrograms } from "./list.js";
import type { ControlResult, ProcessFailure } from "./results.js";

export type ControlAction = "start" | "stop" | "restart" | "pause" | "resume";

export interface ControlOptions extends LayoutOptions {
  action: ControlAction;
  names: string[];
  all?: boolean;
  /** start/restart: check every process is RUNNING, or report the failure (default true). */
  wait?: boolean;
  graceful?: boolean;
  rolling?: boolean;
  onProgress?: (msg: string) => void;
}

/** The programs named (or with --all, every managed one); unknown names are not_found. */
export function resolveTargets(entries: ProgramEntry[], names: string[], all: boolean): string[] {
  if (all) return entries.filter((e) => e.managed).map((e) => e.name);
  if (names.length === 0) {
    throw new VexoError("usage", "name at least one worker, or pass --all", { hint: "see `vexo-sv worker ls`" });
  }
  for (const n of names) {
    if (!NAME_RE.test(n)) throw invalid("NAME", `${JSON.stringify(n.slice(0, 80))} is not a worker name (letters, digits, ".", "_", "-")`);
  }
  const known = new Set(entries.map((e) => e.name));
  const missing = names.filter((n) => !known.has(n));
  if (missing.length > 0) {
    throw new VexoError("not_found", `no worker named ${missing.join(", ")}`, { hint: "see `vexo-sv worker ls`; nothing was done" });
  }
  return [...new Set(names)];
}

async function status(layout: Layout, names: string[]): Promise<ProcessStatus[]> {
  const r = await runCtl(layout, ctl.status(names));
  assertReachable(layout, r.output);
  return parseStatus(r.output);
}

/** The last lines of a process's log, for a failure report. */
function logTail(entries: ProgramEntry[], p: ProcessStatus): string[] {
  const e = entries.find((x) => x.name === p.group);
  if (!e) return [];
  const idx = /_(\d+)$/u.exec(p.process);
  const file = e.logs.length === 1 ? e.logs[0] : e.logs[idx ? Number(idx[1]) : 0];
  return file ? tailLines(file, 10) : [];
}

/** Processes that failed to start: the error and the log lines, as the exit-1 error. */
export function startFailure(entries: ProgramEntry[], failed: ProcessStatus[], how: string): VexoError {
  const failures: ProcessFailure[] = failed.map((p) => ({
    process: p.fullName,
    state: p.state,
    error: p.description || p.state,
    log: logTail(entries, p),
  }));
  const lines = failures.map((f) => `${f.process} ${f.state}: ${f.error}${f.log.length ? `\n    ${f.log.join("\n    ")}` : ""}`);
  return new VexoError("start_failed", `${how}: ${failures.length} process(es) failed to start\n  ${lines.join("\n  ")}`, {
    hint: "fix what the log says (a broken app, a missing php, permissions), then `vexo-sv worker start NAME`",
    details: { failures },
  });
}

const FAILED = new Set(["FATAL", "BACKOFF", "EXITED", "STOPPED", "UNKNOWN"]);

/**
 * Waits until every process of the groups is RUNNING (supervisord only says RUNNING once a
 * process has lived past startsecs) or one has failed; polls `status` at a modest pace.
 */
export async function waitHealthy(
  layout: Layout,
  entries: ProgramEntry[],
  names: string[],
  opts: { timeoutSeconds?: number; newerThan?: Map<string, number | null> } = {},
): Promise<ProcessStatus[]> {
  const until = Date.now() + (opts.timeoutSeconds ?? 60) * 1000;
  for (;;) {
    const procs = await status(layout, names);
    if (procs.length === 0) throw startFailure(entries, [], `supervisord has not loaded ${names.join(", ")}`);
    // A process still showing the pid it had before a graceful restart has not restarted yet.
    const fresh = (p: ProcessStatus) => !opts.newerThan || p.pid === null || opts.newerThan.get(p.fullName) !== p.pid;
    const failed = procs.filter((p) => FAILED.has(p.state) && !(p.state === "EXITED" && opts.newerThan));
    const done = procs.length > 0 && procs.every((p) => p.state === "RUNNING" && fresh(p));
    if (failed.length > 0 && procs.every((p) => p.state !== "STARTING" || FAILED.has(p.state))) {
      // BACKOFF turns into STARTING again; FATAL/EXITED are final. Report once nothing is mid-start.
      throw startFailure(entries, failed, "not running");
    }
    if (done) return procs;
    if (Date.now() > until) {
      const bad = procs.filter((p) => p.state !== "RUNNING");
      throw startFailure(entries, bad.length ? bad : procs, `still not running after ${opts.timeoutSeconds ?? 60}s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Checks that a pause held: after one poll interval of the workers (--sleep, +2 s) every process
 * still has the pid that got SIGUSR2. Laravel's paused worker re-checks --max-time with a start
 * time of 0 (laravel/framework#56505, Laravel 8 to 11 at least), so with --max-time set it exits
 * at its next poll and autorestart brings it back unpaused: that must not pass for a pause.
 */
async function verifyPaused(
  layout: Layout,
  entries: ProgramEntry[],
  names: string[],
  signalled: ProcessStatus[],
): Promise<ProcessStatus[]> {
  const targets = entries.filter((e) => names.includes(e.name));
  const windowSeconds = Math.max(...targets.map((e) => e.spec?.sleep ?? 3)) + 2;
  await new Promise((r) => setTimeout(r, windowSeconds * 1000));
  const now = await status(layout, names);
  const before = new Map(signalled.map((p) => [p.fullName, p.pid]));
  const lost = now.filter((p) => before.get(p.fullName) !== null && p.pid !== before.get(p.fullName));
  if (lost.length > 0) {
    const withMaxTime = targets.filter((e) => (e.spec?.maxTime ?? 0) > 0).map((e) => e.name);
    throw new VexoError("pause_failed", `the pause did not hold: ${lost.map((p) => p.fullName).join(", ")} exited and came back unpaused`, {
      hint: withMaxTime.length
        ? `Laravel exits a paused worker that has --max-time (laravel/framework#56505); re-add ${withMaxTime.join(", ")} with --max-time 0 --replace to be able to pause it`
        : "see the worker's log (`vexo-sv logs NAME`) for why it exited",
      details: { processes: lost.map((p) => p.fullName) },
    });
  }
  return now;
}

/** Lines of supervisorctl output that report a failed start, as process names. */
export function failedInOutput(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split("\n")) {
    const m = /^(\S+): ERROR \((spawn error|abnormal termination|no such file)\)/u.exec(line.trim());
    if (m) out.push(m[1] as string);
  }
  return out;
}

/** start | stop | restart (plain, graceful, rolling) | pause | resume, on whole groups. */
export async function controlWorkers(opts: ControlOptions): Promise<ControlResult> {
  const layout = resolveLayout(opts);
  const entries = readPrograms(layout);
  const names = resolveTargets(entries, opts.names, Boolean(opts.all));
  const mode = opts.graceful ? "graceful" : opts.rolling ? "rolling" : "plain";
  const result: ControlResult = { action: opts.action, mode, workers: names, supervisorctl: [], processes: [] };
  if (names.length === 0) return result;
  await probe(layout);
  const run = async (call: CtlCall) => {
    result.supervisorctl.push(ctlArgv(layout, call));
    const r = await runCtl(layout, call);
    assertReachable(layout, r.output);
    return r;
  };
  const wait = opts.wait !== false;

  if (opts.action === "pause" || opts.action === "resume") {
    const r = await run(ctl.signal(opts.action === "pause" ? "USR2" : "CONT", names));
    if (/ERROR/u.test(r.output) && !/not running/u.test(r.output)) {
      throw new VexoError("supervisorctl_failed", `could not signal: ${faultReason(r.output)}`);
    }
    let procs = await status(layout, names);
    if (opts.action === "pause" && wait) procs = await verifyPaused(layout, entries, names, procs);
    ensureDir(stateDir(layout));
    for (const n of names) {
      if (opts.action === "pause") {
        const pids = procs.filter((p) => p.group === n && p.pid !== null).map((p) => p.pid);
        writeAtomic(pauseFile(layout, n), `${JSON.stringify({ pids, at: new Date().toISOString() })}\n`);
      } else removeFile(pauseFile(layout, n));
    }
    result.processes = procs;
    return result;
  }
  // Any start, stop or restart ends a pause: fresh processes take jobs.
  for (const n of names) removeFile(pauseFile(layout, n));

  if (opts.action === "stop") {
    const r = await run(ctl.groups("stop", names));
    if (r.exitCode !== 0 && !/not running/u.test(r.output)) {
      throw new VexoError("supervisorctl_failed", `stop failed: ${faultReason(r.output)}`);
    }
    result.processes = await status(layout, names);
    return result;
  }

  if (opts.action === "restart" && mode === "graceful") {
    // Pids before the signal tell a restarted process from one still finishing its job.
    const before = wait ? await status(layout, names) : [];
    const r = await run(ctl.signal("TERM", names));
    if (/ERROR/u.test(r.output) && !/not running/u.test(r.output)) {
      throw new VexoError("supervisorctl_failed", `could not signal: ${faultReason(r.output)}`);
    }
    result.processes = wait
      ? await waitHealthy(layout, entries, names, {
          newerThan: new Map(before.map((p) => [p.fullName, p.pid])),
          timeoutSeconds: Math.max(60, ...entries.filter((e) => names.includes(e.name)).map((e) => e.spec?.stopwaitsecs ?? 60)),
        })
      : await status(layout, names);
    return result;
  }

  if (opts.action === "restart" && mode === "rolling") {
    const procs = await status(layout, names);
    for (const [i, p] of procs.entries()) {
      opts.onProgress?.(`[${i + 1}/${procs.length}] restarting ${p.fullName}`);
      const r = await run(ctl.restartProcess(p.fullName));
      const failed = failedInOutput(r.output);
      if (failed.length > 0 || r.exitCode !== 0) {
        const now = await status(layout, [p.group]);
        throw startFailure(
          entries,
          now.filter((x) => x.fullName === p.fullName),
          `rolling restart stopped at ${p.fullName}`,
        );
      }
      // supervisorctl's restart returns once the process is RUNNING past startsecs.
    }
    result.processes = await status(layout, names);
    return result;
  }

  // Plain start / restart: supervisorctl itself waits startsecs for each process.
  const r = await run(ctl.groups(opts.action, names));
  const failed = failedInOutput(r.output);
  const procs = await status(layout, names);
  if (wait && (failed.length > 0 || procs.some((p) => p.state !== "RUNNING"))) {
    throw startFailure(
      entries,
      procs.filter((p) => p.state !== "RUNNING"),
      `${opts.action} failed`,
    );
  }
  result.processes = procs;
  return result;
}

export type { ProcessFailure, ControlResult };
