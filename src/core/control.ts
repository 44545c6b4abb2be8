import fs from "node:fs";
import { VexoError } from "../errors.js";
import { assertTrustedLayout } from "./config-trust.js";
import { ensureDir, removeFile, writeAtomic } from "./fsutil.js";
import { startFailure, waitHealthy } from "./health.js";
import { dryRun, pauseRecord } from "./control-plan.js";
import { callInLanes, settleBounded } from "./lanes.js";
import { logSizes } from "./logs.js";
import { isPaused } from "./pause.js";
import { pauseRecordPath, readPauseRecord, stateDir } from "./records.js";
import { ACTIVE, DOWN, UP } from "./states.js";
import type { ProcessGroup } from "./programs.js";
import type { CtlResult } from "./ctl-io.js";
import { type SupervisordClient, type CtlCall, calls, failedInOutput, faultReason, refusedInOutput } from "./supervisorctl.js";
import { supervisordPid } from "./supervisord.js";
import { assertNotStale, readStale, staleCandidates } from "./stale.js";
import type { ControlResult, ProcessStatus, WorkerOutcome } from "./results.js";

// start | stop | restart (plain, graceful, rolling) | pause | resume of whole worker groups:
// one small function per mode, chosen from a table.

export type ControlAction = ControlResult["action"];
export type ControlMode = ControlResult["mode"];

export interface ControlInput {
  action: ControlAction;
  /** Workers to act on; ignored with `all`. */
  names: string[];
  /** Every worker vexo-sv manages (never other programs). */
  all: boolean;
  /**
   * restart only: just the workers (of those named, else of every managed one) that run stale
   * code (stale.ts); with wait, each must come back on the code its path resolves to.
   */
  stale?: boolean;
  /** restart only: plain (stop then start), graceful (TERM, autorestart) or rolling (one process at a time). */
  mode: ControlMode;
  /** start/restart/resume: check every process comes up (after a graceful restart: new processes, past startsecs). */
  wait: boolean;
  /** Work out the calls and the pause records each would change, and make none of them. */
  dryRun?: boolean;
  onProgress?: (msg: string) => void;
}

/** The programs named (or with `all`, every managed one); unknown names are not_found. */
export function resolveTargets(entries: ProcessGroup[], names: string[], all: boolean): string[] {
  if (all) return entries.filter((e) => e.managed).map((e) => e.name);
  if (names.length === 0) throw new VexoError("usage", "name at least one worker, or ask for all of them");
  const known = new Set(entries.map((e) => e.name));
  const missing = names.filter((n) => !known.has(n));
  if (missing.length > 0)
    throw new VexoError("not_found", `no worker named ${missing.join(", ")}; nothing was done`, { details: { names: missing } });
  return [...new Set(names)];
}

const targetsIn = (entries: ProcessGroup[], names: string[]) => entries.filter((e) => names.includes(e.name));

/** What one mode needs: the targets, their files, and a runner that records every call it makes. */
interface ModeContext {
  sv: SupervisordClient;
  entries: ProcessGroup[];
  names: string[];
  input: ControlInput;
  /** Runs a call; a name supervisorctl refused outright is an error, never a success. */
  call(c: CtlCall): Promise<CtlResult>;
  /** What became of each worker (a mode that records none: each was done as asked). */
  outcomes: WorkerOutcome[];
  /** The targets' processes as already read (for stale workers), so a mode need not ask again. */
  before?: ProcessStatus[];
  /** The first error of a batch that went on without it (a lane's call, a failed start): what a partial failure reports. */
  cause?: VexoError;
}

/** A signal call must reach every process; "not running" is fine (nothing to signal). */
async function signal(m: ModeContext, sig: "TERM" | "USR2" | "CONT"): Promise<void> {
  const r = await m.call(calls.signal(sig, m.names));
  if (/ERROR/u.test(r.output) && !/not running/u.test(r.output)) {
    throw new VexoError("supervisorctl_failed", `could not signal: ${faultReason(r.output)}`);
  }
}

/** Log sizes of the targets now: a failure report shows only what this start writes. */
const sinceNow = (m: ModeContext) => logSizes(targetsIn(m.entries, m.names).flatMap((e) => e.logs));

