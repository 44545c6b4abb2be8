import type { LogLine } from "../../core/results.js";
import { jsonLine } from "../../core/json-line.js";
import { printable } from "../../output.js";
import { defineCommand } from "../command.js";

export default defineCommand({
  path: "logs",
  description: "show the last lines of a worker's process logs, or of supervisord's own log",
  examples: ["vexo-sv logs app-queue -n 100"],
  define: (c) =>
    c
      .argument("[name]", "worker name (omit for supervisord's log)")
      .option("-n, --lines <n>", "lines per process (with --follow, 0: only lines written from now on)", "50")
      .option("--process <k>", "only process K (0-based)")
      .option("-f, --follow", "keep printing new lines until interrupted (survives log rotation); NDJSON with --json"),
  async input({ args, opts }, validate) {
    const { parse, nameSchema, intInRange, z } = await validate();
    const follow = Boolean(opts.follow);
    // `-f -n 0` is `tail -n0 -f`: nothing of what is there, every line from now on.
    const schema = z.object({
      name: z.optional(nameSchema),
      lines: intInRange(follow ? 0 : 1, 100000),
      process: z.optional(intInRange(0, 99)),
    });
    return { ...parse(schema, { name: args[0], lines: opts.lines, process: opts.process }), follow };
  },
  async run(input, ctx) {
    const sv = await ctx.supervisor();
    for (const w of (await import("../../core/config-trust.js")).layoutWarnings(sv.world)) ctx.warn(w);
    const { followLogs, readLogs } = await import("../../core/logs.js");
    const r = readLogs(sv.world, input);
    for (const k of r.skipped ?? []) ctx.warn(k.reason);
    if (!input.follow) return r;
    const label = r.files.length > 1;
    const print = (l: LogLine) =>
      ctx.emit(ctx.globals.json ? jsonLine(l) : label ? `${l.process} | ${printable(l.line)}` : printable(l.line));
    for (const l of r.lines) await print(l);
    await followLogs(r.files, print, ctx.signal);
    return r;
  },
  streams: (input) => input.follow,
  render(r, out) {
    const label = r.files.length > 1;
    for (const l of r.lines) out.data(label ? `${out.colors.cyan(l.process)} | ${printable(l.line)}` : printable(l.line));
  },
});
