import fs from "node:fs";
import path from "node:path";
import { invalid, VexoError } from "../errors.js";
import { assertTrustedLayout } from "./config-trust.js";
import { acquireLock, ensureDir, type Lock, LOG_DIR_MODE, readIfExists, removeFile, sweepTempFiles, writeAtomic } from "./fsutil.js";
import { convergeRunning, startCall } from "./converge.js";
import { assertRereads, stopBeforeLock, stopGroup } from "./prestop.js";
import { waitHealthy } from "./health.js";
import { logSizes } from "./logs.js";
import { programFile, requireConfDir } from "./layout.js";
import { pauseFile, removalFile } from "./pause.js";
import { hideEnv, hideEnvLine, isManaged, logPath, parseProgramFile, programFileMode, renderProgram } from "./program-file.js";
import { nameDefinedIn, readPrograms, supervisorConfig } from "./programs.js";
import type { WorkerSpec } from "./spec.js";
import { assertReachable, type Ctl, ctl, faultReason, reportsError } from "./supervisorctl.js";
import { isExecutable, onPath, supervisordPathVar, supervisordUid, userUid } from "./supervisord.js";
import type { SupervisorConfig } from "./supervisord/read-config.js";
import { untrustedReason } from "./trust.js";
import type { AddResult, Plan, RemoveResult } from "./results.js";
import { checkLogDir, logDirReadableBy, ROOT_APP_HINT, sharedUserWarning, untrustedInTree } from "./worker-trust.js";

// Adding and removing workers, each as plan() then apply(plan): the plan holds every file and
// every supervisorctl call, so --dry-run prints exactly what apply would do.

const DEFAULT_LOCK_WAIT_SECONDS = 600;

/** What writing `content` over `existing` would be; throws for a foreign file or a change without replace. */
function classify(file: string, name: string, existing: string | null, content: string, replace: boolean): AddResult["action"] {
  if (existing === null) return "created";
  if (!isManaged(existing)) {
    throw new VexoError("not_managed", `${file} exists and was not written by vexo-sv; it is never overwritten`, { details: { file } });
  }
  if (existing === content) return "unchanged";
  if (!replace) throw new VexoError("exists", `worker ${name} exists with a different spec`, { details: { file, names: [name] } });
  return "replaced";
}

/**
 * supervisord merges same-named sections from every file it reads: a name defined anywhere but
 * in vexo-sv's own file for it (another include, the main config, a [group:] that lists it) is
 * someone else's program, and is never written over, merged with or removed.
 */
function assertNameFree(sv: Ctl, name: string, cfg = supervisorConfig(sv.layout)): void {
  const own = sv.layout.confDir === null ? "" : path.join(sv.layout.confDir, `${name}${sv.layout.ext}`);
  const elsewhere = nameDefinedIn(cfg, name, own);
  if (elsewhere.length > 0) {
    throw new VexoError("name_taken", `${name} is already a program, group or listener in ${elsewhere.join(", ")}`, {
      details: { files: elsewhere, names: [name] },
    });
  }
}

/**
 * What every mutation checks before it stops, writes or locks anything: as root, a config tree
 * another user can change is refused; then supervisord must answer (else nothing is done).
 */
export async function beforeMutation(sv: Ctl): Promise<void> {
  assertTrustedLayout(sv.layout);
  await sv.probe();
}

/** Every mutation: beforeMutation, then the lock, then tidy temp files. */
export async function lockForMutation(sv: Ctl, lockWaitSeconds = DEFAULT_LOCK_WAIT_SECONDS): Promise<Lock> {
  await beforeMutation(sv);
  const dir = requireConfDir(sv.layout);
  const lock = await acquireLock(dir, lockWaitSeconds);
  sweepTempFiles(dir);
  return lock;
}

