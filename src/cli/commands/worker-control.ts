import type { ControlAction } from "../../core/control.js";
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
    description: "restart workers: stop then start, or --graceful, or --rolling",
    example: "vexo-sv worker restart app-queue --graceful",
  },
  pause: {
    description:
      "pause workers: each process finishes the job in hand and stops (up to stopwaitsecs), and stays stopped until resume; status counts it healthy",
    example: "vexo-sv worker pause app-queue",
  },
  resume: { description: "start paused workers again and check they stay up", example: "vexo-sv worker resume app-queue" },
};

const PAST: Record<ControlAction, string> = { start: "started", stop: "stopped", restart: "restarted", pause: "paused", resume: "resumed" };

function defineFlags(action: ControlAction, c: VexoCommand): void {
  c.argument("[names...]", "worker names").option("--all", "every worker vexo-sv manages (never other programs)");
  if (action === "restart") {
    // --wait before --no-wait: commander then leaves the default unset, so each mode picks its own.
    c.option("--graceful", "signal workers to finish their job and exit; autorestart brings them back (no wait for stopwaitsecs)")
      .option("--rolling", "restart one process at a time, each RUNNING again before the next")
      .option("--wait", "with --graceful: return once every process is back");
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
      // --graceful returns once signalled unless --wait; the others wait unless --no-wait.
      const wait = mode === "graceful" ? opts.wait === true : opts.wait !== false;
      return { action, names, all: Boolean(opts.all), mode, wait, dryRun: Boolean(opts.dryRun) } as const;
    },
    async run(input, ctx) {
      const sv = await ctx.supervisor();
      const { controlWorkers } = await import("../../core/control.js");
      return controlWorkers(sv, { ...input, onProgress: (m) => ctx.progress(m) });
    },
    render(r, out) {
      if (r.workers.length === 0) return out.info("no managed workers; nothing to do");
      if (r.plan) {
        renderPlan(out, r.plan);
        if (r.plan.supervisorctl.length === 0) out.info("nothing would be done");
        return;
      }
      if (r.outcomes) for (const o of r.outcomes) out.info(`${o.worker}: ${o.outcome}${o.detail ? ` (${o.detail})` : ""}`);
      else out.info(`${PAST[r.action]}: ${r.workers.join(", ")}`);
      for (const p of r.processes) out.data(`${p.fullName}  ${p.state}  ${p.description}`.trimEnd());
    },
  });
}

export const controlCommands: CommandDef<any, any>[] = (["start", "stop", "restart", "pause", "resume"] as const).map(controlCommand);
