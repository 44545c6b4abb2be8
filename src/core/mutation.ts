import path from "node:path";
import { VexoError } from "../errors.js";
import { assertTrustedLayout } from "./config-trust.js";
import { acquireLock, type Lock, sweepTempFiles } from "./fsutil.js";
import { requireConfDir } from "./layout.js";
import { nameDefinedIn } from "./programs.js";
import type { Plan } from "./results.js";
import { assertReachable, type SupervisordClient, calls, faultReason, reportsError } from "./supervisorctl.js";

// What every change of a program file shares (add, rm, apply): the checks before anything is
// stopped or locked, the mutation lock, a name nobody else defines, and the scoped `update NAME`
// that rolls back when supervisord rejects the change.

const DEFAULT_LOCK_WAIT_SECONDS = 600;

/**
 * supervisord merges same-named sections from every file it reads: a name defined anywhere but
 * in vexo-sv's own file for it (another include, the main config, a [group:] that lists it) is
 * someone else's program, and is never written over, merged with or removed.
 */
export function assertNameFree(sv: SupervisordClient, name: string, cfg = sv.world.config()): void {
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
export async function beforeMutation(sv: SupervisordClient): Promise<void> {
  assertTrustedLayout(sv.world);
  await sv.probe();
}

/** Every mutation: beforeMutation, then the lock, then tidy temp files. */
export async function lockForMutation(sv: SupervisordClient, lockWaitSeconds = DEFAULT_LOCK_WAIT_SECONDS): Promise<Lock> {
  await beforeMutation(sv);
  const dir = requireConfDir(sv.layout);
  const lock = await acquireLock(dir, lockWaitSeconds);
  sweepTempFiles(dir);
  return lock;
}

/** Several plans as one, in order (what `rm a b` and `apply` print and return). */
export function concatPlans(plans: readonly Plan[]): Plan {
  return {
    mkdirs: [...new Set(plans.flatMap((p) => p.mkdirs))],
    writes: plans.flatMap((p) => p.writes),
    removes: plans.flatMap((p) => p.removes),
    supervisorctl: plans.flatMap((p) => p.supervisorctl),
  };
}

/** Runs `update NAME`; on rejection runs `rollback` and throws with supervisord's reason. */
export async function applyUpdate(
  sv: SupervisordClient,
  name: string,
  rollback: () => void | Promise<void>,
  tolerate?: RegExp,
): Promise<string> {
  const r = await sv.run(calls.update(name));
  const bad = r.exitCode !== 0 || reportsError(r.output, name);
  if (!bad || tolerate?.test(r.output)) return r.output;
  await rollback();
  assertReachable(sv.where, r.output);
  throw new VexoError("supervisord_rejected", `supervisord rejected the change: ${faultReason(r.output)}`, {
    hint: "the previous state was restored; fix the file named above (a broken file anywhere in the include directory blocks every update) and run again",
    details: { output: r.output.trim() },
  });
}

/** What one `update` naming several groups did: the whole refused (the config unreadable), or each name's own error. */
export interface UpdateOutcome {
  readonly output: string;
  /** supervisord's reason when nothing was applied (an error line that names none of the groups). */
  readonly refused: string | null;
  /** The groups supervisorctl reported an error for, each with its line. */
  readonly failed: ReadonlyMap<string, string>;
}

/**
 * Runs one `update A B C...` (one reread and one pass for all of them, where an update each
 * costs a Python start and a reread each). supervisorctl reports per group (`A: added process
 * group`, `ERROR: no such group: A`, `A: has problems; not removing`); `tolerate` matches the
 * lines that are fine for the caller.
 */
export async function updateGroups(sv: SupervisordClient, names: readonly string[], tolerate?: RegExp): Promise<UpdateOutcome> {
  if (names.length === 0) return { output: "", refused: null, failed: new Map() };
  const r = await sv.run(calls.updateGroups([...names]));
  assertReachable(sv.where, r.output);
  const failed = new Map<string, string>();
  let refused: string | null = null;
  for (const raw of r.output.split("\n")) {
    const line = raw.trim();
    if (line === "" || tolerate?.test(line)) continue;
    const own = /^ERROR: no such group: (\S+)$/u.exec(line)?.[1] ?? names.find((n) => line.startsWith(`${n}: `));
    if (own !== undefined && names.includes(own)) {
      if (!reportsError(line, own) && !/has problems/u.test(line)) continue;
      failed.set(own, line);
    } else if (reportsError(line, "")) refused ??= faultReason(r.output);
  }
  if (r.exitCode !== 0 && failed.size === 0 && refused === null && !tolerate) refused = faultReason(r.output);
  return { output: r.output, refused, failed };
}
