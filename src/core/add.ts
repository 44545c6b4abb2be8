import fs from "node:fs";
import path from "node:path";
import { invalid, VexoError } from "../errors.js";
import { assertTrustedLayout } from "./config-trust.js";
import { convergeRunning, previewRunning, startCall } from "./converge.js";
import { ensureDir, LOG_DIR_MODE, readIfExists, removeFile, writeAtomic } from "./fsutil.js";
import { waitHealthy } from "./health.js";
import { programFile } from "./layout.js";
import { logSizes } from "./logs.js";
import { type Machine, onPath } from "./machine.js";
import { applyUpdate, assertNameFree, beforeMutation, lockForMutation } from "./mutation.js";
import { assertRereads, stopBeforeLock } from "./prestop.js";
import {
  type FileOwner,
  hideEnv,
  hideEnvLine,
  isManaged,
  logPath,
  parseProgramFile,
  programFileMode,
  renderProgram,
  sameProgram,
} from "./program-file.js";
import { changesText, fieldChanges } from "./spec-diff.js";
import { dropRemovalRecord, hasRemovalRecord, pauseRecordPath } from "./records.js";
import type { AddResult, Plan } from "./results.js";
import type { WorkerSpec } from "./spec.js";
import { type SupervisordClient, calls } from "./supervisorctl.js";
import { untrustedReason } from "./trust.js";
import { checkLogDir, logDirReadableBy, ROOT_APP_HINT, sharedUserWarning, untrustedInTree } from "./worker-trust.js";

// Adding a worker, as plan then apply: planAdd works out the file, its content and every
// supervisorctl call, and changes nothing (--dry-run prints that plan); applyAdd does it and
// returns a new result, the plan left as it was.

/** What an add did to a worker (see results.ts). */
export type AddAction = AddResult["action"];

/** An action that changed something (a wait on a worker already starting changed nothing). */
export const isChange = (action: AddAction | "removed") => action !== "unchanged" && action !== "waited";

/** The planned result, as it turned out: a new object. */
export const withAction = (r: Readonly<AddResult>, action: AddAction): AddResult => ({ ...r, action, changed: isChange(action) });

/** What writing `content` over `existing` would be; throws for a foreign file or a change without replace. */
export function classify(file: string, name: string, existing: string | null, content: string, replace: boolean): AddAction {
  if (existing === null) return "created";
  if (!isManaged(existing)) {
    throw new VexoError("not_managed", `${file} exists and was not written by vexo-sv; it is never overwritten`, { details: { file } });
  }
  if (existing === content || sameProgram(existing, content)) return "unchanged"; // only the owner's header may differ
  if (!replace) {
    // As apply's plan shows it: field by field (env values never shown).
    const [old, asked] = [existing, content].map((t) => parseProgramFile(file, t).find((e) => e.name === name)?.spec);
    const changes = old && asked ? fieldChanges(old, asked) : [];
    const what = changes.length > 0 ? `: ${changesText(changes)}` : "";
    throw new VexoError("exists", `worker ${name} exists with a different spec${what}`, { details: { file, names: [name], changes } });
  }
  return "replaced";
}

/** Checks what only the machine can tell: artisan is there, php runs, the user exists; returns the user's uid and php's path. */
async function checkEnvironment(m: Machine, spec: WorkerSpec, pathVar: string): Promise<{ uid: number | null; php: string | null }> {
  const dir = m.statPath(spec.path);
  if (dir === null) throw invalid("path", `${spec.path} does not exist`);
  if (!dir.isDirectory) throw invalid("path", `${spec.path} is not a directory; give the Laravel application's root directory`);
  if (!m.isFile(path.join(spec.path, "artisan")))
    throw invalid("path", `${spec.path} holds no artisan file; give the Laravel application's root directory`);
  if (path.isAbsolute(spec.php) && !m.isExecutable(spec.php)) throw invalid("php", `${spec.php} is not an executable file`);
  const php = path.isAbsolute(spec.php) ? spec.php : onPath(spec.php, pathVar, (f) => m.isExecutable(f));
  // Checked before anything is written: a wrong php would otherwise be found only by a worker that cannot start.
  if (php === null)
    throw invalid("php", `${spec.php} is not on supervisord's PATH (${pathVar}); give an absolute path or a command found there`);
  if (spec.user === null) return { uid: null, php };
  const uid = await m.userUid(spec.user);
  if (uid === null) throw invalid("user", `no user named ${spec.user} on this machine`);
  assertCanEnter(m, spec.path, spec.user, uid);
  return { uid, php };
}