/** A verb on the groups in lanes (lanes.ts): every lane runs to its end; the names of failed lanes, each with why. */
async function inLanes(m: ModeContext, verb: "start" | "stop" | "restart", names: string[]): Promise<LanesDone> {
  const progress = (done: number, total: number) => m.input.onProgress?.(`${done} of ${total} worker(s): ${verb} done`);
  const lanes = await callInLanes(m.call, names, (lane) => calls.groups(verb, lane), { onProgress: progress });
  const broken = new Map<string, string>();
  const outputs: string[] = [];
  for (const l of lanes) {
    if (l.result) outputs.push(l.result.output);
    if (l.error === undefined) continue;
    // A name supervisorctl refused fails alone: it acted on the others of its lane (their output counts).
    const { refused, output } = (l.error instanceof VexoError ? l.error.details : undefined) ?? {};
    if (Array.isArray(refused) && typeof output === "string") outputs.push(output);
    for (const n of l.items) if (!Array.isArray(refused) || refused.includes(n)) broken.set(n, reasonOf(l.error));
  }
  const first = lanes.find((l) => l.error !== undefined)?.error;
  // One call that failed: its own error, as before lanes.
  if (first !== undefined && lanes.length === 1) throw first;
  if (first !== undefined && !(first instanceof VexoError)) throw first;
  m.cause ??= first;
  return { outputs, broken };
}

interface LanesDone {
  /** What supervisorctl said in each lane that ran. */
  outputs: string[];
  /** The workers of lanes whose call failed, each with why. */
  broken: Map<string, string>;
}

const reasonOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Processes and their states, for an outcome's detail. */
const states = (procs: ProcessStatus[]) => procs.map((p) => `${p.fullName} ${p.state}`).join(", ");

/** The outcome of a worker done as asked. */
const PAST = { start: "started", stop: "stopped", restart: "restarted", pause: "paused", resume: "resumed" } as const;

/**
 * A partial failure: one error (exit 1) whose message says what was done and what was not, and
 * whose details hold every worker's outcome. A single worker's failure is its own error, as before.
 */
function assertAllDone(m: ModeContext, code: VexoError["code"] = "supervisorctl_failed"): void {
  const failed = m.outcomes.filter((o) => o.outcome === "failed");
  if (failed.length === 0) return;
  const cause = m.cause;
  // In the order of the names, as a result's outcomes are.
  const outcomes = m.names.flatMap((n) => m.outcomes.filter((o) => o.worker === n));
  const details = { ...cause?.details, outcomes, workers: failed.map((o) => o.worker) };
  if (m.names.length === 1 && cause) throw new VexoError(cause.code, cause.message, { hint: cause.hint, details });
  const done = outcomes.filter((o) => o.outcome !== "failed").map((o) => `${o.worker} ${o.outcome}`);
  const what = `${done.length > 0 ? `done: ${done.join(", ")}` : "none was done"}; not done: ${failed.map((o) => `${o.worker} (${o.detail})`).join("; ")}`;
  const head = `${failed.length} of ${m.names.length} worker(s) could not be ${PAST[m.input.action]}`;
  // A multi-line message ends with a worker's own log lines: the summary goes on a line of its own.
  const message = !cause
    ? `${head}: ${what}`
    : cause.message.includes("\n")
      ? `${cause.message}\n  ${head}: ${what}`
      : `${cause.message}; ${head}: ${what}`;
  throw new VexoError(cause?.code ?? code, message, { hint: cause?.hint, details });
}

