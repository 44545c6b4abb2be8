import { VexoError } from "../errors.js";
import { type AddPlan, finishAdd, isChange, planAdd, type PreparedAdd, prepareAdd, replaces, takeOver } from "./add.js";
import { assertTrustedLayout } from "./config-trust.js";
import { convergeRunning, previewRunning, startCall } from "./converge.js";
import { readIfExists } from "./fsutil.js";
import { waitHealthy } from "./health.js";
import { splitLanes } from "./lanes.js";
import { logSizes } from "./logs.js";
import { beforeMutation, concatPlans, lockForMutation, updateGroups } from "./mutation.js";
import { assertRereads, stopGroupsInLanes, stopsBeforeLock } from "./prestop.js";
import { parseProgramFile, sameProgram } from "./program-file.js";
import { fieldChanges } from "./spec-diff.js";
import type { ProcessGroup } from "./programs.js";
import { dropRemovalRecord, hasRemovalRecord, removalRecords } from "./records.js";
import {
  finishRemoval,
  NO_SUCH_GROUP,
  planRemove,
  type PreparedRemoval,
  prepareRemoval,
  type RemovePlan,
  restoreRemoved,
} from "./remove.js";
import type { ApplyResult, ApplyWorker, FieldChange, Plan } from "./results.js";
import type { WorkerSpec } from "./spec.js";
import { type SupervisordClient, calls, reportsError } from "./supervisorctl.js";

// `apply`: converge this host to a list of workers. Every worker is planned with the same code as
// `worker add --replace` and `worker rm` (so it is refused for the same reasons, before anything
// is written); then, under one lock, each change is made with its own `update NAME`, identical
// workers are left alone, and the health of every changed worker is awaited together.

export interface ApplyInput {
  specs: WorkerSpec[];
  /** Remove managed workers the list does not name. */
  prune: boolean;
  /** With prune: only workers of this application path. */
  prunePath: string | null;
  wait: boolean;
  allowRoot: boolean;
  lockWaitSeconds?: number;
  /** "N of M" as a batch's lanes end (on a terminal). */
  onProgress?: (msg: string) => void;
}

/** A convergence, worked out but not done. A value: applying it changes nothing in it. */
export interface ApplyPlan {
  readonly input: Readonly<ApplyInput>;
  readonly adds: readonly AddPlan[];
  readonly removes: readonly RemovePlan[];
  /** The result as planned (what --dry-run prints). */
  readonly result: Readonly<ApplyResult>;
  /** What planning each worker warned of, each prefixed with the worker's name. */
  readonly warnings: readonly string[];
}

/** What a planned add changes in the worker's spec (empty for a new or identical one). */
function changesOf(p: AddPlan, spec: WorkerSpec): FieldChange[] {
  if (p.result.action !== "replaced" || p.existing === null) return [];
  const old = parseProgramFile(p.file, p.existing).find((e) => e.name === spec.name)?.spec;
  return old ? fieldChanges(old, spec) : [];
}

/** An error of worker i's plan, its field named by its place in the file: `workers[2].path`. */
function atIndex(e: unknown, i: number): unknown {
  if (!(e instanceof VexoError) || e.code !== "invalid_input") return e;
  const field = String(e.details?.field ?? "");
  return new VexoError(e.code, e.message, { hint: e.hint, details: { ...e.details, field: `workers[${i}].${field}` } });
}

/** The managed workers (and removals a killed run left half done: their removal records) that --prune removes: not in the list, and of prunePath when given. */
function pruneTargets(sv: SupervisordClient, programs: ProcessGroup[], input: ApplyInput, warnings: string[]): string[] {
  if (!input.prune) return [];
  const wanted = new Set(input.specs.map((s) => s.name));
  const inScope = (name: string, p: string | null | undefined) => {
    if (input.prunePath === null || p === input.prunePath) return true;
    if (p === null || p === undefined)
      warnings.push(`${name}: kept, its application path cannot be read back to compare with the prune path`);
    return false;
  };
  const names = programs.filter((e) => e.managed && !wanted.has(e.name) && inScope(e.name, e.spec?.path)).map((e) => e.name);
  for (const [name, p] of removalRecords(sv.layout)) if (!wanted.has(name) && !names.includes(name) && inScope(name, p)) names.push(name);
  return names.sort();
}

