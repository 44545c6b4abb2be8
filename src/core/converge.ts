import { isPaused } from "./pause.js";
import { readPauseRecord } from "./records.js";
import type { ProcessStatus } from "./results.js";
import { DOWN, UP } from "./states.js";
import { type SupervisordClient, calls } from "./supervisorctl.js";
import { supervisordPid } from "./supervisord.js";

// `worker add` and `apply` converge on running workers, not only on their files: a worker whose
// file is already what was asked for, but whose processes are not running, is started (or its
// start awaited), so that running the same command again never reports success on a worker that
// cannot boot. A paused worker is left paused: a pause is the one way to keep a worker stopped.

/** What converging an unchanged worker did: nothing, a start of its stopped processes, or a wait on processes already starting. */
export type RunAction = "unchanged" | "started" | "waited";

/**
 * What one unchanged worker needs, from its processes: `started` when any is stopped, exited or
 * FATAL; `unchanged` when every one is RUNNING; `waited` otherwise (STARTING, BACKOFF, STOPPING,
 * UNKNOWN, or not loaded at all: the health wait decides, and reports a worker that cannot boot).
 */
export function runAction(procs: ProcessStatus[]): RunAction {
  if (procs.some((p) => DOWN.has(p.state))) return "started";
  if (procs.length > 0 && procs.every((p) => UP.has(p.state))) return "unchanged";
  return "waited";
}

/**
 * Looks at the unchanged workers (one `status` call) and decides, for each not paused, whether it
 * must be started or its start awaited; with `start`, starts those that must be (one call).
 * Without `wait`, a worker that is only coming up is left `unchanged` (nobody waits on it).
 * Returns each worker's action.
 */
export async function convergeRunning(
  sv: SupervisordClient,
  names: string[],
  opts: { wait: boolean; start: boolean },
): Promise<Map<string, RunAction>> {
  const actions = new Map<string, RunAction>();
  if (names.length === 0) return actions;
  const procs = await sv.status(names);
  const svPid = supervisordPid(sv.layout);
  for (const name of names) {
    const own = procs.filter((p) => p.group === name);
    const action = isPaused(readPauseRecord(sv.layout, name), own, svPid) ? "unchanged" : runAction(own);
    actions.set(name, action === "waited" && !opts.wait ? "unchanged" : action);
  }
  const toStart = names.filter((n) => actions.get(n) === "started");
  if (opts.start && toStart.length > 0) await sv.run(calls.groups("start", toStart));
  return actions;
}

/**
 * For a dry run: what convergeRunning would do (status only, nothing started). When supervisord
 * cannot be asked, nothing is known: the workers stay `unchanged` in the plan, and the warning
 * says that this is a guess, not an answer (a real run would ask, and start or wait).
 */
export async function previewRunning(
  sv: SupervisordClient,
  names: string[],
  wait: boolean,
): Promise<{ actions: Map<string, RunAction>; warning?: string }> {
  try {
    return { actions: await convergeRunning(sv, names, { wait, start: false }) };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      actions: new Map(),
      warning: `whether ${names.join(", ")} run is not known (${why}): a real run asks supervisord, and starts or waits for any that do not`,
    };
  }
}

/** The supervisorctl call that starting these workers makes, for a plan. */
export function startCall(sv: SupervisordClient, names: string[]): string[][] {
  return names.length > 0 ? [sv.argv(calls.groups("start", names))] : [];
}
