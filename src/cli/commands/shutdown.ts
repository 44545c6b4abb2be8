import { defineCommand } from "../command.js";

export default defineCommand({
  path: "shutdown",
  description: "stop the supervisord of --config (and its programs); returns once its pid is gone",
  examples: ["vexo-sv --config ./sv/supervisord.conf shutdown"],
  define: (c) => c.option("--force", "also shut down the system supervisord (/etc/...)"),
  input: ({ opts }) => ({ force: Boolean(opts.force) }),
  async run(input, ctx) {
    const { DEFAULT_CONFIGS, findConfig } = await import("../../core/layout.js");
    // Decided before the config is read: a test (or a typo) must never reach the system supervisord.
    const config = findConfig(ctx.globals.config);
    if (DEFAULT_CONFIGS.includes(config) && !input.force) {
      const { VexoError } = await import("../../errors.js");
      throw new VexoError("usage", `${config} is the system supervisord; shutting it down stops every program on this machine`, {
        hint: "use `systemctl stop supervisor`, or add --force if you mean it",
      });
    }
    const sv = await ctx.supervisor();
    const { shutdownSupervisord } = await import("../../core/supervisord.js");
    return shutdownSupervisord(sv, () => ctx.progress("waiting for supervisord to stop its programs..."));
  },
  render: (r, out) => out.info(r.changed ? `supervisord (pid ${r.pid ?? "?"}) stopped` : "supervisord was not running"),
});