/**
 * For --dry-run: what apply would find under its lock for identical workers (one `reread`, which
 * changes no process): those supervisord runs another config of, or whose removal a killed run
 * left half done. Returns the planned result with those actions (a new one).
 */
async function previewPending(
  sv: SupervisordClient,
  adds: readonly AddPlan[],
  result: ApplyResult,
  wait: boolean,
  warnings: string[],
): Promise<ApplyResult> {
  if (!adds.some((a) => a.result.action === "unchanged")) return result;
  const pending = await notYetLoaded(sv);
  const isAdd = new Set(adds.map((a) => a.result.worker.name));
  const found = (name: string): ApplyWorker["action"] =>
    pending?.get(name) ?? (hasRemovalRecord(sv.layout, name) ? "created" : "unchanged");
  let workers: ApplyWorker[] = result.workers.map((w) =>
    w.action === "unchanged" && isAdd.has(w.name) ? { ...w, action: found(w.name) } : w,
  );
  // Read-only: what convergeRunning would find (status only, nothing started; unreachable: nothing known).
  const same = workers.filter((w) => w.action === "unchanged" && isAdd.has(w.name)).map((w) => w.name);
  const { actions: run, warning } = await previewRunning(sv, same, wait);
  if (warning) warnings.push(warning);
  workers = workers.map((w) => (same.includes(w.name) ? { ...w, action: run.get(w.name) ?? ("unchanged" as const) } : w));
  const toStart = same.filter((name) => run.get(name) === "started");
  const plan = { ...result.plan, supervisorctl: [...result.plan.supervisorctl, ...startCall(sv, toStart)] };
  return { ...result, workers, plan, changed: workers.some((w) => isChange(w.action)) };
}

/**
 * The calls of a convergence as it makes them: one `reread` when a worker is identical (it is
 * updated only if supervisord runs another config of it: a run killed before its update), the
 * stops before the lock in lanes, then one `update` naming every changed worker; and every file
 * written or removed.
 */
function batchedPlan(sv: SupervisordClient, adds: readonly AddPlan[], removes: readonly RemovePlan[]): Plan {
  const changedAdds = adds.filter((p) => p.result.action !== "unchanged");
  const changedRemoves = removes.filter((p) => p.result.changed);
  const files = concatPlans([...changedAdds, ...changedRemoves].map((p) => p.result.plan));
  const stopping = [
    ...changedAdds.filter((p) => p.result.action === "replaced").map((p) => p.result.worker.name),
    ...changedRemoves.filter((p) => p.result.plan.removes.length > 0).map((p) => p.input.name),
  ];
  const updating = [...changedAdds.map((p) => p.result.worker.name), ...changedRemoves.map((p) => p.input.name)];
  const supervisorctl = [
    ...(adds.some((p) => p.result.action === "unchanged") ? [calls.reread()] : []),
    ...splitLanes(stopping).map((lane) => calls.groups("stop", lane)),
    ...(updating.length > 0 ? [calls.updateGroups(updating)] : []),
  ];
  return { ...files, supervisorctl: supervisorctl.map((c) => sv.argv(c)) };
}

/** The planned result: each worker's action as planned, and every call in order. */
function plannedResult(sv: SupervisordClient, input: ApplyInput, adds: readonly AddPlan[], removes: readonly RemovePlan[]): ApplyResult {
  const workers: ApplyWorker[] = [
    ...adds.map((p, i) => ({
      name: p.result.worker.name,
      action: p.result.action,
      file: p.file,
      changes: changesOf(p, input.specs[i] as WorkerSpec),
    })),
    ...removes.map((p) => ({
      name: p.input.name,
      action: p.result.changed ? ("removed" as const) : ("unchanged" as const),
      file: p.file,
      changes: [],
    })),
  ];
  return {
    changed: workers.some((w) => w.action !== "unchanged"),
    dryRun: false,
    config: sv.layout.config,
    workers,
    plan: batchedPlan(sv, adds, removes),
  };
}

