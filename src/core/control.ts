import fs from "node:fs";
import { VexoError } from "../errors.js";
import { assertTrustedLayout } from "./config-trust.js";
import { ensureDir, removeFile, writeAtomic } from "./fsutil.js";
import { startFailure, waitHealthy } from "./health.js";
import { logSizes } from "./logs.js";
import { isPaused } from "./pause.js";
import { pauseRecordPath, readPauseRecord, stateDir } from "./records.js";
import { ACTIVE, DOWN, UP } from "./states.js";
import type { ProcessGroup } from "./programs.js";
import type { CtlResult } from "./ctl-io.js";
import { type SupervisordClient, type CtlCall, calls, failedInOutput, faultReason, refusedInOutput } from "./supervisorctl.js";
import { supervisordPid } from "./supervisord.js";
import { assertNotStale, readStale, staleCandidates } from "./stale.js";
import type { ControlResult, Plan, ProcessStatus, WorkerOutcome } from "./results.js";

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
  /** Per-worker results, for the actions that report them (pause, resume). */
  outcomes: WorkerOutcome[];
  /** The targets' processes as already read (for stale workers), so a mode need not ask again. */
  before?: ProcessStatus[];
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

/** Plain start or restart: supervisorctl itself waits startsecs for each process. */
async function startOrRestart(m: ModeContext): Promise<ProcessStatus[]> {
  const since = sinceNow(m);
  const r = await m.call(calls.groups(m.input.action === "start" ? "start" : "restart", m.names));
  const failed = failedInOutput(r.output);
  const procs = await m.sv.status(m.names);
  const down = procs.filter((p) => !UP.has(p.state));
  if (!m.input.wait || down.length === 0) return procs;
  // Still STARTING (or in BACKOFF between tries) with no spawn error yet: wait, bounded, for a settled state.
  if (failed.length === 0) return waitHealthy(m.sv, m.entries, m.names, { since });
  throw startFailure(m.entries, down, `${m.input.action} failed`, since);
}

async function stop(m: ModeContext): Promise<ProcessStatus[]> {
  const r = await m.call(calls.groups("stop", m.names));
  if (r.exitCode !== 0 && !/not running/u.test(r.output))
    throw new VexoError("supervisorctl_failed", `stop failed: ${faultReason(r.output)}`);
  return m.sv.status(m.names);
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
  return waitHealthy(m.sv, m.entries, m.names, { newerThan: new Map(before.map((p) => [p.fullName, p.pid])), timeoutSeconds });
}

/** One process at a time; supervisorctl's restart returns once it is RUNNING past startsecs. */
async function rollingRestart(m: ModeContext): Promise<ProcessStatus[]> {
  const procs = m.before ?? (await m.sv.status(m.names));
  for (const [i, p] of procs.entries()) {
    m.input.onProgress?.(`[${i + 1}/${procs.length}] restarting ${p.fullName}`);
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
  return m.sv.status(m.names);
}

/** The text of a pause record written now. */
const pauseRecord = (sv: SupervisordClient) =>
  `${JSON.stringify({ at: new Date(sv.io.now()).toISOString(), supervisordPid: supervisordPid(sv.layout) })}\n`;

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
  let after: ProcessStatus[] = [];
  if (active.length > 0) {
    await m.call(calls.groups("stop", active));
    after = await m.sv.status(active);
    const record = pauseRecord(m.sv);
    ensureDir(stateDir(m.sv.layout), 0o700);
    for (const n of active) {
      const still = after.filter((p) => p.group === n && !DOWN.has(p.state));
      if (still.length === 0) writeAtomic(pauseRecordPath(m.sv.layout, n), record, 0o600);
      m.outcomes.push(
        still.length === 0
          ? { worker: n, outcome: "paused" }
          : { worker: n, outcome: "failed", detail: `still ${still.map((p) => `${p.fullName} ${p.state}`).join(", ")}` },
      );
    }
  }
  const failed = m.outcomes.filter((o) => o.outcome === "failed");
  if (failed.length > 0) {
    const each = m.outcomes.map((o) => `${o.worker}: ${o.outcome}${o.detail ? ` (${o.detail})` : ""}`).join("; ");
    throw new VexoError("pause_failed", `${failed.length} of ${m.names.length} worker(s) could not be paused: ${each}`, {
      details: { outcomes: m.outcomes, workers: failed.map((o) => o.worker) },
    });
  }
  // What supervisord said, in the order of the names: after the stop for those stopped, before it for the rest.
  return m.names.flatMap((n) => (active.includes(n) ? after : before).filter((p) => p.group === n));
}

