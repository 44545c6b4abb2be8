import { stateColor, table } from "../../output.js";
import { defineCommand } from "../command.js";

export default defineCommand({
  path: "worker ls",
  description: "list every program in supervisord's include directory, with its state",
  examples: ["vexo-sv worker ls --json"],
  input: () => ({}),
  async run(_input, ctx) {
    const sv = await ctx.supervisor();
    for (const w of (await import("../../core/config-trust.js")).layoutWarnings(sv.world)) ctx.warn(w);
    const { listWorkers } = await import("../../core/report.js");
    const r = await listWorkers(sv);
    for (const w of r.warnings) ctx.warn(w);
    return r;
  },
  render(r, out) {
    if (r.workers.length === 0) {
      out.info(
        `no programs yet${r.confDir ? ` in ${r.confDir}` : ""}; add one with \`vexo-sv worker add --name NAME --path /var/www/app\``,
      );
      return;
    }
    const rows = r.workers.map((w) => [
      w.name,
      w.managed ? "yes" : "no",
      `${w.running}/${w.total}`,
      { text: w.state + (w.loaded === false ? " (not loaded)" : ""), paint: stateColor(w.state, out.colors) },
      w.spec ? `${w.spec.connection}:${w.spec.queue.join(",")}` : "-",
      w.spec?.path ?? "-",
    ]);
    for (const line of table(rows, ["NAME", "MANAGED", "PROCS", "STATE", "QUEUES", "PATH"])) out.data(line);
  },
});