/** Plain start or restart in lanes: supervisorctl itself waits startsecs for each process. */
async function startOrRestart(m: ModeContext): Promise<ProcessStatus[]> {
  const since = sinceNow(m);
  const { outputs, broken } = await inLanes(m, m.input.action === "start" ? "start" : "restart", m.names);
  const tried = m.names.filter((n) => !broken.has(n));
  const failed = new Set(outputs.flatMap(failedInOutput));
  let procs = await m.sv.status(m.names);
  let failure: VexoError | undefined;
  const down = procs.filter((p) => tried.includes(p.group) && !UP.has(p.state));
  if (m.input.wait && down.length > 0) {
    // Still STARTING (or in BACKOFF between tries) with no spawn error yet: wait, bounded, for a settled state.
    const spawnFailed = down.some((p) => failed.has(p.fullName) || failed.has(p.process));
    try {
      if (spawnFailed) throw startFailure(m.entries, down, `${m.input.action} failed`, since);
      const up = await waitHealthy(m.sv, m.entries, tried, { since });
      procs = tried.length === m.names.length ? up : await m.sv.status(m.names);
    } catch (e) {
      if (!(e instanceof VexoError)) throw e;
      failure = e;
      m.cause ??= e;
      procs = await m.sv.status(m.names);
    }
  }
  const notUp = (n: string) => procs.filter((p) => p.group === n && !UP.has(p.state));
  for (const n of m.names) {
    const why = broken.get(n) ?? (failure && notUp(n).length > 0 ? states(notUp(n)) : undefined);
    m.outcomes.push(why === undefined ? { worker: n, outcome: PAST[m.input.action] } : { worker: n, outcome: "failed", detail: why });
  }
  assertAllDone(m);
  return procs;
}

async function stop(m: ModeContext): Promise<ProcessStatus[]> {
  const { broken } = await inLanes(m, "stop", m.names);
  const procs = await m.sv.status(m.names);
  for (const n of m.names) {
    const still = procs.filter((p) => p.group === n && !DOWN.has(p.state));
    const why = broken.get(n) ?? (still.length > 0 ? `still ${states(still)}` : undefined);
    m.outcomes.push(why === undefined ? { worker: n, outcome: "stopped" } : { worker: n, outcome: "failed", detail: why });
  }
  assertAllDone(m);
  return procs;
}

/**
 * TERM: each process finishes its job and exits; autorestart brings it back on new code. With
 * wait, returns once every process is RUNNING past startsecs with a new pid: bounded by the
 * longest stopwaitsecs (the longest job a worker is allowed), plus a minute for the start.
 */
async function gracefulRestart(m: ModeContext): Promise<ProcessStatus[]> {
  // Pids before the signal tell a restarted process from one still finishing its job.
  const before = m.input.wait ? (m.before ?? (await m.sv.status(m.names))) : [];
  await signal(m, "TERM");
  if (!m.input.wait) return m.sv.status(m.names);
  const targets = targetsIn(m.entries, m.names);
  const timeoutSeconds = 60 + Math.max(0, ...targets.map((e) => e.spec?.stopwaitsecs ?? 0));
  m.input.onProgress?.(`waiting for ${before.length} process(es) to finish the job in hand and start again (up to ${timeoutSeconds}s)`);
  const up = await waitHealthy(m.sv, m.entries, m.names, { newerThan: new Map(before.map((p) => [p.fullName, p.pid])), timeoutSeconds });
  for (const n of m.names) m.outcomes.push({ worker: n, outcome: "restarted" });
  return up;
}

/**
 * One process of a worker at a time (supervisorctl's restart returns once it is RUNNING past
 * startsecs), so a worker is never all down; several workers side by side, in lanes (lanes.ts).
 * A worker whose process fails to come back stops there; the others go on.
 */
async function rollingRestart(m: ModeContext): Promise<ProcessStatus[]> {
  const procs = m.before ?? (await m.sv.status(m.names));
  let started = 0;
  const settled = await settleBounded(m.names, async (n) => {
    for (const p of procs.filter((x) => x.group === n)) {
      m.input.onProgress?.(`[${++started}/${procs.length}] restarting ${p.fullName}`);
      const r = await m.call(calls.restartProcess(p.fullName));
      if (failedInOutput(r.output).length > 0 || r.exitCode !== 0) {
        const now = await m.sv.status([p.group]);
        throw startFailure(
          m.entries,
          now.filter((x) => x.fullName === p.fullName),
          `rolling restart stopped at ${p.fullName}`,
        );
      }
    }
  });
  for (const [i, s] of settled.entries()) {
    const worker = m.names[i] as string;
    if (s.status === "fulfilled") m.outcomes.push({ worker, outcome: "restarted" });
    else if (!(s.reason instanceof VexoError)) throw s.reason;
    else {
      m.cause ??= s.reason;
      m.outcomes.push({ worker, outcome: "failed", detail: s.reason.message.split("\n")[0] as string });
    }
  }
  assertAllDone(m);
  return m.sv.status(m.names);
}

