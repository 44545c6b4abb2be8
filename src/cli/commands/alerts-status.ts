import { defineCommand } from "../command.js";
import { renderSettings } from "./alerts-enable.js";

export default defineCommand({
  path: "alerts status",
  description: "whether alerts are enabled, their settings, the listener's process and the end of its log",
  examples: ["vexo-sv alerts status", "vexo-sv alerts status --json"],
  input: () => ({}),
  async run(_input, ctx) {
    const sv = await ctx.supervisor();
    const { alertsStatus } = await import("../../core/alerts/status.js");
    const r = await alertsStatus(sv);
    for (const w of r.warnings) ctx.warn(w);
    return r;
  },
  render(r, out) {
    const c = out.colors;
    if (!r.enabled) return out.info(`alerts are ${c.bold("not enabled")} (no ${r.file})`);
    const l = r.listener;
    out.info(
      `alerts ${c.green("enabled")}: listener ${c.bold("vexo-sv-alerts")} ${l ? `${l.state} ${l.description}` : "not loaded by supervisord"}`,
    );
    if (r.settings) renderSettings(out, r.settings);
    out.info(`  log: ${r.log}`);
    for (const line of r.recent) out.data(`    ${line}`);
  },
});
