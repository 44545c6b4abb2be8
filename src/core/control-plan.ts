import fs from "node:fs";
import { splitLanes } from "./lanes.js";
import { pauseRecordPath, stateDir } from "./records.js";
import type { ControlResult, Plan, ProcessStatus } from "./results.js";
import { ACTIVE } from "./states.js";
import { type CtlCall, calls, type SupervisordClient } from "./supervisorctl.js";
import { supervisordPid } from "./supervisord.js";

// `--dry-run` of start, stop, restart, pause and resume: the calls each mode would make, batched
// in lanes as the real run makes them (lanes.ts), and the pause records it would change.

/** The text of a pause record written now. */
export const pauseRecord = (sv: SupervisordClient) =>
  `${JSON.stringify({ at: new Date(sv.io.now()).toISOString(), supervisordPid: supervisordPid(sv.layout) })}\n`;

/** What a dry run knows: the targets, their processes now, and the plan being filled in. */
interface DryContext {
  sv: SupervisordClient;
  names: string[];
  procs: ProcessStatus[];
  plan: Plan;
}

/** One call per lane, as the run makes them. */
const inLanes = (verb: "start" | "stop" | "restart", names: string[]) => splitLanes(names).map((lane) => calls.groups(verb, lane));

const groupCall = (verb: "start" | "stop" | "restart") => async (d: DryContext) => inLanes(verb, d.names);

/** Each mode as a dry run: the calls it would make (and, for pause and resume, the pause records it would change). */
const PLANS: Record<string, (d: DryContext) => Promise<CtlCall[]>> = {
  "start:plain": groupCall("start"),
  "stop:plain": groupCall("stop"),
  "restart:plain": groupCall("restart"),
  "restart:graceful": async (d) => [calls.signal("TERM", d.names)],
  "restart:rolling": async (d) => d.procs.map((p) => calls.restartProcess(p.fullName)),
  "pause:plain": async (d) => {
    const active = d.names.filter((n) => d.procs.some((p) => p.group === n && ACTIVE.has(p.state)));
    if (active.length === 0) return [];
    if (!fs.existsSync(stateDir(d.sv.layout))) d.plan.mkdirs.push(stateDir(d.sv.layout));
    d.plan.writes = active.map((n) => ({ path: pauseRecordPath(d.sv.layout, n), content: pauseRecord(d.sv) }));
    return inLanes("stop", active);
  },
  "resume:plain": async (d) => {
    const paused = d.names.filter((n) => fs.existsSync(pauseRecordPath(d.sv.layout, n)));
    d.plan.removes = paused.map((n) => pauseRecordPath(d.sv.layout, n));
    return inLanes("start", paused);
  },
};

/** A dry run: the plan of what the mode would do and the processes as they are (`before`: as read already); nothing is changed. */
export async function dryRun(sv: SupervisordClient, result: ControlResult, before?: ProcessStatus[]): Promise<ControlResult> {
  const { workers: names, action, mode } = result;
  const procs = before ?? (await sv.status(names));
  const plan: Plan = { mkdirs: [], writes: [], removes: [], supervisorctl: [] };
  // Any start, stop or restart ends a pause (see controlWorkers).
  if (action !== "pause" && action !== "resume")
    plan.removes = names.map((n) => pauseRecordPath(sv.layout, n)).filter((f) => fs.existsSync(f));
  const calls = await (PLANS[`${action}:${mode}`] as (d: DryContext) => Promise<CtlCall[]>)({ sv, names, procs, plan });
  plan.supervisorctl = calls.map((c) => sv.argv(c));
  return { ...result, supervisorctl: plan.supervisorctl, processes: procs, plan };
}