/**
 * A graceful stop that is remembered (see pause.ts): each process finishes the job in hand and
 * exits, whatever its --max-time. A worker with no active process is left as it is (a no-op).
 */
async function pause(m: ModeContext): Promise<ProcessStatus[]> {
  const before = await m.sv.status(m.names);
  const active = m.names.filter((n) => before.some((p) => p.group === n && ACTIVE.has(p.state)));
  const svPid = supervisordPid(m.sv.layout);
  for (const n of m.names.filter((n) => !active.includes(n))) {
    // Pausing a paused worker is done already: said so, as the state it is in (idempotent for scripts).
    const record = readPauseRecord(m.sv.layout, n);
    const procs = before.filter((p) => p.group === n);
    m.outcomes.push(
      isPaused(record, procs, svPid)
        ? { worker: n, outcome: "paused", detail: `already paused (since ${record?.at})` }
        : { worker: n, outcome: "not-running", detail: "no process runs: nothing to pause" },
    );
  }
  const after = active.length > 0 ? await stopPausing(m, active) : [];
  assertAllDone(m, "pause_failed");
  // What supervisord said, in the order of the names: after the stop for those stopped, before it for the rest.
  return m.names.flatMap((n) => (active.includes(n) ? after : before).filter((p) => p.group === n));
}

/**
 * The stop of a pause, in lanes. Each record is written before the stop: a run killed during it
 * leaves every worker it stopped paused (a record, no process: what a rerun finds), and one still
 * running is not paused (isPaused). The records of workers that did not stop are removed.
 */
async function stopPausing(m: ModeContext, active: string[]): Promise<ProcessStatus[]> {
  const record = pauseRecord(m.sv);
  ensureDir(stateDir(m.sv.layout), 0o700);
  for (const n of active) writeAtomic(pauseRecordPath(m.sv.layout, n), record, 0o600);
  let broken = new Map<string, string>();
  try {
    ({ broken } = await inLanes(m, "stop", active));
  } catch (e) {
    if (!(e instanceof VexoError)) throw e;
    m.cause = e;
    broken = new Map(active.map((n) => [n, e.message]));
  }
  const after = await m.sv.status(active);
  for (const n of active) {
    // What supervisord says decides: a worker whose lane failed after its stop is paused all the same.
    const still = after.filter((p) => p.group === n && !DOWN.has(p.state));
    if (still.length > 0) removeFile(pauseRecordPath(m.sv.layout, n));
    m.outcomes.push(
      still.length === 0
        ? { worker: n, outcome: "paused" }
        : { worker: n, outcome: "failed", detail: broken.get(n) ?? `still ${states(still)}` },
    );
  }
  return after;
}

/** Starts paused workers again, in lanes (with the same health check as start); others are left as they are. */
async function resume(m: ModeContext): Promise<ProcessStatus[]> {
  const paused = m.names.filter((n) => fs.existsSync(pauseRecordPath(m.sv.layout, n)));
  if (paused.length === 0) return m.sv.status(m.names);
  // A lane that failed leaves its workers paused (their records kept); a single call that failed did nothing.
  const { outputs, broken } = await inLanes(m, "start", paused);
  const started = paused.filter((n) => !broken.has(n));
  for (const n of started) removeFile(pauseRecordPath(m.sv.layout, n));
  let procs = await m.sv.status(m.names);
  const settled = outputs.flatMap(failedInOutput).length === 0 && procs.every((p) => !started.includes(p.group) || UP.has(p.state));
  let failure = false;
  if (m.input.wait && !settled && started.length > 0) {
    try {
      await waitHealthy(m.sv, m.entries, started);
    } catch (e) {
      if (!(e instanceof VexoError)) throw e;
      m.cause ??= e;
      failure = true;
    }
    procs = await m.sv.status(m.names);
  }
  for (const n of m.names) {
    const down = procs.filter((p) => p.group === n && !UP.has(p.state));
    const why = broken.has(n) ? `${broken.get(n)}; still paused` : failure && down.length > 0 ? states(down) : undefined;
    if (!paused.includes(n)) m.outcomes.push({ worker: n, outcome: "not-paused", detail: "it was not paused: left as it is" });
    else m.outcomes.push(why === undefined ? { worker: n, outcome: "resumed" } : { worker: n, outcome: "failed", detail: why });
  }
  assertAllDone(m);
  return procs;
}