/**
 * supervisord chdirs to the app as the worker's user: a directory on the way that user surely
 * cannot enter (no x bit for it as owner or other, and not its group's to judge) would fail
 * every start with EACCES. Refused here, naming the user and the directory. Root enters anything.
 */
function assertCanEnter(m: Machine, dir: string, user: string, uid: number): void {
  if (uid === 0) return;
  const parts = dir.split("/").filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const at = `/${parts.slice(0, i).join("/")}`;
    const st = m.statPath(at);
    if (!st?.isDirectory) continue;
    const mine = st.uid === uid;
    // Group membership is not looked up: a group x bit gets the benefit of the doubt.
    const enters = mine ? (st.mode & 0o100) !== 0 : (st.mode & 0o011) !== 0;
    if (!enters) {
      const mode = st.mode.toString(8).padStart(4, "0");
      throw invalid(
        "path",
        `user ${user} (uid ${uid}) cannot enter ${at} (mode ${mode}, owner uid ${st.uid}): the worker could not start in ${dir}`,
        `put the application where ${user} can reach it, or run the worker as a user that can`,
      );
    }
  }
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

export interface AddInput {
  spec: WorkerSpec;
  /** Rewrite an existing worker whose spec differs. */
  replace: boolean;
  /** Wait until the processes run (or report their failure). */
  wait: boolean;
  /** Let the processes run as root (refused without it). */
  allowRoot?: boolean;
  lockWaitSeconds?: number;
  /** Which command writes the file (its header says so); `worker add` by default. */
  owner?: FileOwner;
  /** Workers planned alongside this one (apply): they count, in place of the defined ones of their names, when looking for users shared across applications. */
  peers?: WorkerSpec[];
}

/** An add, worked out but not done: the file, its content, what it would be, and the calls. A value: applying it changes nothing in it. */
export interface AddPlan {
  readonly input: Readonly<AddInput>;
  readonly file: string;
  readonly content: string;
  /** The file's content when planned: apply re-checks it under the lock. */
  readonly existing: string | null;
  /** The result as planned (what --dry-run prints). */
  readonly result: Readonly<AddResult>;
}

/** The spec as supervisord can run it, and the uid it would run as, with what that warns of. */
async function runAs(sv: SupervisordClient, spec: WorkerSpec, warnings: string[]) {
  const uid = sv.machine.supervisordUid(sv.layout);
  // supervisord can only switch users when it runs as root.
  if (uid !== null && uid !== 0 && spec.user !== null) {
    warnings.push(`supervisord runs as uid ${uid}, not root, so user=${spec.user} is left out: the worker runs as supervisord's user`);
    spec = { ...spec, user: null };
  }
  const env = await checkEnvironment(sv.machine, spec, sv.machine.supervisordPathVar(sv.layout));
  // Without user=, the processes run as supervisord's own user (root when unknown: the usual setup).
  return { spec, svUid: uid, runsAs: spec.user === null ? (uid ?? 0) : env.uid, php: env.php };
}

/** Works out an add (or replace) of one worker: validates against the machine, changes nothing. `checked`: apply checked the tree already. */
export async function planAdd(sv: SupervisordClient, input: AddInput, checked = false): Promise<AddPlan> {
  const layout = sv.layout;
  // Before reading what the tree includes (apply checked it already).
  if (!checked) assertTrustedLayout(sv.world);
  assertNameFree(sv, input.spec.name, sv.world.config());
  const file = programFile(layout, input.spec.name);
  const warnings: string[] = [];
  const { spec, svUid, runsAs: uid, php } = await runAs(sv, input.spec, warnings);
  warnings.push(...checkWhoCanWrite(spec, uid, php, Boolean(input.allowRoot)));
  checkLogDir(layout.logDir, svUid, spec);
  warnings.push(...sharedUserWarning(spec, uid, sv.world, input.peers));
  const readable = logDirReadableBy(layout.logDir);
  if (readable) warnings.push(readable);
  const content = renderProgram(spec, layout.logDir, input.owner);
  const existing = sv.world.ownFile(file);
  const action = classify(file, spec.name, existing, content, input.replace);
  const plan: Plan = {
    mkdirs: fs.existsSync(layout.logDir) ? [] : [layout.logDir],
    writes: action === "unchanged" ? [] : [{ path: file, content: hideEnvLine(content) }],
    removes: [],
    // Also when unchanged: it completes a run that was killed between write and update,
    // and is a no-op for a group that is already up to date. A replaced worker is stopped first,
    // before the lock (prestop.ts).
    supervisorctl: [...(action === "replaced" ? [sv.argv(calls.groups("stop", [spec.name]))] : []), sv.argv(calls.update(spec.name))],
  };
  const logs = Array.from({ length: spec.procs }, (_, i) => logPath(layout.logDir, spec.name, i));
  const result: AddResult = {
    changed: isChange(action),
    action,
    dryRun: false,
    worker: hideEnv(spec),
    file,
    config: layout.config,
    // Who the processes run as: its user=, else supervisord's own user (root when not known).
    runsAs: spec.user ?? (uid === 0 || uid === null ? "root" : `uid ${uid}`),
    logs,
    plan,
    warnings,
  };
  return { input, file, content, existing, result };
}

