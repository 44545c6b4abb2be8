import type { ControlAction } from "../../core/control.js";
import type { StaleWorker, WorkerOutcome } from "../../core/results.js";
import { shownPath } from "../../core/trust.js";
import { processDetail } from "../../output.js";
import { type CommandDef, defineCommand, type VexoCommand } from "../command.js";
import { renderPlan } from "./plan.js";

// start, stop, restart, pause and resume take the same arguments and give the same result; they
// differ in a description, an example and a few flags, so one definition makes all five.

const ABOUT: Record<ControlAction, { description: string; example: string }> = {
  start: { description: "start workers' processes and check they stay up", example: "vexo-sv worker start app-queue" },
  stop: {
    description: "stop workers' processes (each finishes its current job, up to stopwaitsecs)",
    example: "vexo-sv worker stop --all",
  },
  restart: {
    description:
      "restart workers: stop then start, or --graceful, or --rolling, and wait until every process is back; --stale: only those that run stale code",
    example: "vexo-sv worker restart --stale --graceful",
  },
  pause: {
    description:
      "pause workers: each process finishes the job in hand and stops (up to stopwaitsecs), and stays stopped until resume; status counts it healthy",
    example: "vexo-sv worker pause app-queue",
  },
  resume: { description: "start paused workers again and check they stay up", example: "vexo-sv worker resume app-queue" },
};

const PAST: Record<ControlAction, string> = { start: "started", stop: "stopped", restart: "restarted", pause: "paused", resume: "resumed" };

const outcomeLine = (o: WorkerOutcome) => `${o.worker}: ${o.outcome}${o.detail ? ` (${o.detail})` : ""}`;

/** A stale worker: where its processes ran and where its path resolves now. */
function staleLine(s: StaleWorker, dryRun: boolean): string {
  // Where a process runs is its own user's choice (a newline would forge a line): quoted like any path.
  const dirs = [...new Set(s.processes.map((p) => shownPath(p.cwd)))].join(", ");
  const resolves = shownPath(s.path);
  return dryRun
    ? `${s.worker}: runs stale code (in ${dirs}; its path resolves to ${resolves}): would restart`
    : `${s.worker}: ran stale code (in ${dirs}; its path resolves to ${resolves})`;
}

function defineFlags(action: ControlAction, c: VexoCommand): void {
  c.argument("[names...]", "worker names").option("--all", "every worker vexo-sv manages (never other programs)");
  if (action === "restart") {
    c.option(
      "--stale",
      "only the workers that run stale code (their path resolves elsewhere since they started: a new release); with names, only those of them; paused workers stay paused",
    )
      .option(
        "--graceful",
        "signal workers to finish their job and exit (no stopwaitsecs cut); autorestart brings them back, and the command waits for the new processes",
      )
      .option("--rolling", "restart one process at a time, each RUNNING again before the next")
      // --wait before --no-wait: commander then leaves the default unset (scripts that said --wait keep working).
      .option("--wait", "wait until every process is back, RUNNING past startsecs (the default)");
  }
  if (action === "start" || action === "restart" || action === "resume") c.option("--no-wait", "do not check that the processes come up");
  c.option(
    "--dry-run",
    `print the supervisorctl calls${action === "pause" || action === "resume" ? " and pause records" : ""} it would make, change nothing`,
  );
}

function controlCommand(action: ControlAction) {
  return defineCommand({
    path: `worker ${action}`,
    description: ABOUT[action].description,
    examples: [ABOUT[action].example],
    define: (c) => defineFlags(action, c),
    async input({ args, opts }, validate) {
      const { parse, nameSchema, z } = await validate();
      const { names } = parse(z.object({ names: z.array(nameSchema) }), { names: args[0] ?? [] });
      if (opts.graceful && opts.rolling) {
        const { VexoError } = await import("../../errors.js");
        throw new VexoError("usage", "--graceful and --rolling: pick one");
      }
      const mode = opts.graceful ? "graceful" : opts.rolling ? "rolling" : "plain";
      // Every mode waits unless --no-wait: a graceful restart too, until the new processes run.
      const wait = opts.wait !== false;
      const stale = Boolean(opts.stale);
      return { action, names, all: Boolean(opts.all), stale, mode, wait, dryRun: Boolean(opts.dryRun) } as const;
    },
    async run(input, ctx) {
      const sv = await ctx.supervisor();
      const { controlWorkers } = await import("../../core/control.js");
      return controlWorkers(sv, { ...input, onProgress: (m) => ctx.progress(m) });
    },
    render(r, out) {
      if (r.workers.length === 0) {
        out.info(r.stale ? "no worker runs stale code; nothing to do" : "no managed workers; nothing to do");
        for (const o of r.outcomes ?? []) if (o.outcome === "paused") out.info(outcomeLine(o));
        return;
      }
      for (const s of r.stale ?? []) out.info(staleLine(s, r.dryRun));
      if (r.plan) {
        renderPlan(out, r.plan);
        if (r.plan.supervisorctl.length === 0) out.info("nothing would be done");
        return;
      }
      // With stale, the restarted ones are said above; the rest only when not plainly current.
      // start, stop and restart: one line for the workers done as asked; pause and resume: a line each.
      const plain = r.stale || ["start", "stop", "restart"].includes(r.action);
      const said = (o: WorkerOutcome) => (r.stale ? ["restarted", "not-stale"] : [PAST[r.action]]).includes(o.outcome);
      for (const o of r.outcomes ?? []) if (!plain || !said(o)) out.info(outcomeLine(o));
      if (!r.outcomes || plain) out.info(`${PAST[r.action]}: ${r.workers.join(", ")}`);
      for (const p of r.processes) out.data(`${p.fullName}  ${p.state}  ${processDetail(p)}`.trimEnd());
    },
  });
}

export const controlCommands: CommandDef<any, any>[] = (["start", "stop", "restart", "pause", "resume"] as const).map(controlCommand);
