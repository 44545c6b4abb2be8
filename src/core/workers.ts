import fs from "node:fs";
import path from "node:path";
import type * as z from "zod/mini";
import { invalid, VexoError } from "../errors.js";
import { waitHealthy } from "./control.js";
import { acquireLock, ensureDir, readIfExists, removeFile, sweepTempFiles, writeAtomic } from "./fsutil.js";
import { type Layout, type LayoutOptions, programFile, resolveLayout } from "./layout.js";
import { isManaged, parseProgramFile } from "./parse.js";
import { pauseFile } from "./pause.js";
import { logPath, renderProgram } from "./render.js";
import { FLAG_OF, unsafeReason, type WorkerSpec, type WorkerSpecInput, workerSpecSchema } from "./spec.js";
import { assertReachable, ctl, ctlArgv, faultReason, probe, runCtl } from "./supervisorctl.js";
import { isExecutable, supervisordUid, userExists } from "./system.js";
import type { AddResult, Plan, RemoveResult } from "./results.js";

export interface MutationOptions extends LayoutOptions {
  dryRun?: boolean;
  /** Seconds to wait for another run's lock. */
  lockWait?: number;
}

const DEFAULT_LOCK_WAIT = 600;

/** Validates a spec, turning zod issues into one exit-2 error that names the flag. */
export function validateSpec(input: WorkerSpecInput): WorkerSpec {
  const r = workerSpecSchema.safeParse(input);
  if (r.success) return r.data;
  throw issuesToError(r.error, FLAG_OF, "worker add");
}

/** The first zod issue as an invalid-input error naming its flag and the command's help. */
export function issuesToError(err: z.core.$ZodError, flagOf: Record<string, string>, command: string): VexoError {
  const issue = err.issues[0];
  const key = String(issue?.path[0] ?? "");
  const flag = flagOf[key] ?? (key ? `--${key}` : "input");
  return invalid(flag, issue?.message ?? "is not valid", `see \`vexo-sv ${command} --help\` for what each flag takes`);
}

export interface AddOptions extends MutationOptions {
  spec: WorkerSpecInput;
  replace?: boolean;
  /** Wait until the processes run (or report their failure); default true. */
  wait?: boolean;
}

/** What writing `content` over `existing` would be; throws for a foreign file or a change without --replace. */
function classify(file: string, name: string, existing: string | null, content: string, replace: boolean): AddResult["action"] {
  if (existing === null) return "created";
  if (!isManaged(existing)) {
    throw new VexoError("not_managed", `${file} exists and was not written by vexo-sv; it is never overwritten`, {
      hint: "pick another --name, or move that file away first",
    });
  }
  if (existing === content) return "unchanged";
  if (!replace) {
    throw new VexoError("exists", `worker ${name} exists with a different spec`, {
      hint: "add --replace to rewrite it (restarts that worker's processes only); --replace --dry-run shows the new file first",
      details: { file },
    });
  }
  return "replaced";
}

/** Every mutation: supervisord must answer (else nothing is written), then the lock, then tidy temp files. */
async function lockForMutation(layout: Layout, opts: MutationOptions) {
  await probe(layout);
  const lock = await acquireLock(layout.confDir, opts.lockWait ?? DEFAULT_LOCK_WAIT);
  sweepTempFiles(layout.confDir);
  return lock;
}

/** Checks what only the machine can tell: artisan is there, the user and php exist. */
async function checkEnvironment(spec: WorkerSpec): Promise<void> {
  const artisan = path.join(spec.path, "artisan");
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(artisan);
  } catch {
    st = undefined;
  }
  if (!st?.isFile()) {
    throw invalid("--path", `${spec.path} holds no artisan file; give the Laravel application's root directory`);
  }
  if (path.isAbsolute(spec.php) && !isExecutable(spec.php)) {
    throw invalid("--php", `${spec.php} is not an executable file`);
  }
  if (spec.user !== null && !(await userExists(spec.user))) {
    throw invalid("--user", `no user named ${spec.user} on this machine`, "create it, or pass --user with an existing one");
  }
}