/**
 * Works out the whole convergence; validates every worker against the machine; changes nothing.
 * With `reread` (--dry-run), the result also says what apply would find for identical workers.
 */
export async function planApply(sv: SupervisordClient, input: ApplyInput, opts: { reread?: boolean } = {}): Promise<ApplyPlan> {
  assertTrustedLayout(sv.world);
  const programs = sv.world.programs();
  const adds: AddPlan[] = [];
  for (const [i, spec] of input.specs.entries()) {
    try {
      adds.push(
        await planAdd(sv, { spec, replace: true, wait: false, allowRoot: input.allowRoot, peers: input.specs, owner: "apply" }, true),
      );
    } catch (e) {
      throw atIndex(e, i);
    }
  }
  const warnings = adds.flatMap((p) => p.result.warnings.map((w) => `${p.result.worker.name}: ${w}`));
  const removes: RemovePlan[] = [];
  for (const name of pruneTargets(sv, programs, input, warnings)) {
    removes.push(await planRemove(sv, { name, force: false, missingOk: true }));
  }
  const planned = plannedResult(sv, input, adds, removes);
  const result = opts.reread ? await previewPending(sv, adds, planned, input.wait, warnings) : planned;
  return { input, adds, removes, result, warnings };
}

/** A failure part-way: what was done and what was not, so the caller knows; running again converges. */
function partial(e: unknown, result: ApplyResult, finished: Set<string>): unknown {
  if (!(e instanceof VexoError)) return e;
  const done = result.workers.filter((w) => finished.has(w.name)).map((w) => ({ name: w.name, action: w.action }));
  const notDone = result.workers.filter((w) => !finished.has(w.name)).map((w) => w.name);
  const what = `${done.length > 0 ? `done: ${done.map((d) => `${d.name} ${d.action}`).join(", ")}` : "nothing was changed"}${notDone.length > 0 ? `; not done: ${notDone.join(", ")}` : ""}`;
  // A multi-line message ends with a worker's own log lines: the summary goes on a line of its own, not onto theirs.
  const message = e.message.includes("\n") ? `${e.message}\n  apply: ${what}` : `${e.message}; ${what}`;
  return new VexoError(e.code, message, {
    hint: e.hint ?? "fix the cause and apply the same file again: it converges from where this run stopped",
    details: { ...e.details, done, notDone },
  });
}

/**
 * The groups whose config supervisord has not applied (`reread`: NAME available | changed), as
 * the action an update of each would be; null when reread fails (then every worker is updated,
 * and a broken file is reported as `worker add` reports it).
 */
async function notYetLoaded(sv: SupervisordClient): Promise<Map<string, "created" | "replaced"> | null> {
  const r = await sv.run(calls.reread());
  // A false alarm (another program called ERROR) only makes every worker get its update.
  if (r.exitCode !== 0 || reportsError(r.output, "")) return null;
  const out = new Map<string, "created" | "replaced">();
  for (const m of r.output.matchAll(/^(\S+): (available|changed)$/gmu))
    out.set(m[1] as string, m[2] === "available" ? "created" : "replaced");
  return out;
}

/** Where a convergence has got to: each worker's action as done so far, and the workers finished. */
interface Progress {
  readonly actions: Map<string, ApplyWorker["action"]>;
  readonly finished: Set<string>;
}

/** The result of a convergence as far as it got: the planned one with each action as done (a new object). */
function resultOf(p: ApplyPlan, progress: Progress): ApplyResult {
  const workers = p.result.workers.map((w) => ({ ...w, action: progress.actions.get(w.name) ?? w.action }));
  return { ...p.result, workers, changed: workers.some((w) => isChange(w.action)) };
}