const MODES: Record<string, (m: ModeContext) => Promise<ProcessStatus[]>> = {
  "start:plain": startOrRestart,
  "stop:plain": stop,
  "restart:plain": startOrRestart,
  "restart:graceful": gracefulRestart,
  "restart:rolling": rollingRestart,
  "pause:plain": pause,
  "resume:plain": resume,
};

/** The workers to act on; with stale, those of the candidates that run stale code, as read once. */
interface Targets {
  names: string[];
  /** stale only: the targets' processes as read, the stale workers and what becomes of each candidate. */
  reading?: Awaited<ReturnType<typeof readStale>>;
}

async function targetsOf(sv: SupervisordClient, entries: ProcessGroup[], input: ControlInput): Promise<Targets> {
  if (!input.stale) return { names: resolveTargets(entries, input.names, input.all) };
  if (input.action !== "restart") throw new VexoError("usage", `${input.action} does not choose stale workers; restart does`);
  const candidates = staleCandidates(entries, input.all ? [] : input.names);
  if (candidates.length === 0) return { names: [] };
  await sv.probe();
  const reading = await readStale(sv, candidates);
  const names = reading.selection.stale.map((s) => s.worker);
  return { names, reading: { ...reading, procs: reading.procs.filter((p) => names.includes(p.group)) } };
}

/** Runs one control action on whole groups and reports every call made and every process after. */
export async function controlWorkers(sv: SupervisordClient, input: ControlInput): Promise<ControlResult> {
  const handler = MODES[`${input.action}:${input.mode}`];
  if (!handler) throw new VexoError("usage", `${input.action} has no ${input.mode} mode`);
  // Pause and resume write records, every action may remove one: not in a tree another user can change (as root).
  assertTrustedLayout(sv.world);
  const entries = sv.world.programs();
  const { names, reading } = await targetsOf(sv, entries, input);
  const result: ControlResult = {
    action: input.action,
    mode: input.mode,
    dryRun: Boolean(input.dryRun),
    workers: names,
    supervisorctl: [],
    processes: [],
    ...(input.stale ? { stale: reading?.selection.stale ?? [] } : {}),
  };
  const outcomes: WorkerOutcome[] = [];
  if (names.length === 0) return reading && !input.dryRun ? { ...result, outcomes: reading.selection.outcomes } : result;
  if (!reading) await sv.probe();
  if (input.dryRun) return dryRun(sv, result, reading?.procs);
  // Any start, stop or restart ends a pause: fresh processes take jobs.
  if (input.action !== "pause" && input.action !== "resume") for (const n of names) removeFile(pauseRecordPath(sv.layout, n));
  const call = async (c: CtlCall) => {
    result.supervisorctl.push(sv.argv(c));
    const r = await sv.checked(c);
    const refused = refusedInOutput(r.output);
    if (refused.length > 0)
      throw new VexoError("supervisorctl_failed", `supervisorctl refused: ${refused.join("; ")}`, {
        // supervisorctl acts on every other name it was given: the groups refused, for a batch to tell apart.
        details: { output: r.output.trim(), refused: refused.map((l) => l.split(":")[0] as string) },
      });
    return r;
  };
  result.processes = await handler({ sv, entries, names, input, call, outcomes, ...(reading ? { before: reading.procs } : {}) });
  if (reading) {
    // Back on the code their path resolves to (not known without the wait: they may not be back yet).
    if (input.wait) assertNotStale(sv, targetsIn(entries, names), result.processes);
    result.outcomes = reading.selection.outcomes;
    // Only what a mode saw: a graceful restart without --wait has signalled its workers, not seen them restarted.
  } else if (outcomes.length > 0) result.outcomes = names.map((n) => outcomes.find((o) => o.worker === n) as WorkerOutcome);
  return result;
}
