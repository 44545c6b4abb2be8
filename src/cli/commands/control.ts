import type { VexoCommand as Command } from "../model.js";
import type { ControlAction } from "../../core/control.js";
import type { Output } from "../../output.js";
import { type Ctx, layoutOf } from "../context.js";

const EXAMPLES: Record<ControlAction, string> = {
  start: "vexo-sv worker start app-queue",
  stop: "vexo-sv worker stop --all",
  restart: "vexo-sv worker restart app-queue --graceful",
  pause: "vexo-sv worker pause app-queue",
  resume: "vexo-sv worker resume app-queue",
};

const DESCRIPTIONS: Record<ControlAction, string> = {
  start: "start workers' processes and check they stay up",
  stop: "stop workers' processes (each finishes its current job, up to stopwaitsecs)",
  restart: "restart workers: stop then start, or --graceful, or --rolling",
  pause: "pause workers: they finish the current job and take no new one (SIGUSR2)",
  resume: "resume paused workers (SIGCONT)",
};

export function registerControl(worker: Command, ctx: Ctx): void {
  for (const action of ["start", "stop", "restart", "pause", "resume"] as const) {
    const cmd = worker
      .command(action)
      .description(DESCRIPTIONS[action])
      .examples(EXAMPLES[action])
      .argument("[names...]", "worker names")
      .option("--all", "every worker vexo-sv manages (never other programs)");
    if (action === "restart") {
      // --wait before --no-wait: commander then leaves the default unset, so each mode picks its own.
      cmd
        .option("--graceful", "signal workers to finish their job and exit; autorestart brings them back (no wait for stopwaitsecs)")
        .option("--rolling", "restart one process at a time, each RUNNING again before the next")
        .option("--wait", "with --graceful: return once every process is back");
    }
    if (action === "start" || action === "restart") {
      cmd.option("--no-wait", "do not check that the processes come up");
    }
    if (action === "pause") {
      cmd.option("--no-wait", "do not wait one poll interval to check that the pause held");
    }
    cmd.action(async (names: string[], o: { all?: boolean; wait?: boolean; graceful?: boolean; rolling?: boolean }) => {
      if (o.graceful && o.rolling) {
        const { VexoError } = await import("../../errors.js");
        throw new VexoError("usage", "--graceful and --rolling: pick one", { hint: "see `vexo-sv worker restart --help`" });
      }
      const graceful = Boolean(o.graceful);
      const { controlWorkers } = await import("../../core/control.js");
      const r = await controlWorkers({
        ...layoutOf(ctx.globals),
        action,
        names,
        all: o.all,
        // --graceful returns once signalled unless --wait; the others wait unless --no-wait.
        wait: graceful ? o.wait === true : o.wait !== false,
        graceful,
        rolling: o.rolling,
        onProgress: (m) => ctx.out.progress(m),
      });
      ctx.result = { data: r, human: (out: Output) => printControl(out, r.action, r.workers, r.processes) };
    });
  }
}

function printControl(
  out: Output,
  action: string,
  workers: string[],
  procs: { fullName: string; state: string; description: string }[],
): void {
  if (workers.length === 0) {
    out.info("no managed workers; nothing to do");
    return;
  }
  const done = { start: "started", stop: "stopped", restart: "restarted", pause: "paused", resume: "resumed" }[action] ?? action;
  out.info(`${done}: ${workers.join(", ")}`);
  for (const p of procs) out.data(`${p.fullName}  ${p.state}  ${p.description}`.trimEnd());
}