/** Starts paused workers again (with the same health check as start); others are left as they are. */
async function resume(m: ModeContext): Promise<ProcessStatus[]> {
  const paused = m.names.filter((n) => fs.existsSync(pauseRecordPath(m.sv.layout, n)));
  for (const n of m.names)
    if (!paused.includes(n)) m.outcomes.push({ worker: n, outcome: "not-paused", detail: "it was not paused: left as it is" });
  if (paused.length === 0) return m.sv.status(m.names);
  const r = await m.call(calls.groups("start", paused));
  for (const n of paused) removeFile(pauseRecordPath(m.sv.layout, n));
  const procs = await m.sv.status(m.names);
  const failed = failedInOutput(r.output);
  const settled = failed.length === 0 && procs.every((p) => !paused.includes(p.group) || UP.has(p.state));
  if (m.input.wait && !settled) await waitHealthy(m.sv, m.entries, paused);
  for (const n of paused) m.outcomes.push({ worker: n, outcome: "resumed" });
  return m.input.wait && !settled ? m.sv.status(m.names) : procs;
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

/** What a dry run knows: the targets, their processes now, and the plan being filled in. */
interface DryContext {
  sv: SupervisordClient;
  names: string[];
  procs: ProcessStatus[];
  plan: Plan;
}

const groupCall = (verb: "start" | "stop" | "restart") => async (d: DryContext) => [calls.groups(verb, d.names)];

/** Each mode as a dry run: the calls it would make (and, for pause and resume, the pause records it would change). */
const PLANS: Record<string, (d: DryContext) => Promise<CtlCall[]>> = {
  "start:plain": groupCall("start"),
  "stop:plain": groupCall("stop"),
  "restart:plain": groupCall("restart"),
  "restart:graceful": async (d) => [calls.signal("TERM", d.names)],
  "restart:rolling": async (d) => d.procs.map((p) => calls.restartProcess(p.fullName)),
  "pause:plain": async (d) => {
    const active = d.names.filter((n) => d.procs.some((p) => p.group === n && ACTIVE.has(p.state)));
    if (active.length === 0) return [];
    if (!fs.existsSync(stateDir(d.sv.layout))) d.plan.mkdirs.push(stateDir(d.sv.layout));
    d.plan.writes = active.map((n) => ({ path: pauseRecordPath(d.sv.layout, n), content: pauseRecord(d.sv) }));
    return [calls.groups("stop", active)];
  },
  "resume:plain": async (d) => {
    const paused = d.names.filter((n) => fs.existsSync(pauseRecordPath(d.sv.layout, n)));
    d.plan.removes = paused.map((n) => pauseRecordPath(d.sv.layout, n));
    return paused.length > 0 ? [calls.groups("start", paused)] : [];
  },
};

/** A dry run: the plan of what the mode would do and the processes as they are (`before`: as read already); nothing is changed. */
async function dryRun(sv: SupervisordClient, input: ControlInput, result: ControlResult, before?: ProcessStatus[]): Promise<ControlResult> {
  const names = result.workers;
  const procs = before ?? (await sv.status(names));
  const plan: Plan = { mkdirs: [], writes: [], removes: [], supervisorctl: [] };
  // Any start, stop or restart ends a pause (see controlWorkers).
  if (input.action !== "pause" && input.action !== "resume")
    plan.removes = names.map((n) => pauseRecordPath(sv.layout, n)).filter((f) => fs.existsSync(f));
  const calls = await (PLANS[`${input.action}:${input.mode}`] as (d: DryContext) => Promise<CtlCall[]>)({ sv, names, procs, plan });
  plan.supervisorctl = calls.map((c) => sv.argv(c));
  return { ...result, supervisorctl: plan.supervisorctl, processes: procs, plan };
}

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
  if (input.dryRun) return dryRun(sv, input, result, reading?.procs);
  // Any start, stop or restart ends a pause: fresh processes take jobs.
  if (input.action !== "pause" && input.action !== "resume") for (const n of names) removeFile(pauseRecordPath(sv.layout, n));
  const call = async (c: CtlCall) => {
    result.supervisorctl.push(sv.argv(c));
    const r = await sv.checked(c);
    const refused = refusedInOutput(r.output);
    if (refused.length > 0)
      throw new VexoError("supervisorctl_failed", `supervisorctl refused: ${refused.join("; ")}`, { details: { output: r.output.trim() } });
    return r;
  };
  result.processes = await handler({ sv, entries, names, input, call, outcomes, ...(reading ? { before: reading.procs } : {}) });
  if (reading) {
    // Back on the code their path resolves to (not known without the wait: they may not be back yet).
    if (input.wait) assertNotStale(sv, targetsIn(entries, names), result.processes);
    result.outcomes = reading.selection.outcomes;
  } else if (outcomes.length > 0) result.outcomes = names.map((n) => outcomes.find((o) => o.worker === n) as WorkerOutcome);
  return result;
}
