import { defineCommand } from "../command.js";
import { renderPlan } from "./plan.js";

export default defineCommand({
  path: "worker rm",
  description: "stop workers and remove their program files",
  examples: ["vexo-sv worker rm app-queue", "vexo-sv worker rm app-queue app-mail --missing-ok"],
  define: (c) =>
    c
      .argument("<names...>", "worker names (every one is checked before any is removed)")
      .option("--force", "also remove a program file that vexo-sv did not write")
      .option("--missing-ok", "succeed with changed=false for a name that is no worker")
      .option("--dry-run", "print what would be done, change nothing"),
  async input({ args, opts }, validate) {
    const { parse, nameSchema, z } = await validate();
    const { names } = parse(z.object({ names: z.array(nameSchema) }), { names: args[0] });
    return { names, force: Boolean(opts.force), missingOk: Boolean(opts.missingOk), dryRun: Boolean(opts.dryRun) };
  },
  async run(input, ctx) {
    const sv = await ctx.supervisor();
    const { planRemoveAll } = await import("../../core/remove.js");
    const { applyRemoveAll } = await import("../../core/remove-batch.js");
    const plan = await planRemoveAll(sv, input);
    return input.dryRun ? { ...plan.result, dryRun: true } : applyRemoveAll(sv, plan, (m) => ctx.progress(m));
  },
  render(r, out) {
    if (r.dryRun) return renderPlan(out, r.plan);
    for (const w of r.workers)
      out.info(w.changed ? `removed worker ${out.colors.bold(w.name)} (${w.file})` : `no worker ${w.name}; nothing to do`);
  },
});
