import path from "node:path";
import { defineCommand } from "../command.js";

export default defineCommand({
  path: "shutdown",
  description: "stop the supervisord of --config (and its programs); returns once its pid is gone",
  examples: ["vexo-sv --config ./sv/supervisord.conf shutdown"],
  define: (c) => c.option("--force", "also shut down the system supervisord (/etc/...)"),
  input: ({ opts }) => ({ force: Boolean(opts.force) }),
  async run(input, ctx) {
    const { DEFAULT_CONFIGS } = await import("../../core/rules.js");
    // Decided on the name alone, before any file is read: a test (or a typo) must never reach the
    // system supervisord, on a host that has one or not. No --config means the system's.
    const given = ctx.globals.config === undefined ? undefined : path.resolve(ctx.globals.config);
    if ((given === undefined || DEFAULT_CONFIGS.includes(given)) && !input.force) {
      const { VexoError } = await import("../../errors.js");
      throw new VexoError(
        "usage",
        `${given ?? "the system config"} is the system supervisord; shutting it down stops every program on this machine`,
        {
          hint: "use `systemctl stop supervisor`, or add --force if you mean it",
        },
      );
    }
    const sv = await ctx.supervisor();
    const { shutdownSupervisord } = await import("../../core/supervisord.js");
    return shutdownSupervisord(sv, () => ctx.progress("waiting for supervisord to stop its programs..."));
  },
  render: (r, out) => out.info(r.changed ? `supervisord (pid ${r.pid ?? "?"}) stopped` : "supervisord was not running"),
});
