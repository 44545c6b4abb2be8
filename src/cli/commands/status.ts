import type { VexoCommand as Command } from "../model.js";
import { EXIT } from "../../errors.js";
import { type Ctx, layoutOf } from "../context.js";

function uptime(s: number | null): string {
  if (s === null) return "";
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d${h}h` : h ? `${h}h${m}m` : `${m}m${s % 60}s`;
}

export function registerStatus(program: Command, ctx: Ctx): void {
  program
    .command("status")
    .description("supervisord and every process of every program; --check for monitoring")
    .examples("vexo-sv status", "vexo-sv status --check   # exit 0 healthy, 3 not (cron, monitoring)")
    .option("--check", "exit 3 unless every process of every managed worker is RUNNING (paused counts as healthy)")
    .action(async (o: { check?: boolean }) => {
      const { statusReport } = await import("../../core/list.js");
      const r = await statusReport(layoutOf(ctx.globals));
      const exitCode = o.check && !r.healthy ? EXIT.unhealthy : EXIT.ok;
      ctx.result = {
        data: r,
        exitCode,
        human: (out) => {
          const c = out.colors;
          if (o.check) {
            if (r.healthy) out.info(c.green("healthy"));
            for (const p of r.problems) out.data(p);
            return;
          }
          out.data(
            r.supervisord.running
              ? `supervisord ${c.green("running")} pid ${r.supervisord.pid ?? "?"} version ${r.supervisord.version ?? "?"} (${r.config})`
              : `supervisord ${c.red("not reachable")} (${r.config})`,
          );
          for (const w of r.workers) {
            const paint = w.state === "running" ? c.green : w.state === "paused" ? c.cyan : w.state === "fatal" ? c.red : c.yellow;
            out.data(`${c.bold(w.name)}${w.managed ? "" : c.dim(" (not managed)")}  ${paint(w.state)}  ${w.running}/${w.total}`);
            for (const p of w.processes) {
              const detail = p.state === "RUNNING" ? `pid ${p.pid} up ${uptime(p.uptimeSeconds)}` : p.description;
              out.data(`  ${p.fullName.padEnd(28)} ${p.state.padEnd(9)} ${detail}`.trimEnd());
            }
          }
        },
      };
    });
}
