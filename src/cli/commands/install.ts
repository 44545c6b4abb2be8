import type { VexoCommand as Command } from "../model.js";
import { VexoError } from "../../errors.js";
import { type Ctx, layoutOf } from "../context.js";

export function registerInstall(program: Command, ctx: Ctx): void {
  program
    .command("install")
    .description("make sure a supervisord is installed and running (the system's, or a private one with --prefix)")
    .examples("sudo vexo-sv install", "vexo-sv install --prefix ./sv   # private, no root needed")
    .option("--prefix <dir>", "set up and start a private supervisord under DIR (no root needed)")
    .action(async (o: { prefix?: string }) => {
      if (o.prefix === undefined) {
        const { installSystem } = await import("../../core/install-system.js");
        const r = await installSystem({ onOutput: (l: string) => ctx.out.progress(l) });
        ctx.result = {
          data: r,
          human: (out) => {
            out.info(
              r.changed
                ? `supervisor ${r.version} ready (${r.actions.join(", ")})`
                : `supervisor ${r.version} already installed and running`,
            );
            out.info(`config: ${r.config}; programs in ${r.confDir}`);
          },
        };
        return;
      }
      const { installPrefix } = await import("../../core/install.js");
      const r = await installPrefix(o.prefix, (l: string) => ctx.out.progress(l));
      ctx.result = {
        data: r,
        human: (out) => {
          out.info(
            r.started
              ? `started a private supervisord (pid ${r.pid ?? "?"}) for ${r.config}`
              : `private supervisord already running (pid ${r.pid ?? "?"})`,
          );
          out.info("point every other command at it with:");
          out.data(r.export);
        },
      };
    });

  program
    .command("shutdown")
    .description("stop the supervisord of --config (and its programs); returns once its pid is gone")
    .examples("vexo-sv --config ./sv/supervisord.conf shutdown")
    .option("--force", "also shut down the system supervisord (/etc/...)")
    .action(async (o: { force?: boolean }) => {
      const { DEFAULT_CONFIGS, resolveLayout } = await import("../../core/layout.js");
      const { shutdownSupervisord } = await import("../../core/install.js");
      const layout = resolveLayout(layoutOf(ctx.globals));
      if (DEFAULT_CONFIGS.includes(layout.config) && !o.force) {
        throw new VexoError("usage", `${layout.config} is the system supervisord; shutting it down stops every program on this machine`, {
          hint: "use `systemctl stop supervisor`, or add --force if you mean it",
        });
      }
      const r = await shutdownSupervisord(layout, () => ctx.out.progress("waiting for supervisord to stop its programs..."));
      ctx.result = {
        data: r,
        human: (out) => out.info(r.changed ? `supervisord (pid ${r.pid ?? "?"}) stopped` : "supervisord was not running"),
      };
    });
}
