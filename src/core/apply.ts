import fs from "node:fs";
import { invalid, VexoError } from "../errors.js";
import { type AddPlan, addLocked, isChange, planAdd, replaces, stopIfReplacing, takeOver } from "./add.js";
import { assertTrustedLayout } from "./config-trust.js";
import { convergeRunning, previewRunning, startCall } from "./converge.js";
import { ioError, readIfExists } from "./fsutil.js";
import { waitHealthy } from "./health.js";
import { logSizes } from "./logs.js";
import { beforeMutation, concatPlans, lockForMutation } from "./mutation.js";
import { assertRereads } from "./prestop.js";
import { parseProgramFile } from "./program-file.js";
import { fieldChanges } from "./spec-diff.js";
import type { ProcessGroup } from "./programs.js";
import { dropRemovalRecord, hasRemovalRecord, removalRecords } from "./records.js";
import { planRemove, type RemovePlan, removeLocked, stopIfRemoving } from "./remove.js";
import type { ApplyResult, ApplyWorker, FieldChange } from "./results.js";
import type { WorkerSpec } from "./spec.js";
import { type SupervisordClient, calls, reportsError } from "./supervisorctl.js";
import { untrustedReason } from "./trust.js";
import { readRegularFile } from "./safe-files.js";

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

/** The most a workers file may hold (some thousand workers). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * The text of a workers file (`-`: standard input). It says what runs on this host, so when
 * vexo-sv runs as root it must be a regular file that only root can have written (its owner and
 * every directory above it): one another user can change would let them choose what root starts.
 */
export async function readWorkersFile(file: string): Promise<string> {
  if (file === "-") return readStdin();
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw invalid("file", `${file} does not exist`);
    throw ioError("read", file, e);
  }
  const euid = process.geteuid?.() ?? 0;
  const why = untrustedReason(real, { trustedUids: euid === 0 ? [0] : [0, euid] });
  if (why)
    throw new VexoError("unsafe_file", `${why}: a workers file decides what runs; only root may be able to change it`, {
      details: { file },
    });
  try {
    return readRegularFile(real, MAX_FILE_BYTES);
  } catch (e) {
    throw ioError("read", file, e);
  }
}

/**
 * Standard input, at most MAX_FILE_BYTES. Read as a stream: on a pipe or terminal that is
 * non-blocking (another program may have made it so) a read with nothing there yet waits for
 * data instead of failing with EAGAIN, and waiting costs no CPU.
 */
async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of process.stdin) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      total += b.length;
      // Leaving the loop destroys the stream: nothing more is read.
      if (total > MAX_FILE_BYTES) throw invalid("file", `standard input holds more than ${MAX_FILE_BYTES} bytes`);
      parts.push(b);
    }
  } catch (e) {
    if (e instanceof VexoError) throw e;
    throw ioError("read", "standard input", e);
  }
  return Buffer.concat(parts).toString("utf8");
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
    plan: concatPlans([
      // An identical worker is updated only if reread says supervisord runs another config of it (a run killed before its update).
      ...(adds.some((p) => p.result.action === "unchanged")
        ? [{ mkdirs: [], writes: [], removes: [], supervisorctl: [sv.argv(calls.reread())] }]
        : []),
      ...adds.filter((p) => p.result.action !== "unchanged").map((p) => p.result.plan),
      ...removes.filter((p) => p.result.changed).map((p) => p.result.plan),
    ]),
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
  const stopped = new Set<string>();
  if (p.adds.some(replaces) || p.removes.some((r) => r.result.changed)) await beforeMutation(sv);
  // A replace refused for a broken file elsewhere must leave the worker running as it was (prestop.ts).
  if (p.adds.some(replaces)) await assertRereads(sv);
  try {
    // Only a planned replace stops before the lock (a file changed since the plan is replaced under it, by update).
    for (const a of p.adds) if (replaces(a) && (await stopIfReplacing(sv, a, "it was not changed"))) stopped.add(a.result.worker.name);
    for (const r of p.removes) if (r.result.changed && (await stopIfRemoving(sv, r))) stopped.add(r.input.name);
  } catch (e) {
    if (!(e instanceof VexoError) || stopped.size === 0) throw e;
    const names = [...stopped].join(", ");
    throw new VexoError(e.code, `${e.message}; stopped but not yet changed: ${names}`, {
      hint: e.hint,
      details: { ...e.details, stopped: [...stopped] },
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

/** The changes themselves, with the lock held; `progress` records each worker's action and each worker done. */
async function applyLocked(sv: SupervisordClient, p: ApplyPlan, stopped: Set<string>, progress: Progress): Promise<void> {
  const { actions, finished } = progress;
  const pending = p.adds.some((a) => a.result.action === "unchanged") ? await notYetLoaded(sv) : null;
  for (const a of p.adds) {
    const name = a.result.worker.name;
    // An identical file that supervisord runs another config of (a run killed before its update) is applied now, as what it was.
    const loadedAs = a.result.action === "unchanged" ? pending?.get(name) : undefined;
    if (loadedAs || a.result.action !== "unchanged" || pending === null || hasRemovalRecord(sv.layout, name))
      actions.set(name, await addLocked(sv, a, { converge: false, stopped: stopped.has(name), as: loadedAs })); // re-checked under the lock
    // Identical program: only a header naming another owner may change (the file re-read under the lock).
    else if (takeOver(a, readIfExists(a.file))) sv.world.wrote(a.file, a.content);
    finished.add(name);
  }
  await convergeUnchanged(sv, p, actions);
  for (const r of p.removes) {
    const name = r.input.name;
    if (r.result.changed) {
      const done = await removeLocked(sv, r, { stopped: stopped.has(name) });
      if (!done.changed) actions.set(name, "unchanged");
    } else {
      dropRemovalRecord(sv.layout, name); // a record with nothing left to do
      actions.set(name, "unchanged");
    }
    finished.add(name);
  }
}
