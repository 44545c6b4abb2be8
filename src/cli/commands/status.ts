import { EXIT } from "../../errors.js";
import { exitsText, windowWords } from "../../core/exit-words.js";
import { shownPath } from "../../core/trust.js";
import { humanBytes, shortUptime, stateColor } from "../../output.js";
import { defineCommand } from "../command.js";

export default defineCommand({
  path: "status",
  description: "supervisord and every process of every program; --check for monitoring",
  examples: [
    "vexo-sv status",
    "vexo-sv status --check   # exit 0 healthy, 3 not, 1 supervisord cannot be asked (cron, monitoring)",
    "vexo-sv status --check --window 15m --max-exits 3",
  ],
  define: (c) =>
    c
      .option(
        "--check",
        "exit 3 unless every process of every managed worker is RUNNING (paused counts as healthy), none crash-loops (--max-exits) and none runs stale code",
      )
      .option("--window <duration>", "count exits over this window: 90s, 15m, 1h, up to 24h", "1h")
      .option("--max-exits <n>", "with --check: more unexpected exits than this within the window is a crash loop", "5")
      .option("--allow-stale", "with --check: list workers that run stale code without failing the check")
      .option("--format <format>", "text, or prometheus: the text exposition format node_exporter's textfile collector reads", "text")
      .option("--textfile <dir>", "write the metrics to DIR/vexo-sv.prom atomically (node_exporter's textfile directory)"),
  async input({ opts, globals }, validate) {
    if (opts.format !== "text" && opts.format !== "prometheus") {
      const { invalid } = await import("../../errors.js");
      throw invalid("format", `must be text or prometheus (got ${JSON.stringify(String(opts.format).slice(0, 40))})`);
    }
    if (opts.format === "prometheus" && globals.json) {
      const { VexoError } = await import("../../errors.js");
      throw new VexoError(
        "usage",
        "--format prometheus prints the exposition format, not JSON: drop --json (or use --textfile DIR with --json)",
      );
    }
    const format: "text" | "prometheus" = opts.format;
    const textfile = typeof opts.textfile === "string" ? opts.textfile : undefined;
    if (textfile !== undefined) {
      const { parse, pathSchema, z } = await validate();
      parse(z.object({ textfile: pathSchema }), { textfile });
    }
    const base = { check: Boolean(opts.check), allowStale: Boolean(opts.allowStale), format, textfile };
    // The defaults need no checking (and `status` loads no zod for them).
    if (opts.window === "1h" && opts.maxExits === "5") return { ...base, windowSeconds: 3600, maxExits: 5 };
    const { parse, durationInRange, intInRange, z } = await validate();
    const schema = z.object({ window: durationInRange(10, 86400), maxExits: intInRange(0, 100000) });
    const v = parse(schema, { window: opts.window, maxExits: opts.maxExits });
    return { ...base, windowSeconds: v.window, maxExits: v.maxExits };
  },
  async run(input, ctx) {
    const sv = await ctx.supervisor();
    for (const w of (await import("../../core/config-trust.js")).layoutWarnings(sv.world)) ctx.warn(w);
    const { statusReport } = await import("../../core/report.js");
    if (input.format === "text" && input.textfile === undefined) {
      const r = await statusReport(sv, input);
      if (r.exitsNote) ctx.warn(`exits: ${r.exitsNote}`);
      return r;
    }
    // Metrics: a collection that fails still says so (a file with vexo_sv_collection_success 0), then fails.
    const prom = await import("../../core/prometheus.js");
    const publish = async (text: string) => {
      if (input.textfile !== undefined) return prom.writeTextfile(input.textfile, text);
      await ctx.emit(text.trimEnd());
      return undefined;
    };
    let r;
    try {
      r = await statusReport(sv, { ...input, version: false });
    } catch (e) {
      const { VexoError } = await import("../../errors.js");
      if (e instanceof VexoError) await publish(prom.renderMetrics(prom.failedCollection(e.code, Date.now() / 1000)));
      throw e;
    }
    if (r.exitsNote) ctx.warn(`exits: ${r.exitsNote}`);
    const textfile = await publish(prom.renderMetrics(prom.statusMetrics(r, Date.now() / 1000)));
    return textfile === undefined ? { ...r, metricsPrinted: true } : { ...r, textfile };
  },
  exitCode: (r, input) => (input.check && !r.healthy ? EXIT.unhealthy : EXIT.ok),
  render(r, out, input) {
    const c = out.colors;
    if ("metricsPrinted" in r) return; // printed as it was made
    if (r.textfile !== undefined && !input.check) {
      out.info(`wrote ${r.textfile}`);
      return;
    }
    if (input.check) {
      // Paused counts as healthy, and says so: "healthy" alone over workers that all sit paused would mislead.
      const managed = r.workers.filter((w) => w.managed);
      const paused = managed.filter((w) => w.state === "paused").map((w) => w.name);
      const also = paused.length > 0 ? ` (${paused.length} of ${managed.length} workers paused: ${paused.join(", ")})` : "";
      if (r.healthy) out.info(`${c.green("healthy")}${also}`);
      else if (also) out.info(also.trim().replace(/^\((.*)\)$/u, "$1"));
      for (const p of r.problems) out.data(p);
      return;
    }
    out.data(
      r.supervisord.running
        ? `supervisord ${c.green("running")} pid ${r.supervisord.pid ?? "?"} version ${r.supervisord.version ?? "?"} (${r.config})`
        : `supervisord ${c.red("not reachable")} (${r.config})`,
    );
    const window = windowWords(r.exitsWindowSeconds);
    for (const w of r.workers) {
      const exits = exitsText(w.exits);
      const notes = [
        ...(w.stale ? [c.yellow("stale code")] : []),
        ...(exits !== "-" ? [`exits in ${window}: ${w.exits && w.exits.unexpected > 0 ? c.yellow(exits) : exits}`] : []),
      ];
      out.data(
        `${c.bold(w.name)}${w.managed ? "" : c.dim(" (not managed)")}  ${stateColor(w.state, c)(w.state)}  ${w.running ?? "?"}/${w.total}${notes.length ? `  ${notes.join("  ")}` : ""}`,
      );
      for (const p of w.processes) {
        const detail =
          p.state === "RUNNING"
            ? `pid ${p.pid} up ${shortUptime(p.uptimeSeconds)}  mem ${humanBytes(p.rssBytes)}  cpu ${p.cpuSeconds === null ? "?" : `${p.cpuSeconds.toFixed(1)}s`}${p.stale ? `  stale: runs in ${p.cwd === null ? "?" : shownPath(p.cwd)}` : ""}`
            : p.description;
        out.data(`  ${p.fullName.padEnd(28)} ${p.state.padEnd(9)} ${detail}`.trimEnd());
      }
    }
  },
});
