import { exitsText, windowWords } from "../../core/exit-words.js";
import { shownPath } from "../../core/trust.js";
import { humanBytes, shortUptime, stateColor } from "../../output.js";
import { defineCommand } from "../command.js";

export default defineCommand({
  path: "worker show",
  description: "one worker in full: its spec, file, processes (memory, CPU, start, directory, stale code), exits by reason, logs",
  examples: ["vexo-sv worker show app-queue", "vexo-sv worker show app-queue --window 15m --json"],
  define: (c) =>
    c.argument("<name>", "worker name").option("--window <duration>", "count exits over this window: 90s, 15m, 1h, up to 24h", "1h"),
  async input({ args, opts }, validate) {
    const { parse, durationInRange, nameSchema, z } = await validate();
    const v = parse(z.object({ name: nameSchema, window: durationInRange(10, 86400) }), { name: args[0], window: opts.window });
    return { name: v.name, windowSeconds: v.window };
  },
  async run(input, ctx) {
    const sv = await ctx.supervisor();
    for (const w of (await import("../../core/config-trust.js")).layoutWarnings(sv.world)) ctx.warn(w);
    const { showWorker } = await import("../../core/report.js");
    const r = await showWorker(sv, input.name, input);
    if (r.exitsNote) ctx.warn(`exits: ${r.exitsNote}`);
    return r;
  },
  render(r, out) {
    const c = out.colors;
    const w = r.worker;
    const field = (k: string, v: string) => out.data(`${`${k}:`.padEnd(12)} ${v}`);
    field("worker", `${c.bold(w.name)}${w.managed ? "" : c.dim(" (not managed by vexo-sv)")}`);
    field("state", `${stateColor(w.state, c)(w.state)} ${w.running ?? "?"}/${w.total}${w.stale ? `, ${c.yellow("stale code")}` : ""}`);
    field("file", w.file);
    if (w.spec) {
      const s = w.spec;
      field("command", `${s.php} ${s.path}/artisan queue:work ${s.connection} --queue=${s.queue.join(",")}`);
      field("user", s.user ?? "(supervisord's own)");
    } else if (w.parseError) field("spec", `not readable: ${w.parseError}`);
    field(`exits/${windowWords(r.exitsWindowSeconds)}`, exitsText(w.exits));
    for (const e of w.exits?.recent ?? []) {
      out.data(`  ${e.time}  ${e.reason}${e.status !== null ? ` (exit status ${e.status})` : e.signal ? ` (${e.signal})` : ""}`);
    }
    for (const p of w.processes) {
      out.data(`${c.bold(p.fullName)}  ${p.state}${p.pid !== null ? `  pid ${p.pid}` : ""}`);
      if (p.pid !== null) {
        out.data(
          `  up ${shortUptime(p.uptimeSeconds)} (since ${p.startedAt ?? "?"})  mem ${humanBytes(p.rssBytes)}  cpu ${p.cpuSeconds === null ? "?" : `${p.cpuSeconds.toFixed(1)}s`}`,
        );
        out.data(
          `  cwd ${p.cwd === null ? "? (not known)" : shownPath(p.cwd)}${p.stale ? c.yellow("  stale: its path now resolves elsewhere") : ""}`,
        );
      } else if (p.description) out.data(`  ${p.description}`);
    }
    for (const l of w.logs) field("log", l);
  },
});