/** For --dry-run: the plan, with what converging an unchanged worker would do (read-only: one status call). */
export async function previewAdd(sv: SupervisordClient, p: AddPlan): Promise<AddResult> {
  const name = p.result.worker.name;
  if (p.result.action !== "unchanged") return { ...p.result };
  const { actions, warning } = await previewRunning(sv, [name], p.input.wait);
  const action = actions.get(name) ?? "unchanged";
  const supervisorctl = [...p.result.plan.supervisorctl, ...startCall(sv, action === "started" ? [name] : [])];
  const warnings = warning ? [...p.result.warnings, warning] : p.result.warnings;
  return { ...withAction(p.result, action), plan: { ...p.result.plan, supervisorctl }, warnings };
}

/** Stops a worker that this add will replace, before the lock (prestop.ts); true when it did. */
export function stopIfReplacing(sv: SupervisordClient, p: AddPlan, consequence: string): Promise<boolean> {
  return stopBeforeLock(sv, p.result.worker.name, p.file, {
    force: false,
    changes: (current) => p.input.replace && !sameProgram(current, p.content),
    consequence,
  });
}

/** Whether this add will stop a worker before the lock (a replace): then `reread` is asked first (assertRereads). */
export function replaces(p: AddPlan): boolean {
  return p.input.replace && p.result.action === "replaced";
}

/** Does a planned add: stops a worker it replaces, then under the lock writes the file and runs `update NAME`, then waits for health. */
export async function applyAdd(sv: SupervisordClient, p: AddPlan): Promise<AddResult> {
  if (replaces(p)) {
    await beforeMutation(sv);
    await assertRereads(sv);
  }
  const stopped = await stopIfReplacing(sv, p, "nothing was changed");
  const lock = await lockForMutation(sv, p.input.lockWaitSeconds);
  // Where this start's log lines begin: a failure report shows nothing an earlier run wrote.
  const since = logSizes(p.result.logs);
  let action: AddAction;
  try {
    action = await addLocked(sv, p, { converge: true, stopped });
  } finally {
    lock.release();
  }
  // A worker that was already running needs no wait; one that was already starting is awaited from its own start.
  if (p.input.wait && action !== "unchanged") await waitAfterAdd(sv, p, action, action === "waited" ? undefined : since);
  return withAction(p.result, action);
}

/** How addLocked is to treat a planned add. */
export interface AddLockedOptions {
  /** Converge an unchanged worker on running (`apply` does that for all its unchanged workers at once instead). */
  converge: boolean;
  /** This run stopped the worker before the lock, so a rejected change starts it again. */
  stopped: boolean;
  /** The action to take the planned one as (apply: an identical file that supervisord runs another config of is applied as what it was). */
  as?: "created" | "replaced";
}

/**
 * The add itself, with the lock held: write the file (unless unchanged), then `update NAME`;
 * rolled back if rejected. A removal of this name that a killed run left half done (its
 * processes stopped, its file perhaps gone; its removal record remains) is undone: the worker is
 * started again, and counts as created. With `converge`, an unchanged worker that is not running
 * (and not paused) is started, or its start awaited (convergeRunning). Returns what it did.
 */
export async function addLocked(sv: SupervisordClient, p: AddPlan, opts: AddLockedOptions): Promise<AddAction> {
  const prepared = prepareAdd(sv, p, opts);
  await applyUpdate(sv, p.result.worker.name, () => prepared.rollback());
  return finishAdd(sv, prepared, opts.converge);
}

