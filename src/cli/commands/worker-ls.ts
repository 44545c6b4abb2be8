import { exitsText, windowWords } from "../../core/exit-words.js";
import { humanBytes, stateColor, table } from "../../output.js";
import { defineCommand } from "../command.js";

export default defineCommand({
  path: "worker ls",
  description: "list every program in supervisord's include directory, with its state",
  examples: ["vexo-sv worker ls --json", "vexo-sv worker ls --window 15m"],
  define: (c) => c.option("--window <duration>", "count exits over this window: 90s, 15m, 1h, up to 24h", "1h"),
  async input({ opts }, validate) {
    if (opts.window === "1h") return { windowSeconds: 3600 }; // the default: no zod loaded for it
    const { parse, durationInRange, z } = await validate();
    return { windowSeconds: parse(z.object({ window: durationInRange(10, 86400) }), { window: opts.window }).window };
  },
  async run(input, ctx) {
    const sv = await ctx.supervisor();
    for (const w of (await import("../../core/config-trust.js")).layoutWarnings(sv.world)) ctx.warn(w);
    const { listWorkers } = await import("../../core/report.js");
    const r = await listWorkers(sv, input);
    for (const w of r.warnings) ctx.warn(w);
    if (r.exitsNote) ctx.warn(`exits: ${r.exitsNote}`);
    return r;
  },
  render(r, out) {
    if (r.workers.length === 0) {
      out.info(
        `no programs yet${r.confDir ? ` in ${r.confDir}` : ""}; add one with \`vexo-sv worker add --name NAME --path /var/www/app\``,
      );
      return;
    }
    const memory = (w: (typeof r.workers)[number]) => {
      const up = w.processes.filter((p) => p.pid !== null);
      return up.length === 0 ? "-" : humanBytes(up.some((p) => p.rssBytes === null) ? null : up.reduce((n, p) => n + (p.rssBytes ?? 0), 0));
    };
    const rows = r.workers.map((w) => [
      w.name,
      w.managed ? "yes" : "no",
      `${w.running ?? "?"}/${w.total}`,
      {
        text: w.state + (w.loaded === false ? " (not loaded)" : "") + (w.stale ? ", stale" : ""),
        paint: stateColor(w.state, out.colors),
      },
      memory(w),
      exitsText(w.exits),
      w.spec ? `${w.spec.connection}:${w.spec.queue.join(",")}` : "-",
      w.spec?.path ?? "-",
    ]);
    const header = ["NAME", "MANAGED", "PROCS", "STATE", "MEM", `EXITS/${windowWords(r.exitsWindowSeconds)}`, "QUEUES", "PATH"];
    for (const line of table(rows, header)) out.data(line);
  },
});