/** Checks what only the machine can tell: artisan is there, php runs, the user exists; returns the user's uid. */
async function checkEnvironment(spec: WorkerSpec, pathVar: string): Promise<{ uid: number | null; php: string | null }> {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(path.join(spec.path, "artisan"));
  } catch {
    st = undefined;
  }
  if (!st?.isFile()) throw invalid("path", `${spec.path} holds no artisan file; give the Laravel application's root directory`);
  if (path.isAbsolute(spec.php) && !isExecutable(spec.php)) throw invalid("php", `${spec.php} is not an executable file`);
  const php = path.isAbsolute(spec.php) ? spec.php : onPath(spec.php, pathVar);
  // Checked before anything is written: a wrong php would otherwise be found only by a worker that cannot start.
  if (php === null)
    throw invalid("php", `${spec.php} is not on supervisord's PATH (${pathVar}); give an absolute path or a command found there`);
  if (spec.user === null) return { uid: null, php };
  const uid = await userUid(spec.user);
  if (uid === null) throw invalid("user", `no user named ${spec.user} on this machine`);
  return { uid, php };
}

/**
 * Who may change what a worker runs. A root worker runs only when asked for (allowRoot), and
 * never code that another user can write (the app, artisan, the php binary); for any other
 * worker, code writable by someone besides root and its own user is a warning.
 */
function checkWhoCanWrite(spec: WorkerSpec, runsAs: number | null, php: string | null, allowRoot: boolean): string[] {
  if (runsAs === 0 && !allowRoot) {
    throw invalid("allowRoot", `the worker would run as root (user ${spec.user ?? "of supervisord"}); say so explicitly to allow it`);
  }
  const trustedUids = runsAs === null || runsAs === 0 ? [0] : [0, runsAs];
  const code: [string, string][] = [
    ["path", spec.path],
    ["path", path.join(spec.path, "artisan")],
    ...(php ? [["php", php] as [string, string]] : []),
  ];
  const warnings: string[] = [];
  if (runsAs === 0) {
    const inside = untrustedInTree(spec.path);
    if (inside) throw invalid("path", `${inside}: a root worker would run code that another user can change`, ROOT_APP_HINT);
  }
  for (const [field, file] of code) {
    const why = untrustedReason(file, { trustedUids, followFinal: true });
    if (!why) continue;
    if (runsAs === 0)
      throw invalid(
        field,
        `${why}: a root worker would run code that another user can change`,
        field === "path" ? ROOT_APP_HINT : undefined,
      );
    if (field === "path")
      warnings.push(`${why}: users other than root and ${spec.user ?? "supervisord's user"} can change what this worker runs`);
  }
  return warnings;
}

/** Several plans as one, in order (what `rm a b` and `apply` print and return). */
export function concatPlans(plans: Plan[]): Plan {
  return {
    mkdirs: [...new Set(plans.flatMap((p) => p.mkdirs))],
    writes: plans.flatMap((p) => p.writes),
    removes: plans.flatMap((p) => p.removes),
    supervisorctl: plans.flatMap((p) => p.supervisorctl),
  };
}

/** Runs `update NAME`; on rejection runs `rollback` and throws with supervisord's reason. */
async function applyUpdate(sv: Ctl, name: string, rollback: () => void | Promise<void>, tolerate?: RegExp): Promise<string> {
  const r = await sv.run(ctl.update(name));
  const bad = r.exitCode !== 0 || reportsError(r.output, name);
  if (!bad || tolerate?.test(r.output)) return r.output;
  await rollback();
  assertReachable(sv.layout, r.output);
  throw new VexoError("supervisord_rejected", `supervisord rejected the change: ${faultReason(r.output)}`, {
    hint: "the previous state was restored; fix the file named above (a broken file anywhere in the include directory blocks every update) and run again",
    details: { output: r.output.trim() },
  });
}

export interface AddInput {
  spec: WorkerSpec;
  /** Rewrite an existing worker whose spec differs. */
  replace: boolean;
  /** Wait until the processes run (or report their failure). */
  wait: boolean;
  /** Let the processes run as root (refused without it). */
  allowRoot?: boolean;
  lockWaitSeconds?: number;
  /** Workers planned alongside this one (apply): they count, in place of the defined ones of their names, when looking for users shared across applications. */
  peers?: WorkerSpec[];
}

/** An add, worked out but not done: the file, its content, what it would be, and the calls. */
export interface AddPlan {
  input: AddInput;
  file: string;
  content: string;
  /** The file's content when planned: apply re-checks it under the lock. */
  existing: string | null;
  result: AddResult;
}

