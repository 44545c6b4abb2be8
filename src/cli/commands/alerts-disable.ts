import { defineCommand } from "../command.js";
import { renderPlan } from "./plan.js";

export default defineCommand({
  path: "alerts disable",
  description: "remove the alerts listener and its settings (no other program is touched)",
  examples: ["vexo-sv alerts disable", "vexo-sv alerts disable --dry-run"],
  define: (c) => c.option("--dry-run", "print what would be removed and the supervisorctl call, change nothing"),
  input: ({ opts }) => ({ dryRun: Boolean(opts.dryRun) }),
  async run(input, ctx) {
    const sv = await ctx.supervisor();
    const { applyAlerts, planDisable } = await import("../../core/alerts/enable.js");
    const plan = planDisable(sv);
    return input.dryRun ? { ...plan.result, dryRun: true } : applyAlerts(sv, plan);
  },
  render(r, out) {
    if (r.dryRun) return renderPlan(out, r.plan);
    out.info(r.changed ? `alerts disabled: removed ${r.file} and ${r.settingsFile}` : "alerts are not enabled; nothing to do");
  },
});
