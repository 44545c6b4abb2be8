import { VexoError } from "../errors.js";
import { assertTrustedLayout } from "./config-trust.js";
import { readIfExists, removeFile, writeAtomic } from "./fsutil.js";
import { splitLanes } from "./lanes.js";
import { programFile } from "./layout.js";
import { applyUpdate, assertNameFree, concatPlans } from "./mutation.js";
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

export const notThere = (r: WorkerRemoval): WorkerRemoval => ({
  ...r,
  changed: false,
  plan: { ...r.plan, removes: [], supervisorctl: [] },
});

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
 * The plans of several removals as the batch makes them (remove-batch.ts): the stops in lanes,
 * then one `update` naming every worker. One removal: its own plan.
 */
function batchedPlans(sv: SupervisordClient, changing: RemovePlan[]): Plan[] {
  if (changing.length <= 1) return changing.map((r) => r.result.plan);
  const stopping = changing.filter((r) => r.result.plan.removes.length > 0).map((r) => r.input.name);
  const supervisorctl = [
    ...splitLanes(stopping).map((lane) => sv.argv(calls.groups("stop", lane))),
    sv.argv(calls.updateGroups(changing.map((r) => r.input.name))),
  ];
  return [...changing.map((r) => ({ ...r.result.plan, supervisorctl: [] })), { mkdirs: [], writes: [], removes: [], supervisorctl }];
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
  const plans = batchedPlans(
    sv,
    removals.filter((r) => r.result.changed),
  );
  const result: RemoveResult = {
    changed: plans.length > 0,
    dryRun: false,
    config: sv.layout.config,
    workers: removals.map((r) => ({ name: r.result.name, file: r.file, changed: r.result.changed })),
    plan: concatPlans(plans),
  };
  return { input, removals, result };
}

/** Stops one worker being removed, before the lock (true when it did); a removal that is only an unload has nothing to stop. */
export async function stopIfRemoving(sv: SupervisordClient, r: RemovePlan): Promise<boolean> {
  if (r.result.plan.removes.length === 0) return false;
  return stopBeforeLock(sv, r.input.name, r.file, { force: r.input.force, changes: () => true, consequence: "it was not removed" });
}

/**
 * The removal itself, with the lock held: write the removal record, stop the group, delete the
 * file, `update NAME`, drop the record. A removal record a killed run left behind tells a later
 * run what is half done (records.ts): `apply --prune` finishes it, an add of the name undoes it.
 */
export async function removeLocked(sv: SupervisordClient, p: RemovePlan, opts: { stopped: boolean }): Promise<WorkerRemoval> {
  const prepared = await prepareRemoval(sv, p, opts);
  if (prepared.kind === "done") return prepared.removal;
  if (prepared.kind === "unload") {
    await applyUpdate(sv, p.input.name, () => undefined, NO_SUCH_GROUP);
    finishRemoval(sv, prepared);
    return p.result;
  }
  // "no such group": the file was never loaded, so there is nothing to unload.
  await applyUpdate(sv, p.input.name, () => restoreRemoved(sv, prepared), NO_SUCH_GROUP);
  finishRemoval(sv, prepared);
  return p.result;
}

/** supervisorctl's words for a group it never loaded: nothing to unload, which is fine for a removal. */
export const NO_SUCH_GROUP = /^ERROR: no such group/mu;

/**
 * A removal under the lock up to its `update NAME`: `removed` (its removal record written, the
 * group stopped, the file and any pause record deleted, and what they held to restore them),
 * `unload` (the file was gone already: only the update is left), or `done` (nothing to do).
 */
export type PreparedRemoval =
  | { kind: "removed"; plan: RemovePlan; current: string; paused: string | null }
  | { kind: "unload"; plan: RemovePlan }
  | { kind: "done"; removal: WorkerRemoval };

/** Everything of a removal under the lock but its update (removeLocked, and one update for many in remove-batch.ts). */
export async function prepareRemoval(sv: SupervisordClient, p: RemovePlan, opts: { stopped: boolean }): Promise<PreparedRemoval> {
  const { file, input } = p;
  // Re-read under the lock, on purpose: a parallel run may have changed it meanwhile (this one file, not the world).
  const current = readIfExists(file);
  if (current === null) {
    // Only the unload was left (see planRemove), or someone removed it meanwhile.
    if (p.result.plan.removes.length === 0) return { kind: "unload", plan: p };
    if (input.missingOk) return { kind: "done", removal: notThere(p.result) };
    throw new VexoError("not_found", `no worker named ${input.name} (removed meanwhile)`, { details: { names: [input.name] } });
  }
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
  return { kind: "removed", plan: p, current, paused };
}

/** Back as it was after supervisord refused the update: the file, and the worker running (or paused, if it was). */
export async function restoreRemoved(sv: SupervisordClient, r: PreparedRemoval & { kind: "removed" }): Promise<void> {
  const { file, input } = r.plan;
  writeAtomic(file, r.current, programFileMode(r.current));
  if (r.paused !== null) writeAtomic(pauseRecordPath(sv.layout, input.name), r.paused, 0o600);
  else await sv.run(calls.groups("start", [input.name]));
  dropRemovalRecord(sv.layout, input.name);
}

/** After the update (or the restore): the removal record has nothing left to tell. */
export function finishRemoval(sv: SupervisordClient, r: PreparedRemoval & { kind: "removed" | "unload" }): void {
  dropRemovalRecord(sv.layout, r.plan.input.name);
}

/** The path of the worker a program file runs, if vexo-sv can read it back (for the removal record). */
function specOfText(file: string, text: string, name: string): { path: string } | null {
  const own = parseProgramFile(file, text).find((e) => e.name === name);
  return own?.spec ? { path: own.spec.path } : null;
}