/** Works out an add (or replace) of one worker: validates against the machine, changes nothing. `cfg`: supervisord's config, when already read. */
export async function planAdd(sv: Ctl, input: AddInput, cfg?: SupervisorConfig): Promise<AddPlan> {
  const layout = sv.layout;
  let spec = input.spec;
  const config = cfg ?? supervisorConfig(layout);
  assertNameFree(sv, spec.name, config);
  const file = programFile(layout, spec.name);
  const warnings: string[] = [];
  // supervisord can only switch users when it runs as root.
  const uid = supervisordUid(layout);
  if (uid !== null && uid !== 0 && spec.user !== null) {
    warnings.push(`supervisord runs as uid ${uid}, not root, so user=${spec.user} is left out: the worker runs as supervisord's user`);
    spec = { ...spec, user: null };
  }
  const env = await checkEnvironment(spec, supervisordPathVar(layout));
  // Without user=, the processes run as supervisord's own user (root when unknown: the usual setup).
  const runsAs = spec.user === null ? (uid ?? 0) : env.uid;
  warnings.push(...checkWhoCanWrite(spec, runsAs, env.php, Boolean(input.allowRoot)));
  checkLogDir(layout.logDir, uid, spec);
  warnings.push(...sharedUserWarning(spec, runsAs, layout, config, input.peers));
  const readable = logDirReadableBy(layout.logDir);
  if (readable) warnings.push(readable);
  const content = renderProgram(spec, layout.logDir);
  const existing = readIfExists(file);
  const action = classify(file, spec.name, existing, content, input.replace);
  const plan: Plan = {
    mkdirs: fs.existsSync(layout.logDir) ? [] : [layout.logDir],
    writes: action === "unchanged" ? [] : [{ path: file, content: hideEnvLine(content) }],
    removes: [],
    // Also when unchanged: it completes a run that was killed between write and update,
    // and is a no-op for a group that is already up to date. A replaced worker is stopped first,
    // before the lock (prestop.ts).
    supervisorctl: [...(action === "replaced" ? [sv.argv(ctl.groups("stop", [spec.name]))] : []), sv.argv(ctl.update(spec.name))],
  };
  const logs = Array.from({ length: spec.procs }, (_, i) => logPath(layout.logDir, spec.name, i));
  const result: AddResult = {
    changed: action !== "unchanged",
    action,
    dryRun: false,
    worker: hideEnv(spec),
    file,
    config: layout.config,
    logs,
    plan,
    warnings,
  };
  return { input, file, content, existing, result };
}

/** For --dry-run: the plan, with what converging an unchanged worker would do (read-only: one status call). */
export async function previewAdd(sv: Ctl, p: AddPlan): Promise<AddResult> {
  const name = p.result.worker.name;
  if (p.result.action !== "unchanged") return p.result;
  const run = await convergeRunning(sv, [name], { wait: p.input.wait, start: false }).catch(() => new Map());
  const action = run.get(name) ?? "unchanged";
  const supervisorctl = [...p.result.plan.supervisorctl, ...startCall(sv, action === "started" ? [name] : [])];
  return { ...p.result, action, changed: action === "started", plan: { ...p.result.plan, supervisorctl } };
}

/** Stops a worker that this add will replace, before the lock (prestop.ts); true when it did. */
export function stopIfReplacing(sv: Ctl, p: AddPlan, consequence: string): Promise<boolean> {
  return stopBeforeLock(sv, p.result.worker.name, p.file, {
    force: false,
    changes: (current) => p.input.replace && current !== p.content,
    consequence,
  });
}

/** Whether this add will stop a worker before the lock (a replace): then `reread` is asked first (assertRereads). */
export function replaces(p: AddPlan): boolean {
  return p.input.replace && p.result.action === "replaced";
}

/** Does a planned add: stops a worker it replaces, then under the lock writes the file and runs `update NAME`, then waits for health. */
export async function applyAdd(sv: Ctl, p: AddPlan): Promise<AddResult> {
  if (replaces(p)) {
    await beforeMutation(sv);
    await assertRereads(sv);
  }
  const stopped = await stopIfReplacing(sv, p, "nothing was changed");
  const lock = await lockForMutation(sv, p.input.lockWaitSeconds);
  // Where this start's log lines begin: a failure report shows nothing an earlier run wrote.
  const since = logSizes(p.result.logs);
  try {
    await addLocked(sv, p, { converge: true, stopped });
  } finally {
    lock.release();
  }
  // A worker that was already running needs no wait; one that was already starting is awaited from its own start.
  if (p.input.wait && p.result.action !== "unchanged") await waitAfterAdd(sv, p, p.result.action === "waited" ? undefined : since);
  return p.result;
}

