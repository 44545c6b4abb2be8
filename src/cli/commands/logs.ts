import type { VexoCommand as Command } from "../model.js";
import { type Ctx, layoutOf } from "../context.js";

export function registerLogs(program: Command, ctx: Ctx): void {
  program
    .command("logs")
    .description("show the last lines of a worker's process logs, or of supervisord's own log")
    .examples("vexo-sv logs app-queue -n 100")
    .argument("[name]", "worker name (omit for supervisord's log)")
    .option("-n, --lines <n>", "lines per process", "50")
    .option("--process <k>", "only process K (0-based)")
    .option("-f, --follow", "keep printing new lines until interrupted (survives log rotation); NDJSON with --json")
    .action(async (name: string | undefined, o: Record<string, unknown>) => {
      const { parseFlags, logsFlags } = await import("../flags.js");
      const { followLogs, readLogs } = await import("../../core/logs.js");
      const f = parseFlags(logsFlags, o, { lines: "--lines", process: "--process" }, "logs");
      const r = readLogs({ ...layoutOf(ctx.globals), name, lines: f.lines, process: f.process });
      if (o.follow) {
        const label = r.files.length > 1;
        const print = (l: { process: string; line: string }) =>
          process.stdout.write(
            ctx.globals.json ? `${JSON.stringify(l)}\n` : `${label ? `${ctx.out.colors.cyan(l.process)} | ` : ""}${l.line}\n`,
          );
        for (const l of r.lines) print(l);
        const stop = new AbortController();
        // Ctrl-C (or a TERM from a script) ends the stream normally: exit 0.
        process.once("SIGINT", () => stop.abort());
        process.once("SIGTERM", () => stop.abort());
        await followLogs(r.files, print, stop.signal);
        return;
      }
      ctx.result = {
        data: r,
        human: (out) => {
          const label = r.files.length > 1;
          for (const l of r.lines) out.data(label ? `${out.colors.cyan(l.process)} | ${l.line}` : l.line);
        },
      };
    });
}
