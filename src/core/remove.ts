import { VexoError } from "../errors.js";
import { assertTrustedLayout } from "./config-trust.js";
import { readIfExists, removeFile, writeAtomic } from "./fsutil.js";
import { programFile } from "./layout.js";
import { applyUpdate, assertNameFree, beforeMutation, concatPlans, lockForMutation } from "./mutation.js";
import { stopBeforeLock, stopGroup } from "./prestop.js";
import { isManaged, parseProgramFile, programFileMode } from "./program-file.js";
import { dropRemovalRecord, pauseRecordPath, writeRemovalRecord } from "./records.js";
import type { Plan, RemoveResult } from "./results.js";
import { type SupervisordClient, calls } from "./supervisorctl.js";

// Removing workers, as plan then apply: planRemoveAll works out every removal and changes
// nothing (--dry-run prints that plan); applyRemoveAll does them one after another and returns a
// new result, the plan left as it was.

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
  readonly changed: boolean;
  readonly name: string;
  readonly file: string;
  readonly plan: Plan;
}

/** One removal, worked out but not done. */
export interface RemovePlan {
  readonly input: Readonly<RemoveInput>;
  readonly file: string;
  readonly result: WorkerRemoval;
}

const notThere = (r: WorkerRemoval): WorkerRemoval => ({ ...r, changed: false, plan: { ...r.plan, removes: [], supervisorctl: [] } });

/** True when supervisord still has group NAME loaded (a run killed between the delete and `update NAME` leaves it so). */
async function stillLoaded(sv: SupervisordClient, name: string): Promise<boolean> {
  try {
    return (await sv.status([name])).length > 0;
  } catch {
    return false; // unreachable: nothing to unload that we could reach
  }
}

