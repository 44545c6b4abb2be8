import { defineCommand } from "../command.js";

// For the completion scripts: worker names, one a line, from the program files alone (no
// supervisorctl, no colour), and nothing at all when they cannot be read.
export default defineCommand({
  path: "__complete-workers",
  description: "worker names for shell completion",
  examples: [],
  hidden: true,
  input: () => ({}),
  async run(_input, ctx) {
    try {
      const sv = await ctx.supervisor();
      const { nameProblem } = await import("../../core/rules.js");
      // Only names that pass the name rule: a hand-written `[program:x$(cmd)]` never reaches a shell.
      return {
        names: sv.world
          .programs()
          .map((e) => e.name)
          .filter((n) => !nameProblem(n)),
      };
    } catch {
      return { names: [] as string[] };
    }
  },
  render: (r, out) => {
    if (r.names.length) out.raw(`${r.names.join("\n")}\n`);
  },
});
