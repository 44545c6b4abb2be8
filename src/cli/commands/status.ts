import { EXIT } from "../../errors.js";
import { stateColor } from "../../output.js";
import { defineCommand } from "../command.js";

/** Seconds as the largest two units: 2d3h, 4h5m, 6m7s. */
export function shortUptime(s: number | null): string {
  if (s === null) return "";
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d${h}h` : h ? `${h}h${m}m` : `${m}m${s % 60}s`;
}

export default defineCommand({
  path: "status",
  description: "supervisord and every process of every program; --check for monitoring",
  examples: ["vexo-sv status", "vexo-sv status --check   # exit 0 healthy, 3 not (cron, monitoring)"],
  define: (c) => c.option("--check", "exit 3 unless every process of every managed worker is RUNNING (paused counts as healthy)"),
  input: ({ opts }) => ({ check: Boolean(opts.check) }),
  async run(_input, ctx) {
    const sv = await ctx.supervisor();
    for (const w of (await import("../../core/config-trust.js")).layoutWarnings(sv.world)) ctx.warn(w);
    const { statusReport } = await import("../../core/report.js");
    return statusReport(sv);
  },
  exitCode: (r, input) => (input.check && !r.healthy ? EXIT.unhealthy : EXIT.ok),
  render(r, out, input) {
    const c = out.colors;
    if (input.check) {
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
      out.data(`${c.bold(w.name)}${w.managed ? "" : c.dim(" (not managed)")}  ${stateColor(w.state, c)(w.state)}  ${w.running}/${w.total}`);
      for (const p of w.processes) {
        const detail = p.state === "RUNNING" ? `pid ${p.pid} up ${shortUptime(p.uptimeSeconds)}` : p.description;
        out.data(`  ${p.fullName.padEnd(28)} ${p.state.padEnd(9)} ${detail}`.trimEnd());
      }
    }
  },
});
