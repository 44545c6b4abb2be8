import { Option } from "commander";
import { VexoCommand } from "./model.js";
import { registerCompletion } from "./commands/completion.js";
import { registerInstall } from "./commands/install.js";
import { registerLogs } from "./commands/logs.js";
import { registerStatus } from "./commands/status.js";
import { registerWorker } from "./commands/worker.js";
import type { Ctx } from "./context.js";

declare const __VERSION__: string;
export const VERSION = typeof __VERSION__ === "string" ? __VERSION__ : "0.0.0-dev";

/** Builds the whole command tree. Exported so tests (and the docs generator) can use it. */
export function buildProgram(ctx: Ctx): VexoCommand {
  const program = new VexoCommand("vexo-sv")
    .description("Manage Laravel queue workers under Supervisor")
    .examples("vexo-sv worker add --name app-queue --path /var/www/app --procs 3", "vexo-sv worker ls", "vexo-sv status --check")
    .version(VERSION, "-V, --version")
    .addOption(new Option("--config <file>", "supervisord's main config").env("VEXO_SV_CONFIG"))
    .addOption(new Option("--conf-dir <dir>", "program directory (default: from [include] files=)").env("VEXO_SV_CONF_DIR"))
    .addOption(
      new Option("--log-dir <dir>", "worker log directory (default: childlogdir, else /var/log/supervisor)").env("VEXO_SV_LOG_DIR"),
    )
    .option("--json", "print exactly one JSON document on stdout; no colour, no progress")
    .option("-q, --quiet", "print only data and errors")
    .option("--no-color", "no colour (also NO_COLOR)")
    .showSuggestionAfterError(true)
    .exitOverride();
  registerWorker(program, ctx);
  registerInstall(program, ctx);
  registerLogs(program, ctx);
  registerStatus(program, ctx);
  registerCompletion(program, ctx);
  program.hook("preAction", (_this, action) => {
    const g = action.optsWithGlobals() as Record<string, unknown>;
    ctx.globals = {
      config: g.config as string | undefined,
      confDir: g.confDir as string | undefined,
      logDir: g.logDir as string | undefined,
      json: Boolean(g.json),
      quiet: Boolean(g.quiet),
      color: g.color !== false,
    };
  });
  return program;
}