/**
 * Identical workers converge on running too (convergeRunning, one status call for all of them):
 * one that is stopped, exited or FATAL is started; one already starting is awaited with the rest.
 */
async function convergeUnchanged(sv: SupervisordClient, p: ApplyPlan, actions: Progress["actions"]): Promise<void> {
  const same = p.adds.map((a) => a.result.worker.name).filter((name) => actions.get(name) === "unchanged");
  const run = await convergeRunning(sv, same, { wait: p.input.wait, start: true });
  for (const [name, action] of run) actions.set(name, action);
}

/** Log sizes before the run, except for workers that were already starting: their failure report shows their lines from before. */
function sinceStart(p: ApplyPlan, actions: Progress["actions"], since: Map<string, number>): Map<string, number> {
  const waited = new Set(p.adds.filter((a) => actions.get(a.result.worker.name) === "waited").flatMap((a) => a.result.logs));
  return new Map([...since].filter(([file]) => !waited.has(file)));
}

/**
 * Stops, before the lock (prestop.ts), every worker this run replaces or removes: their stops are
 * the slow part, and no other vexo-sv run waits on them. Returns the names it stopped; a failure
 * says which were stopped and not yet changed (applying again finishes them).
 */
async function stopChanging(sv: SupervisordClient, p: ApplyPlan): Promise<Set<string>> {
  if (p.adds.some(replaces) || p.removes.some((r) => r.result.changed)) await beforeMutation(sv);
  // A replace refused for a broken file elsewhere must leave the worker running as it was (prestop.ts).
  if (p.adds.some(replaces)) await assertRereads(sv);
  // Only a planned replace stops before the lock (a file changed since the plan is replaced under it, by update).
  const names = [
    ...p.adds
      .filter((a) => replaces(a) && stopsBeforeLock(a.file, { force: false, changes: (c) => !sameProgram(c, a.content) }))
      .map((a) => a.result.worker.name),
    ...p.removes
      .filter(
        (r) =>
          r.result.changed && r.result.plan.removes.length > 0 && stopsBeforeLock(r.file, { force: r.input.force, changes: () => true }),
      )
      .map((r) => r.input.name),
  ];
  const { stopped, failed } = await stopGroupsInLanes(sv, names, p.input.onProgress);
  if (failed.size > 0) {
    const why = [...failed.values()][0] as string;
    const them = stopped.size > 0 ? `; stopped but not yet changed: ${[...stopped].join(", ")}` : "";
    throw new VexoError("supervisorctl_failed", `could not stop ${[...failed.keys()].join(", ")}: ${why}; it was not changed${them}`, {
      details: { stopped: [...stopped], notStopped: [...failed.keys()] },
    });
  }
  return stopped;
}

/**
 * Does a planned convergence: the workers it replaces or removes are stopped first; then, under
 * one lock, each change gets its own `update NAME` and identical workers are converged on
 * running; then, with the lock released, the health of every worker it started is awaited.
 * Returns a new result: the plan is left as it was.
 */
export async function applyConvergence(sv: SupervisordClient, p: ApplyPlan): Promise<ApplyResult> {
  const progress: Progress = { actions: new Map(p.result.workers.map((w) => [w.name, w.action])), finished: new Set() };
  const failed = (e: unknown) => partial(e, resultOf(p, progress), progress.finished);
  const stopped = await stopChanging(sv, p).catch((e: unknown) => {
    throw failed(e);
  });
  const lock = await lockForMutation(sv, p.input.lockWaitSeconds);
  const since = logSizes(p.adds.flatMap((a) => a.result.logs));
  try {
    await applyLocked(sv, p, stopped, progress);
  } catch (e) {
    throw failed(e);
  } finally {
    lock.release();
  }
  const started = p.adds.map((a) => a.result.worker.name).filter((name) => progress.actions.get(name) !== "unchanged");
  if (p.input.wait && started.length > 0) {
    await waitHealthy(sv, sv.world.programs(), started, { since: sinceStart(p, progress.actions, since) }).catch((e: unknown) => {
      throw failed(e);
    });
  }
  return resultOf(p, progress);
}