/**
 * The add itself, with the lock held: write the file (unless unchanged), then `update NAME`;
 * rolled back if rejected. A removal of this name that a killed run left half done (its
 * processes stopped, its file perhaps gone) is undone: the worker is started again, and counts as created.
 * With `converge`, an unchanged worker that is not running (and not paused) is started, or its
 * start awaited (convergeRunning); `apply` does that for all its unchanged workers at once instead.
 * `stopped`: this run stopped the worker before the lock, so a rejected change starts it again.
 */
export async function addLocked(sv: Ctl, p: AddPlan, opts: { converge: boolean; stopped: boolean }): Promise<void> {
  const { file, content, result } = p;
  const name = result.worker.name;
  // Re-read under the lock: a parallel run may have written it meanwhile.
  const current = readIfExists(file);
  if (current !== p.existing) {
    result.action = classify(file, name, current, content, p.input.replace);
    result.changed = result.action !== "unchanged";
  }
  const interrupted = fs.existsSync(removalFile(sv.layout, name));
  if (interrupted && result.action === "unchanged") Object.assign(result, { action: "created", changed: true });
  ensureDir(sv.layout.logDir, LOG_DIR_MODE);
  // Again now that every directory of the path exists: one another user created meanwhile
  // (between the plan and this mkdir) would otherwise hold root's log files.
  checkLogDir(sv.layout.logDir, supervisordUid(sv.layout), result.worker);
  const paused = readIfExists(pauseFile(sv.layout, name));
  if (result.action !== "unchanged") {
    // A changed worker is started afresh by update: it is no longer paused (the record goes
    // first, so that a run killed in between leaves no pause behind on a new worker).
    removeFile(pauseFile(sv.layout, name));
    writeAtomic(file, content, programFileMode(content));
  }
  await applyUpdate(sv, name, async () => {
    if (result.action === "unchanged") return;
    if (current === null) removeFile(file);
    else writeAtomic(file, current, programFileMode(current));
    // Back as it was: paused if it was, else running again after the stop before the lock.
    if (paused !== null) writeAtomic(pauseFile(sv.layout, name), paused, 0o600);
    else if (opts.stopped) await sv.run(ctl.groups("start", [name]));
  });
  if (interrupted) {
    // Already running (the removal was killed before its stop) is fine; a failure shows in the health wait.
    await sv.run(ctl.groups("start", [name]));
    removeFile(removalFile(sv.layout, name));
  } else if (opts.converge && result.action === "unchanged") {
    const action = (await convergeRunning(sv, [name], { wait: p.input.wait, start: true })).get(name) ?? "unchanged";
    Object.assign(result, { action, changed: action === "started" });
  }
}

/** How a worker's action reads in "worker NAME was ..., but ...". */
const ACTION_WORDS: Record<AddResult["action"], string> = {
  created: "created",
  replaced: "replaced",
  unchanged: "unchanged",
  started: "unchanged and not running, so it was started",
  waited: "unchanged and already starting",
};

/** The health wait after an add; `since`: log sizes before it (a failure report shows only later lines), or all lines without. */
export async function waitAfterAdd(sv: Ctl, p: AddPlan, since: Map<string, number> | undefined): Promise<void> {
  const name = p.result.worker.name;
  try {
    await waitHealthy(sv, readPrograms(sv.layout), [name], { since });
  } catch (e) {
    if (!(e instanceof VexoError && e.code === "start_failed")) throw e;
    throw new VexoError("start_failed", `worker ${name} was ${ACTION_WORDS[p.result.action]}, but ${e.message}`, {
      hint: e.hint,
      details: { ...e.details, file: p.file },
    });
  }
}

export interface RemoveInput {
  name: string;
  /** Also remove a file vexo-sv did not write. */
  force: boolean;
  /** An absent worker is changed=false rather than not_found. */
  missingOk: boolean;
  lockWaitSeconds?: number;
}