/** Creates or (with replace) changes one worker, touching no other group. */
export async function addWorker(opts: AddOptions): Promise<AddResult> {
  let spec = validateSpec(opts.spec);
  const layout = resolveLayout(opts);
  const file = programFile(layout, spec.name);
  const warnings: string[] = [];

  // supervisord can only switch users when it runs as root.
  const uid = supervisordUid(layout);
  if (uid !== null && uid !== 0 && spec.user !== null) {
    warnings.push(`supervisord runs as uid ${uid}, not root, so user=${spec.user} is left out: the worker runs as supervisord's user`);
    spec = { ...spec, user: null };
  }
  await checkEnvironment(spec);
  const logDirProblem = unsafeReason(layout.logDir, { spaces: true, max: 4096 });
  if (logDirProblem) throw invalid("--log-dir", logDirProblem);

  const content = renderProgram(spec, layout.logDir);
  const logs = Array.from({ length: spec.procs }, (_, i) => logPath(layout.logDir, spec.name, i));
  const existing = readIfExists(file);
  let action = classify(file, spec.name, existing, content, Boolean(opts.replace));
  const plan: Plan = {
    mkdirs: fs.existsSync(layout.logDir) ? [] : [layout.logDir],
    writes: action === "unchanged" ? [] : [{ path: file, content }],
    removes: [],
    // Also when unchanged: it completes a run that was killed between write and update,
    // and is a no-op for a group that is already up to date.
    supervisorctl: [ctlArgv(layout, ctl.update(spec.name))],
  };
  const result: AddResult = {
    changed: action !== "unchanged",
    action,
    dryRun: Boolean(opts.dryRun),
    worker: spec,
    file,
    config: layout.config,
    logs,
    plan,
    warnings,
  };
  if (opts.dryRun) return result;

  const lock = await lockForMutation(layout, opts);
  try {
    // Re-read under the lock: a parallel run may have written it meanwhile.
    const current = readIfExists(file);
    if (current !== existing) {
      action = classify(file, spec.name, current, content, Boolean(opts.replace));
      result.action = action;
      result.changed = action !== "unchanged";
    }
    ensureDir(layout.logDir);
    if (action !== "unchanged") writeAtomic(file, content);
    await applyUpdate(layout, spec.name, () => {
      if (action === "unchanged") return;
      if (current === null) removeFile(file);
      else writeAtomic(file, current);
    });
  } finally {
    lock.release();
  }
  // An unchanged worker started nothing; one stopped on purpose stays stopped.
  if (opts.wait !== false && result.action !== "unchanged") {
    try {
      await waitHealthy(layout, parseProgramFile(file, content), [spec.name]);
    } catch (e) {
      if (e instanceof VexoError && e.code === "start_failed") {
        throw new VexoError("start_failed", `worker ${spec.name} was ${action}, but ${e.message}`, {
          ...(e.hint ? { hint: e.hint } : {}),
          details: { ...e.details, file },
        });
      }
      throw e;
    }
  }
  return result;
}

/** Runs `update NAME`; on rejection runs `rollback` and throws with supervisord's reason. */
async function applyUpdate(layout: Layout, name: string, rollback: () => void, tolerate?: RegExp): Promise<string> {
  const r = await runCtl(layout, ctl.update(name));
  const bad = r.exitCode !== 0 || /^(ERROR|error)\b/mu.test(r.output) || /Fault/u.test(r.output);
  if (!bad || tolerate?.test(r.output)) return r.output;
  rollback();
  assertReachable(layout, r.output);
  throw new VexoError("supervisord_rejected", `supervisord rejected the change: ${faultReason(r.output)}`, {
    hint: "the previous state was restored; fix the file named above (a broken file anywhere in the include directory blocks every update) and run again",
    details: { output: r.output.trim() },
  });
}

export interface RemoveOptions extends MutationOptions {
  name: string;
  force?: boolean;
  missingOk?: boolean;
}

/** Stops a worker's processes, deletes its file and unloads its group. */
export async function removeWorker(opts: RemoveOptions): Promise<RemoveResult> {
  const r = workerSpecSchema.shape.name.safeParse(opts.name);
  if (!r.success) throw issuesToError(r.error, { "": "NAME" }, "worker rm");
  const name = opts.name;
  const layout = resolveLayout(opts);
  const file = programFile(layout, name);
  const existing = readIfExists(file);
  const plan: Plan = {
    mkdirs: [],
    writes: [],
    removes: [file],
    supervisorctl: [ctlArgv(layout, ctl.groups("stop", [name])), ctlArgv(layout, ctl.update(name))],
  };
  const result: RemoveResult = { changed: true, dryRun: Boolean(opts.dryRun), name, file, config: layout.config, plan };
  if (existing === null) {
    if (opts.missingOk) return { ...result, changed: false, plan: { ...plan, removes: [], supervisorctl: [] } };
    throw new VexoError("not_found", `no worker named ${name} (no ${file})`, {
      hint: "see `vexo-sv worker ls`; add --missing-ok to make this a no-op in scripts",
    });
  }
  if (!isManaged(existing) && !opts.force) {
    throw new VexoError("not_managed", `${file} was not written by vexo-sv`, {
      hint: "add --force to remove it anyway",
    });
  }
  if (opts.dryRun) return result;

  const lock = await lockForMutation(layout, opts);
  try {
    const current = readIfExists(file);
    if (current === null) {
      // A parallel rm won the race: the end state is what was asked for.
      if (opts.missingOk) return { ...result, changed: false, plan: { ...plan, removes: [], supervisorctl: [] } };
      throw new VexoError("not_found", `no worker named ${name} (removed meanwhile)`);
    }
    const stop = await runCtl(layout, ctl.groups("stop", [name]));
    assertReachable(layout, stop.output);
    // "no such group": the file was never loaded; nothing to stop.
    if (stop.exitCode !== 0 && !/no such group|not running/iu.test(stop.output)) {
      throw new VexoError("supervisorctl_failed", `could not stop ${name}: ${faultReason(stop.output)}`, {
        hint: "nothing was removed; check `vexo-sv worker ls` and run again",
      });
    }
    removeFile(file);
    removeFile(pauseFile(layout, name));
    // "no such group": the file was never loaded, so there is nothing to unload.
    await applyUpdate(layout, name, () => writeAtomic(file, current), /^ERROR: no such group/mu);
  } finally {
    lock.release();
  }
  return result;
}

export type { AddResult, Plan, RemoveResult };
