import { VexoError } from "../errors.js";
import { readIfExists } from "./fsutil.js";
import { callInLanes } from "./lanes.js";
import { isManaged } from "./program-file.js";
import { type SupervisordClient, calls, faultReason, reportsError } from "./supervisorctl.js";

// Stopping a worker can take up to its stopwaitsecs: Laravel finishes the job in hand, and a
// process that ignores SIGTERM is waited out in full (3600 s is a common setting). supervisorctl
// waits with it, for `stop` and for the `update NAME` of a changed group alike. So replaced and
// removed workers are stopped BEFORE the mutation lock is taken: a change to one worker never
// makes a change to any other wait on its stop. Under the lock, their `update NAME` finds the
// group stopped and returns at once. A run killed after this stop leaves the worker stopped with
// its file in place, which the next run converges like any stopped worker. Before a replace
// stops a worker, one `reread` asks whether supervisord would take a change at all: a broken
// file anywhere in the include directory blocks every update, and a replace refused for it must
// leave the worker running as it was, not stopped and started again. (A removal refused so was
// always stopped first and started again; it stays so, at no extra call.)

/** Stops group NAME (`stop NAME:*`); an unloaded or already stopped group is fine. `consequence` ends the error message. */
export async function stopGroup(sv: SupervisordClient, name: string, consequence: string): Promise<void> {
  const stop = await sv.checked(calls.groups("stop", [name]));
  if (stop.exitCode !== 0 && !/no such group|not running/iu.test(stop.output)) {
    throw new VexoError("supervisorctl_failed", `could not stop ${name}: ${faultReason(stop.output)}; ${consequence}`);
  }
}

/**
 * Stops NAME before the lock when its program file is still one that may be changed (vexo-sv's,
 * or any with `force`) and `changes(current)` says this run will change it. Returns whether it
 * stopped it (a rejected change then starts it again). Everything is re-checked under the lock.
 */
export async function stopBeforeLock(
  sv: SupervisordClient,
  name: string,
  file: string,
  opts: { force: boolean; changes: (current: string) => boolean; consequence: string },
): Promise<boolean> {
  if (!stopsBeforeLock(file, opts)) return false;
  await stopGroup(sv, name, opts.consequence);
  return true;
}

/** Whether stopBeforeLock would stop the worker of `file` (read now): a file that may be changed, and that this run changes. */
export function stopsBeforeLock(file: string, opts: { force: boolean; changes: (current: string) => boolean }): boolean {
  const current = readIfExists(file);
  return current !== null && (isManaged(current) || opts.force) && opts.changes(current);
}

/**
 * The stops before the lock of a batch, in lanes (lanes.ts): returns the groups stopped, and
 * those of lanes that failed (each with why), which were perhaps not.
 */
export async function stopGroupsInLanes(
  sv: SupervisordClient,
  names: readonly string[],
  onProgress?: (msg: string) => void,
): Promise<{ stopped: Set<string>; failed: Map<string, string> }> {
  const progress = (done: number, total: number) => onProgress?.(`${done} of ${total} worker(s) stopped`);
  const lanes = await callInLanes(
    (c) => sv.checked(c),
    names,
    (lane) => calls.groups("stop", lane),
    { onProgress: progress },
  );
  const stopped = new Set<string>();
  const failed = new Map<string, string>();
  for (const l of lanes) {
    const out = l.result?.output ?? "";
    const why =
      l.error !== undefined
        ? (l.error as Error).message
        : l.result?.exitCode !== 0 && !/no such group|not running/iu.test(out)
          ? faultReason(out)
          : null;
    for (const n of l.items)
      if (why === null) stopped.add(n);
      else failed.set(n, why);
  }
  return { stopped, failed };
}

/** A `reread` line about one group (`NAME: available`), which is never an error whatever NAME is (a worker may be called ERROR). */
const GROUP_LINE = /^\S+: (available|changed|disappeared)$/u;

/** Throws supervisord_rejected, before anything is stopped or written, when `reread` says supervisord cannot read its config. */
export async function assertRereads(sv: SupervisordClient): Promise<void> {
  await sv.probe(); // supervisorctl's own words for a missing socket are a Python traceback here
  const r = await sv.checked(calls.reread());
  const own = r.output
    .split("\n")
    .filter((l) => !GROUP_LINE.test(l.trim()))
    .join("\n");
  if (r.exitCode === 0 && !reportsError(own, "")) return;
  throw new VexoError("supervisord_rejected", `supervisord rejected the change: ${faultReason(r.output)}`, {
    hint: "nothing was changed; fix the file named above (a broken file anywhere in the include directory blocks every update) and run again",
    details: { output: r.output.trim() },
  });
}