/** An add under the lock up to its `update NAME`: what it will be, and how to put things back if supervisord refuses. */
export interface PreparedAdd {
  readonly plan: AddPlan;
  readonly action: AddAction;
  /** A removal of this name a killed run left half done: undone once the update is in. */
  readonly interrupted: boolean;
  readonly wrote: boolean;
  /** Back as it was: the file, and the worker paused or running again (after its stop before the lock). */
  rollback(): Promise<void>;
}

/** Everything of an add under the lock but its update (addLocked, and one update for many in apply). */
export function prepareAdd(sv: SupervisordClient, p: AddPlan, opts: Omit<AddLockedOptions, "converge">): PreparedAdd {
  const { file, content } = p;
  const name = p.result.worker.name;
  // Re-read under the lock, on purpose: a parallel run may have written it meanwhile (this one file, not the world).
  const current = readIfExists(file);
  let action = current !== p.existing ? classify(file, name, current, content, p.input.replace) : (opts.as ?? p.result.action);
  const interrupted = hasRemovalRecord(sv.layout, name);
  if (interrupted && action === "unchanged") action = "created";
  ensureDir(sv.layout.logDir, LOG_DIR_MODE);
  // Again now that every directory of the path exists: one another user created meanwhile
  // (between the plan and this mkdir) would otherwise hold root's log files.
  checkLogDir(sv.layout.logDir, sv.machine.supervisordUid(sv.layout), p.result.worker);
  const pauseRecord = pauseRecordPath(sv.layout, name);
  const paused = readIfExists(pauseRecord);
  let wrote = false;
  if (action !== "unchanged") {
    // A changed worker is started afresh by update: it is no longer paused (the record goes
    // first, so that a run killed in between leaves no pause behind on a new worker).
    removeFile(pauseRecord);
    writeAtomic(file, content, programFileMode(content));
    wrote = true;
  } else {
    wrote = takeOver(p, current);
  }
  const rollback = async () => {
    if (action === "unchanged") return;
    if (current === null) removeFile(file);
    else writeAtomic(file, current, programFileMode(current));
    // Back as it was: paused if it was, else running again after the stop before the lock.
    if (paused !== null) writeAtomic(pauseRecord, paused, 0o600);
    else if (opts.stopped) await sv.run(calls.groups("start", [name]));
  };
  return { plan: p, action, interrupted, wrote, rollback };
}

/** After the update: the world told what was written; a half-done removal undone; with `converge`, an unchanged worker started. */
export async function finishAdd(sv: SupervisordClient, x: PreparedAdd, converge: boolean): Promise<AddAction> {
  const name = x.plan.result.worker.name;
  // The world as it is now, from what was written (the health wait reads nothing again).
  if (x.wrote) sv.world.wrote(x.plan.file, x.plan.content);
  if (x.interrupted) {
    // Already running (the removal was killed before its stop) is fine; a failure shows in the health wait.
    await sv.run(calls.groups("start", [name]));
    dropRemovalRecord(sv.layout, name);
  } else if (converge && x.action === "unchanged") {
    return (await convergeRunning(sv, [name], { wait: x.plan.input.wait, start: true })).get(name) ?? "unchanged";
  }
  return x.action;
}

/**
 * `apply` takes over a file whose program is already the one it would write and whose header
 * names another owner (`worker add`): the file is rewritten, and nothing restarts (supervisord
 * compares parsed programs, not comments). Call with the lock held.
 */
export function takeOver(p: AddPlan, current: string | null): boolean {
  if (p.input.owner !== "apply" || current === null || current === p.content || !isManaged(current) || !sameProgram(current, p.content)) {
    return false;
  }
  writeAtomic(p.file, p.content, programFileMode(p.content));
  return true;
}

/** How a worker's action reads in "worker NAME was ..., but ...". */
const ACTION_WORDS: Record<AddAction, string> = {
  created: "created",
  replaced: "replaced",
  unchanged: "unchanged",
  started: "unchanged and not running, so it was started",
  waited: "unchanged and already starting",
};

/** The health wait after an add that did `action`; `since`: log sizes before it (a failure report shows only later lines), or all lines without. */
async function waitAfterAdd(sv: SupervisordClient, p: AddPlan, action: AddAction, since: Map<string, number> | undefined): Promise<void> {
  const name = p.result.worker.name;
  try {
    await waitHealthy(sv, sv.world.programs(), [name], { since });
  } catch (e) {
    if (!(e instanceof VexoError && e.code === "start_failed")) throw e;
    throw new VexoError("start_failed", `worker ${name} was ${ACTION_WORDS[action]}, but ${e.message}`, {
      hint: e.hint,
      details: { ...e.details, file: p.file },
    });
  }
}