/** One worker's removal: done (changed), or nothing to do (absent, with missingOk), and its calls and files. */
export interface WorkerRemoval {
  changed: boolean;
  name: string;
  file: string;
  plan: Plan;
}

export interface RemovePlan {
  input: RemoveInput;
  file: string;
  result: WorkerRemoval;
}

const notThere = (r: WorkerRemoval): WorkerRemoval => ({ ...r, changed: false, plan: { ...r.plan, removes: [], supervisorctl: [] } });

/** True when supervisord still has group NAME loaded (a run killed between the delete and `update NAME` leaves it so). */
async function stillLoaded(sv: Ctl, name: string): Promise<boolean> {
  try {
    return (await sv.status([name])).length > 0;
  } catch {
    return false; // unreachable: nothing to unload that we could reach
  }
}

/** Works out removing one worker: stop its group, delete its file, `update NAME`. Changes nothing. */
export async function planRemove(sv: Ctl, input: RemoveInput, cfg?: SupervisorConfig): Promise<RemovePlan> {
  const { name } = input;
  assertNameFree(sv, name, cfg);
  const file = programFile(sv.layout, name);
  const existing = readIfExists(file);
  const plan: Plan = {
    mkdirs: [],
    writes: [],
    removes: [file],
    supervisorctl: [sv.argv(ctl.groups("stop", [name])), sv.argv(ctl.update(name))],
  };
  const result: WorkerRemoval = { changed: true, name, file, plan };
  if (existing === null) {
    // The file is gone but supervisord still runs the group: finish that removal (update NAME unloads it).
    if (await stillLoaded(sv, name))
      return { input, file, result: { ...result, plan: { ...plan, removes: [], supervisorctl: [sv.argv(ctl.update(name))] } } };
    if (input.missingOk) return { input, file, result: notThere(result) };
    throw new VexoError("not_found", `no worker named ${name} (no ${file})`, { details: { names: [name] } });
  }
  if (!isManaged(existing) && !input.force) throw new VexoError("not_managed", `${file} was not written by vexo-sv`, { details: { file } });
  return { input, file, result };
}

export interface RemoveAllInput extends Omit<RemoveInput, "name"> {
  names: string[];
}

/** Removals of several workers, each planned: nothing is removed unless every one could be. */
export interface RemoveAllPlan {
  input: RemoveAllInput;
  removals: RemovePlan[];
  result: RemoveResult;
}

/**
 * Works out removing every named worker, in the order given (each once); changes nothing. Any
 * refusal fails the whole: not_found names every missing worker at once.
 */
export async function planRemoveAll(sv: Ctl, input: RemoveAllInput): Promise<RemoveAllPlan> {
  const cfg = supervisorConfig(sv.layout);
  const removals: RemovePlan[] = [];
  const missing: string[] = [];
  const names = [...new Set(input.names)];
  for (const name of names) {
    try {
      removals.push(await planRemove(sv, { ...input, name }, cfg));
    } catch (e) {
      if (!(e instanceof VexoError && e.code === "not_found") || names.length === 1) throw e;
      missing.push(name);
    }
  }
  if (missing.length > 0)
    throw new VexoError("not_found", `no worker named ${missing.join(", ")}; nothing was removed`, { details: { names: missing } });
  const plans = removals.filter((r) => r.result.changed).map((r) => r.result.plan);
  const result: RemoveResult = {
    changed: plans.length > 0,
    dryRun: false,
    config: sv.layout.config,
    workers: removals.map((r) => ({ name: r.result.name, file: r.file, changed: r.result.changed })),
    plan: concatPlans(plans),
  };
  return { input, removals, result };
}

/**
 * Does planned removals, one after another: each worker is stopped before the lock (prestop.ts),
 * then removed under it. A parallel rm that won the race ends in the same state.
 */
export async function applyRemoveAll(sv: Ctl, p: RemoveAllPlan): Promise<RemoveResult> {
  if (!p.result.changed) return p.result;
  const done: string[] = [];
  try {
    for (const [i, r] of p.removals.entries()) {
      const w = p.result.workers[i] as RemoveResult["workers"][number];
      if (r.result.changed) w.changed = (await removeOne(sv, r)).changed;
      done.push(w.name);
    }
  } catch (e) {
    throw partlyRemoved(e, p, done);
  }
  p.result.changed = p.result.workers.some((w) => w.changed);
  return p.result;
}

