import { defineCommand } from "../command.js";
import { renderPlan } from "./plan.js";

export default defineCommand({
  path: "worker rm",
  description: "stop a worker and remove its program file",
  examples: ["vexo-sv worker rm app-queue"],
  define: (c) =>
    c
      .argument("<name>", "worker name")
      .option("--force", "also remove a program file that vexo-sv did not write")
      .option("--missing-ok", "succeed with changed=false when there is no such worker")
      .option("--dry-run", "print what would be done, change nothing"),
  async input({ args, opts }, validate) {
    const { parse, nameSchema, z } = await validate();
    const { name } = parse(z.object({ name: nameSchema }), { name: args[0] });
    return { name, force: Boolean(opts.force), missingOk: Boolean(opts.missingOk), dryRun: Boolean(opts.dryRun) };
  },
  async run(input, ctx) {
    const sv = await ctx.supervisor();
    const { applyRemove, planRemove } = await import("../../core/workers.js");
    const plan = await planRemove(sv, input);
    return input.dryRun ? { ...plan.result, dryRun: true } : applyRemove(sv, plan);
  },
  render(r, out) {
    if (r.dryRun) return renderPlan(out, r.plan);
    out.info(r.changed ? `removed worker ${out.colors.bold(r.name)} (${r.file})` : `no worker ${r.name}; nothing to do`);
  },
});
