import type { ApplyResult, FieldChange } from "../../core/results.js";
import type { Output } from "../../output.js";
import { invalid } from "../../errors.js";
import { defineCommand } from "../command.js";
import { renderPlan } from "./plan.js";

const show = (v: unknown) => (v === null ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));
const changeLine = (c: FieldChange) => `${c.field}: ${show(c.from)} -> ${show(c.to)}`;

function renderWorkers(out: Output, r: ApplyResult): void {
  const c = out.colors;
  const verb = r.dryRun
    ? {
        created: "would create",
        replaced: "would replace",
        removed: "would remove",
        unchanged: "unchanged",
        started: "would start (unchanged, not running)",
        waited: "would wait for (unchanged, starting)",
      }
    : {
        created: c.green("created"),
        replaced: c.yellow("replaced"),
        removed: c.red("removed"),
        unchanged: "unchanged",
        started: c.green("started (unchanged, was not running)"),
        waited: "waited (unchanged, was starting)",
      };
  for (const w of r.workers) {
    out.info(
      `${verb[w.action]} ${c.bold(w.name)}${w.action === "replaced" && w.changes.length === 0 ? " (the program file's text differs)" : ""}`,
    );
    for (const ch of w.changes) out.info(`  ${changeLine(ch)}`);
  }
  if (r.workers.length === 0) out.info("no workers in the file");
}

export default defineCommand({
  path: "apply",
  description: "make this host's workers what FILE says: create, replace (only what differs) and, with --prune, remove",
  examples: ["vexo-sv apply /etc/vexo-sv/workers.json --json", "vexo-sv apply workers.json --prune --prune-path /var/www/app --dry-run"],
  define: (c) =>
    c
      .argument(
        "<file>",
        'a JSON workers file ({"workers": [{"name", "path", ...}]}; schema: docs/schemas/workers-file.json), or - for stdin',
      )
      .option("--prune", "also remove workers vexo-sv wrote that the file does not name")
      .option("--prune-path <dir>", "with --prune: remove only workers of this application path (several apps, a file each)")
      .option("--allow-root", "let workers run as root (user root, or no user under a root supervisord); refused without it")
      .option("--dry-run", "print what would change, worker by worker and field by field; change nothing")
      .option("--no-wait", "return once supervisord took the changes, without checking the processes come up"),
  async input({ args, opts }, validate) {
    const { issuePath, parse, pathSchema, workersFileSchema, z } = await validate();
    const { readWorkersFile } = await import("../../core/workers-file.js");
    const file = String(args[0]);
    const prunePath = opts.prunePath === undefined ? null : parse(z.object({ prunePath: pathSchema }), opts).prunePath;
    if (prunePath !== null && !opts.prune) throw invalid("prunePath", "limits --prune; give --prune too");
    let doc: unknown;
    try {
      doc = JSON.parse(await readWorkersFile(file));
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      throw invalid("file", `${file} is not JSON: ${e.message}`);
    }
    const r = workersFileSchema.safeParse(doc);
    if (!r.success) {
      const issue = r.error.issues[0];
      const key = issue?.code === "unrecognized_keys" ? String(issue.keys[0]) : undefined;
      const message =
        key !== undefined
          ? "is not a field of a worker (or of the file)"
          : /received undefined$/u.test(issue?.message ?? "")
            ? "is required"
            : (issue?.message ?? "is not valid");
      throw invalid(issuePath(issue?.path ?? [], key), message);
    }
    const seen = new Map<string, number>();
    for (const [i, w] of r.data.workers.entries()) {
      const first = seen.get(w.name);
      if (first !== undefined) throw invalid(`workers[${i}].name`, `${w.name} is given twice (also workers[${first}])`);
      seen.set(w.name, i);
    }
    return {
      specs: r.data.workers,
      prune: Boolean(opts.prune),
      prunePath,
      allowRoot: Boolean(opts.allowRoot),
      dryRun: Boolean(opts.dryRun),
      wait: opts.wait !== false,
    };
  },
  async run(input, ctx) {
    const sv = await ctx.supervisor();
    const { applyConvergence, planApply } = await import("../../core/apply.js");
    const plan = await planApply(sv, { ...input, onProgress: (m) => ctx.progress(m) }, { reread: input.dryRun });
    for (const w of plan.warnings) ctx.warn(w);
    if (input.dryRun) return { ...plan.result, dryRun: true };
    if (plan.result.workers.some((w) => w.action !== "unchanged")) ctx.progress("applying the changes");
    return applyConvergence(sv, plan);
  },
  render(r, out) {
    renderWorkers(out, r);
    if (r.dryRun) renderPlan(out, r.plan);
  },
});
