import { VexoError } from "../errors.js";
import { beforeMutation, lockForMutation, updateGroups } from "./mutation.js";
import { stopGroupsInLanes, stopsBeforeLock } from "./prestop.js";
import {
  finishRemoval,
  NO_SUCH_GROUP,
  type PreparedRemoval,
  prepareRemoval,
  type RemoveAllPlan,
  type RemovePlan,
  removeLocked,
  restoreRemoved,
  stopIfRemoving,
} from "./remove.js";
import type { RemoveResult } from "./results.js";
import type { SupervisordClient } from "./supervisorctl.js";

// `worker rm A B C...`: one removal is stopped before the lock, then removed under it with its
// own `update NAME`. Several are a batch: their stops before the lock run in lanes (lanes.ts),
// then under one lock each gets its removal record and loses its file, and ONE `update A B C...`
// unloads them all (a stop and an update each cost a supervisord tick and a Python start each).
// A failure of one never stops the others: each worker is removed or put back as it was, and the
// error names both. A run killed anywhere leaves removal records that a rerun finishes (records.ts).

type Workers = RemoveResult["workers"];

/** Does planned removals; returns a new result (the plan is left as it was). */
export async function applyRemoveAll(sv: SupervisordClient, p: RemoveAllPlan, onProgress?: (msg: string) => void): Promise<RemoveResult> {
  if (!p.result.changed) return { ...p.result };
  const workers = p.result.workers.map((w) => ({ ...w }));
  const changing = p.removals.filter((r) => r.result.changed);
  if (changing.length === 1) {
    const only = changing[0] as RemovePlan;
    const w = workers.find((x) => x.name === only.input.name) as Workers[number];
    w.changed = (await removeOne(sv, only)).changed;
  } else {
    const failed = await removeMany(sv, p, workers, onProgress);
    if (failed.size > 0) throw partlyRemoved(p, workers, failed);
  }
  return { ...p.result, workers, changed: workers.some((w) => w.changed) };
}

async function removeOne(sv: SupervisordClient, r: RemovePlan) {
  await beforeMutation(sv);
  const stopped = await stopIfRemoving(sv, r);
  const lock = await lockForMutation(sv, r.input.lockWaitSeconds);
  try {
    return await removeLocked(sv, r, { stopped });
  } finally {
    lock.release();
  }
}

/** The stops before the lock, in lanes; a lane that failed is not an error here: its workers are stopped under the lock, each on its own, and a failure there is theirs alone. */
async function stopInLanes(sv: SupervisordClient, changing: RemovePlan[], onProgress?: (msg: string) => void): Promise<Set<string>> {
  const names = changing.filter(
    (r) => r.result.plan.removes.length > 0 && stopsBeforeLock(r.file, { force: r.input.force, changes: () => true }),
  );
  return (
    await stopGroupsInLanes(
      sv,
      names.map((r) => r.input.name),
      onProgress,
    )
  ).stopped;
}

/** The batch under one lock; returns the workers not removed, each with why (the others are done). */
async function removeMany(
  sv: SupervisordClient,
  p: RemoveAllPlan,
  workers: Workers,
  onProgress?: (msg: string) => void,
): Promise<Map<string, VexoError>> {
  const changing = p.removals.filter((r) => r.result.changed);
  await beforeMutation(sv);
  const stopped = await stopInLanes(sv, changing, onProgress);
  const failed = new Map<string, VexoError>();
  const lock = await lockForMutation(sv, p.input.lockWaitSeconds);
  try {
    const prepared: Exclude<PreparedRemoval, { kind: "done" }>[] = [];
    for (const r of changing) {
      const w = workers.find((x) => x.name === r.input.name) as Workers[number];
      try {
        const x = await prepareRemoval(sv, r, { stopped: stopped.has(r.input.name) });
        if (x.kind === "done") w.changed = x.removal.changed;
        else prepared.push(x);
      } catch (e) {
        if (!(e instanceof VexoError)) throw e;
        failed.set(r.input.name, e);
      }
    }
    await unloadAll(sv, prepared, failed);
  } finally {
    lock.release();
  }
  return failed;
}

/** One `update` naming every prepared removal; each one it refused is put back as it was. */
async function unloadAll(
  sv: SupervisordClient,
  prepared: Exclude<PreparedRemoval, { kind: "done" }>[],
  failed: Map<string, VexoError>,
): Promise<void> {
  let refused: VexoError | null = null;
  let perName: ReadonlyMap<string, string> = new Map();
  try {
    const u = await updateGroups(
      sv,
      prepared.map((x) => x.plan.input.name),
      NO_SUCH_GROUP,
    );
    if (u.refused !== null) refused = rejected(u.refused, u.output);
    perName = u.failed;
  } catch (e) {
    // supervisord gone mid-batch: every file is put back, so nothing is half removed where supervisord looks.
    if (!(e instanceof VexoError)) throw e;
    refused = e;
  }
  for (const x of prepared) {
    const name = x.plan.input.name;
    const why = refused ?? (perName.has(name) ? rejected(perName.get(name) as string, perName.get(name) as string) : null);
    if (why && x.kind === "removed") await restoreRemoved(sv, x);
    else finishRemoval(sv, x);
    if (why) failed.set(name, why);
  }
}

const rejected = (reason: string, output: string) =>
  new VexoError("supervisord_rejected", `supervisord rejected the change: ${reason}`, {
    hint: "those not removed were put back as they were; fix the cause and run the same command again",
    details: { output: output.trim() },
  });

/** A batch where some were not removed: the message says which were and which were not, and why. */
function partlyRemoved(p: RemoveAllPlan, workers: Workers, failed: Map<string, VexoError>): VexoError {
  const first = [...failed.values()][0] as VexoError;
  const removed = workers.filter((w) => w.changed && !failed.has(w.name)).map((w) => w.name);
  const notRemoved = p.result.workers.filter((w) => failed.has(w.name)).map((w) => w.name);
  for (const w of workers) if (failed.has(w.name)) w.changed = false;
  const each = notRemoved.map((n) => `${n} (${failed.get(n)?.message})`).join("; ");
  const what = `${removed.length > 0 ? `removed: ${removed.join(", ")}` : "none was removed"}; not removed: ${each}`;
  return new VexoError(first.code, `${failed.size} of ${workers.length} worker(s) could not be removed: ${what}`, {
    hint: first.hint,
    details: { ...first.details, removed, notRemoved, workers },
  });
}