/** A change made under the lock and waiting for the one `update` of the batch. */
type Pending =
  { kind: "add"; name: string; x: PreparedAdd } | { kind: "remove"; name: string; x: PreparedRemoval & { kind: "removed" | "unload" } };

/**
 * The changes themselves, with the lock held; `progress` records each worker's action and each
 * worker done. Every file is written (or removed) first, then ONE `update` names every changed
 * group: supervisord rereads once, and starts every new group in the same pass. A group it
 * refuses is put back as it was; the others stay done, and the error names both (partial()).
 */
async function applyLocked(sv: SupervisordClient, p: ApplyPlan, stopped: Set<string>, progress: Progress): Promise<void> {
  const { actions, finished } = progress;
  const pending = p.adds.some((a) => a.result.action === "unchanged") ? await notYetLoaded(sv) : null;
  const batch: Pending[] = [];
  for (const a of p.adds) {
    const name = a.result.worker.name;
    // An identical file that supervisord runs another config of (a run killed before its update) is applied now, as what it was.
    const loadedAs = a.result.action === "unchanged" ? pending?.get(name) : undefined;
    if (loadedAs || a.result.action !== "unchanged" || pending === null || hasRemovalRecord(sv.layout, name))
      batch.push({ kind: "add", name, x: prepareAdd(sv, a, { stopped: stopped.has(name), as: loadedAs }) }); // re-checked under the lock
    // Identical program: only a header naming another owner may change (the file re-read under the lock).
    else if (takeOver(a, readIfExists(a.file))) sv.world.wrote(a.file, a.content);
    if (!batch.some((b) => b.name === name)) finished.add(name);
  }
  for (const r of p.removes) {
    const name = r.input.name;
    const x = r.result.changed ? await prepareRemoval(sv, r, { stopped: stopped.has(name) }) : null;
    if (x !== null && x.kind !== "done") batch.push({ kind: "remove", name, x });
    else {
      if (x === null) dropRemovalRecord(sv.layout, name); // a record with nothing left to do
      if (x === null || !x.removal.changed) actions.set(name, "unchanged");
      finished.add(name);
    }
  }
  await updateBatch(sv, batch, progress);
  await convergeUnchanged(sv, p, actions);
}

/** The batch's one `update`; each group is finished, or put back when supervisord refused it. Throws, after all of them, for those refused. */
async function updateBatch(sv: SupervisordClient, batch: Pending[], { actions, finished }: Progress): Promise<void> {
  if (batch.length === 0) return;
  let u: Awaited<ReturnType<typeof updateGroups>>;
  try {
    u = await updateGroups(
      sv,
      batch.map((b) => b.name),
    );
  } catch (e) {
    // supervisord gone: every change is put back (nothing half applied where supervisord looks).
    for (const b of batch) await (b.kind === "add" ? b.x.rollback() : b.x.kind === "removed" ? restoreRemoved(sv, b.x) : undefined);
    throw e;
  }
  const refused: string[] = [];
  for (const b of batch) {
    const line = u.failed.get(b.name);
    // A removal of a group supervisord never loaded has nothing to unload.
    const bad = u.refused ?? (line === undefined || (b.kind === "remove" && NO_SUCH_GROUP.test(line)) ? null : line);
    if (bad !== null) {
      refused.push(`${b.name} (${bad})`);
      if (b.kind === "add") await b.x.rollback();
      else if (b.x.kind === "removed") await restoreRemoved(sv, b.x);
      continue;
    }
    if (b.kind === "add") actions.set(b.name, await finishAdd(sv, b.x, false));
    else finishRemoval(sv, b.x);
    finished.add(b.name);
  }
  if (refused.length > 0) {
    throw new VexoError("supervisord_rejected", `supervisord rejected the change of ${refused.join("; ")}`, {
      hint: "those refused were put back as they were; fix the file named above (a broken file anywhere in the include directory blocks every update) and run again",
      details: { output: u.output.trim() },
    });
  }
}
