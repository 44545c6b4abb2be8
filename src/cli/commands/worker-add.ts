import fs from "node:fs";
import path from "node:path";
import { DEFAULTS } from "../../core/rules.js";
import { collect, defineCommand } from "../command.js";
import { renderPlan } from "./plan.js";

/**
 * The working directory as the shell shows it ($PWD, symlinks kept), when it is the real one: a
 * deploy's `current -> releases/N` must stay `current` in the program file, or a switch of the
 * link would never reach the worker.
 */
function logicalCwd(): string {
  const real = process.cwd();
  const pwd = process.env.PWD;
  try {
    if (pwd && path.isAbsolute(pwd) && fs.realpathSync(pwd) === real) return pwd;
  } catch {
    // $PWD is gone or unreadable: the real directory it is
  }
  return real;
}

export default defineCommand({
  path: "worker add",
  description: "create (or with --replace, change) a queue worker and start it",
  examples: ["vexo-sv worker add --name app-queue --path /var/www/app --procs 3 --queue high,default"],
  define: (c) =>
    c
      .requiredOption("--name <name>", "worker (program) name: letters, digits, '.', '_', '-'")
      .requiredOption("--path <dir>", "the Laravel application (holds artisan); relative to the working directory, symlinks kept as given")
      .option("--connection <name>", "queue connection", DEFAULTS.connection)
      .option("--queue <names>", "queues to work, comma-separated, highest priority first", DEFAULTS.queue)
      .option("--procs <n>", "number of processes (1-100)", String(DEFAULTS.procs))
      .option("--php <bin>", "PHP binary: a name on supervisord's PATH or an absolute path", DEFAULTS.php)
      .option("--user <user>", "user the processes run as (needs a root supervisord)", DEFAULTS.user)
      .option("--sleep <s>", "seconds to sleep when the queue is empty", String(DEFAULTS.sleep))
      .option("--tries <n>", "attempts before a job fails (0 = unlimited)", String(DEFAULTS.tries))
      .option("--max-time <s>", "seconds a process runs before it exits to be restarted (0 = no limit)", String(DEFAULTS.maxTime))
      .option("--timeout <s>", "seconds a job may run (Laravel's default: 60)")
      .option("--memory <mb>", "memory limit in MB before the process exits to be restarted")
      .option("--backoff <s>", "seconds before retrying a failed job")
      .option("--max-jobs <n>", "jobs a process runs before it exits to be restarted")
      .option(
        "--stopwaitsecs <s>",
        "seconds supervisord waits for a job to finish on stop; must exceed --timeout",
        String(DEFAULTS.stopwaitsecs),
      )
      .option(
        "--startsecs <s>",
        "seconds a process must run to count as started (supervisord's startsecs; 1-600): raise it for an app that boots slowly under load",
        String(DEFAULTS.startsecs),
      )
      .option("--log-max-mb <mb>", "rotate each process's log at this size in MB (0: never)", String(DEFAULTS.logMaxMb))
      .option("--log-backups <n>", "rotated logs kept per process (0-100)", String(DEFAULTS.logBackups))
      .option("--force-maintenance", "pass --force to queue:work: keep working in maintenance mode")
      .option("--env <KEY=VALUE>", "environment variable for the processes (repeatable)", collect, [])
      .option("--allow-root", "let the processes run as root (refused without it; never with code another user can write)")
      .option("--replace", "rewrite an existing worker whose spec differs (restarts that worker only)")
      .option("--dry-run", "print the file and the supervisorctl calls, change nothing")
      .option("--no-wait", "return once supervisord took the change, without checking the processes come up"),
  async input({ opts }, validate) {
    const { parse, workerSpecSchema } = await validate();
    const { replace, dryRun, wait, allowRoot, ...fields } = opts;
    if (typeof fields.path === "string" && fields.path !== "" && !path.isAbsolute(fields.path))
      fields.path = path.join(logicalCwd(), fields.path);
    const spec = parse(workerSpecSchema, { ...fields, forceMaintenance: Boolean(fields.forceMaintenance) });
    return { spec, replace: Boolean(replace), dryRun: Boolean(dryRun), wait: wait !== false, allowRoot: Boolean(allowRoot) };
  },
  async run(input, ctx) {
    const sv = await ctx.supervisor();
    const { applyAdd, planAdd, previewAdd } = await import("../../core/add.js");
    const plan = await planAdd(sv, input);
    for (const w of plan.result.warnings) ctx.warn(w);
    if (!input.dryRun) return applyAdd(sv, plan);
    const preview = await previewAdd(sv, plan);
    for (const w of preview.warnings.slice(plan.result.warnings.length)) ctx.warn(w);
    return { ...preview, dryRun: true };
  },
  render(r, out) {
    if (r.dryRun) return renderPlan(out, r.plan);
    const c = out.colors;
    const what = {
      created: c.green("created"),
      replaced: c.yellow("replaced"),
      unchanged: "unchanged",
      started: c.green("started (unchanged, was not running)"),
      waited: "unchanged (its start awaited)",
    }[r.action];
    out.info(
      `${what} worker ${c.bold(r.worker.name)} (${r.worker.procs} process${r.worker.procs > 1 ? "es" : ""}, running as ${c.bold(r.runsAs)}): ${r.file}`,
    );
    out.info(`logs: ${r.logs.join(", ")}`);
  },
});