/** Works out removing one worker: stop its group, delete its file, `update NAME`. Changes nothing. */
export async function planRemove(sv: SupervisordClient, input: RemoveInput): Promise<RemovePlan> {
  const { name } = input;
  assertNameFree(sv, name);
  const file = programFile(sv.layout, name);
  const existing = sv.world.ownFile(file);
  const plan: Plan = {
    mkdirs: [],
    writes: [],
    removes: [file],
    supervisorctl: [sv.argv(calls.groups("stop", [name])), sv.argv(calls.update(name))],
  };
  const result: WorkerRemoval = { changed: true, name, file, plan };
  if (existing === null) {
    // The file is gone but supervisord still runs the group: finish that removal (update NAME unloads it).
    if (await stillLoaded(sv, name))
      return { input, file, result: { ...result, plan: { ...plan, removes: [], supervisorctl: [sv.argv(calls.update(name))] } } };
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
  readonly input: Readonly<RemoveAllInput>;
  readonly removals: readonly RemovePlan[];
  /** The result as planned (what --dry-run prints). */
  readonly result: Readonly<RemoveResult>;
}

/**
 * Works out removing every named worker, in the order given (each once); changes nothing. Any
 * refusal fails the whole: not_found names every missing worker at once.
 */
export async function planRemoveAll(sv: SupervisordClient, input: RemoveAllInput): Promise<RemoveAllPlan> {
  assertTrustedLayout(sv.world);
  const removals: RemovePlan[] = [];
  const missing: string[] = [];
  const names = [...new Set(input.names)];
  for (const name of names) {
    try {
      removals.push(await planRemove(sv, { ...input, name }));
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
 * then removed under it. A parallel rm that won the race ends in the same state. Returns a new result.
 */
export async function applyRemoveAll(sv: SupervisordClient, p: RemoveAllPlan): Promise<RemoveResult> {
  if (!p.result.changed) return { ...p.result };
  const workers = p.result.workers.map((w) => ({ ...w }));
  const done: string[] = [];
  try {
    for (const [i, r] of p.removals.entries()) {
      const w = workers[i] as RemoveResult["workers"][number];
      if (r.result.changed) w.changed = (await removeOne(sv, r)).changed;
      done.push(w.name);
    }
  } catch (e) {
    throw partlyRemoved(e, p, workers, done);
  }
  return { ...p.result, workers, changed: workers.some((w) => w.changed) };
}

/** Stops one worker being removed, before the lock (true when it did); a removal that is only an unload has nothing to stop. */
export async function stopIfRemoving(sv: SupervisordClient, r: RemovePlan): Promise<boolean> {
  if (r.result.plan.removes.length === 0) return false;
  return stopBeforeLock(sv, r.input.name, r.file, { force: r.input.force, changes: () => true, consequence: "it was not removed" });
}

async function removeOne(sv: SupervisordClient, r: RemovePlan): Promise<WorkerRemoval> {
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
function partlyRemoved(e: unknown, p: RemoveAllPlan, workers: RemoveResult["workers"], done: string[]): unknown {
  if (!(e instanceof VexoError) || p.removals.length === 1) return e;
  const removed = workers.filter((w) => done.includes(w.name) && w.changed).map((w) => w.name);
  const notRemoved = workers.filter((w) => !done.includes(w.name)).map((w) => w.name);
  const what = `${removed.length > 0 ? `removed: ${removed.join(", ")}` : "none was removed"}; not removed: ${notRemoved.join(", ")}`;
  return new VexoError(e.code, `${e.message}; ${what}`, { hint: e.hint, details: { ...e.details, removed, notRemoved } });
}

/** Under the lock, a removal whose file is already gone: only the unload was left (see planRemove), or someone removed it meanwhile. */
async function removeGone(sv: SupervisordClient, p: RemovePlan): Promise<WorkerRemoval> {
  const { input } = p;
  if (p.result.plan.removes.length === 0) {
    await applyUpdate(sv, input.name, () => undefined, /^ERROR: no such group/mu);
    dropRemovalRecord(sv.layout, input.name);
    return p.result;
  }
  if (input.missingOk) return notThere(p.result);
  throw new VexoError("not_found", `no worker named ${input.name} (removed meanwhile)`, { details: { names: [input.name] } });
}

/**
 * The removal itself, with the lock held: write the removal record, stop the group, delete the
 * file, `update NAME`, drop the record. A removal record a killed run left behind tells a later
 * run what is half done (records.ts): `apply --prune` finishes it, an add of the name undoes it.
 */
export async function removeLocked(sv: SupervisordClient, p: RemovePlan, opts: { stopped: boolean }): Promise<WorkerRemoval> {
  const { file, input } = p;
  // Re-read under the lock, on purpose: a parallel run may have changed it meanwhile (this one file, not the world).
  const current = readIfExists(file);
  if (current === null) return removeGone(sv, p);
  // Again under the lock: someone may have put their own program there while this run waited.
  if (!isManaged(current) && !input.force) throw new VexoError("not_managed", `${file} was not written by vexo-sv`, { details: { file } });
  const pause = pauseRecordPath(sv.layout, input.name);
  const paused = readIfExists(pause);
  writeRemovalRecord(sv.layout, { name: input.name, file, spec: specOfText(file, current, input.name) });
  // Stopped before the lock already (prestop.ts); if a parallel run started it again meanwhile, `update NAME` stops it.
  if (!opts.stopped)
    await stopGroup(sv, input.name, "nothing was removed").catch((e: unknown) => {
      dropRemovalRecord(sv.layout, input.name);
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
      else await sv.run(calls.groups("start", [input.name]));
      dropRemovalRecord(sv.layout, input.name);
    },
    /^ERROR: no such group/mu,
  );
  dropRemovalRecord(sv.layout, input.name);
  return p.result;
}

/** The path of the worker a program file runs, if vexo-sv can read it back (for the removal record). */
function specOfText(file: string, text: string, name: string): { path: string } | null {
  const own = parseProgramFile(file, text).find((e) => e.name === name);
  return own?.spec ? { path: own.spec.path } : null;
}
