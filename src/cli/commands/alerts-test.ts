import { defineCommand } from "../command.js";

export default defineCommand({
  path: "alerts test",
  description: "run the alert command once, now, with a test alert on its stdin (as the listener runs it, from this shell's environment)",
  examples: ["vexo-sv alerts test"],
  input: () => ({}),
  async run(_input, ctx) {
    const sv = await ctx.supervisor();
    const { testAlert } = await import("../../core/alerts/status.js");
    return testAlert(sv, process.env);
  },
  render(r, out) {
    out.info(`the alert command ran and exited 0 in ${r.ms} ms`);
    if (r.output) out.data(r.output.trimEnd());
  },
});