/** Stops one worker being removed, before the lock (true when it did); a removal that is only an unload has nothing to stop. */
export async function stopIfRemoving(sv: Ctl, r: RemovePlan): Promise<boolean> {
  if (r.result.plan.removes.length === 0) return false;
  return stopBeforeLock(sv, r.input.name, r.file, { force: r.input.force, changes: () => true, consequence: "it was not removed" });
}

async function removeOne(sv: Ctl, r: RemovePlan): Promise<WorkerRemoval> {
  await beforeMutation(sv);
  const stopped = await stopIfRemoving(sv, r);
  const lock = await lockForMutation(sv, r.input.lockWaitSeconds);
  try {
    return await removeLocked(sv, r, { stopped });
  } finally {
    lock.release();
  }
}

/** A failure after some removals: the message says which workers were removed and which were not. */
function partlyRemoved(e: unknown, p: RemoveAllPlan, done: string[]): unknown {
  if (!(e instanceof VexoError) || p.removals.length === 1) return e;
  const removed = p.result.workers.filter((w) => done.includes(w.name) && w.changed).map((w) => w.name);
  const notRemoved = p.result.workers.filter((w) => !done.includes(w.name)).map((w) => w.name);
  const what = `${removed.length > 0 ? `removed: ${removed.join(", ")}` : "none was removed"}; not removed: ${notRemoved.join(", ")}`;
  return new VexoError(e.code, `${e.message}; ${what}`, { hint: e.hint, details: { ...e.details, removed, notRemoved } });
}

/**
 * The removal itself, with the lock held: record the removal, stop the group, delete the file,
 * `update NAME`, drop the record. The record (stateDir/NAME.removing) tells a later run what a
 * killed one left half done: `apply --prune` finishes it, an add of the name undoes it.
 */
export async function removeLocked(sv: Ctl, p: RemovePlan, opts: { stopped: boolean }): Promise<WorkerRemoval> {
  const { file, input } = p;
  const current = readIfExists(file);
  if (current === null) {
    if (p.result.plan.removes.length === 0) {
      // Only the unload was left to do (see planRemove).
      await applyUpdate(sv, input.name, () => undefined, /^ERROR: no such group/mu);
      removeFile(removalFile(sv.layout, input.name));
      return p.result;
    }
    if (input.missingOk) return notThere(p.result);
    throw new VexoError("not_found", `no worker named ${input.name} (removed meanwhile)`, { details: { names: [input.name] } });
  }
  // Again under the lock: someone may have put their own program there while this run waited.
  if (!isManaged(current) && !input.force) throw new VexoError("not_managed", `${file} was not written by vexo-sv`, { details: { file } });
  const record = removalFile(sv.layout, input.name);
  const pause = pauseFile(sv.layout, input.name);
  const paused = readIfExists(pause);
  ensureDir(path.dirname(record), 0o700);
  writeAtomic(record, `${JSON.stringify({ name: input.name, file, spec: specOfText(file, current, input.name) })}\n`, 0o600);
  // Stopped before the lock already (prestop.ts); if a parallel run started it again meanwhile, `update NAME` stops it.
  if (!opts.stopped)
    await stopGroup(sv, input.name, "nothing was removed").catch((e: unknown) => {
      removeFile(record);
      throw e;
    });
  removeFile(pause);
  removeFile(file);
  // "no such group": the file was never loaded, so there is nothing to unload.
  await applyUpdate(
    sv,
    input.name,
    async () => {
      // Back as it was: the file, and the worker running (or paused, if it was).
      writeAtomic(file, current, programFileMode(current));
      if (paused !== null) writeAtomic(pause, paused, 0o600);
      else await sv.run(ctl.groups("start", [input.name]));
      removeFile(record);
    },
    /^ERROR: no such group/mu,
  );
  removeFile(record);
  return p.result;
}

/** The path of the worker a program file runs, if vexo-sv can read it back (for the removal record). */
function specOfText(file: string, text: string, name: string): { path: string } | null {
  const own = parseProgramFile(file, text).find((e) => e.name === name);
  return own?.spec ? { path: own.spec.path } : null;
}
