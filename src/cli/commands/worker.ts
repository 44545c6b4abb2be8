import type { VexoCommand as Command } from "../model.js";
import { DEFAULTS } from "../../core/defaults.js";
import type { Plan } from "../../core/workers.js";
import { type Output, table } from "../../output.js";
import { type Ctx, collect, layoutOf } from "../context.js";
import { registerControl } from "./control.js";

// The core (zod, execa, ini) is imported inside each action, so `--help` and `--version` stay fast.
const core = () => import("../../core/workers.js");
const flags = () => import("../flags.js");

/** Prints a plan for --dry-run: the files and the supervisorctl calls, changing nothing. */
function printPlan(out: Output, plan: Plan): void {
  for (const d of plan.mkdirs) out.data(`# would create directory ${d}`);
  for (const w of plan.writes) {
    out.data(`# would write ${w.path}:`);
    for (const l of w.content.trimEnd().split("\n")) out.data(l);
  }
  for (const r of plan.removes) out.data(`# would remove ${r}`);
  for (const c of plan.supervisorctl) out.data(`# would run: ${c.join(" ")}`);
}

export function registerWorker(program: Command, ctx: Ctx): void {
  const worker = program
    .command("worker")
    .description("add, remove, list and control queue workers")
    .examples("vexo-sv worker add --name app-queue --path /var/www/app", "vexo-sv worker restart app-queue --graceful");

  worker
    .command("add")
    .description("create (or with --replace, change) a queue worker and start it")
    .examples("vexo-sv worker add --name app-queue --path /var/www/app --procs 3 --queue high,default")
    .requiredOption("--name <name>", "worker (program) name: letters, digits, '.', '_', '-'")
    .requiredOption("--path <dir>", "absolute path of the Laravel application (holds artisan)")
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
    .option("--force-maintenance", "pass --force to queue:work: keep working in maintenance mode")
    .option("--env <KEY=VALUE>", "environment variable for the processes (repeatable)", collect, [])
    .option("--replace", "rewrite an existing worker whose spec differs (restarts that worker only)")
    .option("--dry-run", "print the file and the supervisorctl calls, change nothing")
    .option("--no-wait", "return once supervisord took the change, without checking the processes come up")
    .action(async (o: Record<string, unknown>) => {
      const { parseFlags, mutationFlags } = await flags();
      const { addWorker } = await core();
      const { dryRun, replace } = parseFlags(mutationFlags, o, { dryRun: "--dry-run", replace: "--replace" }, "worker add");
      const r = await addWorker({
        ...layoutOf(ctx.globals),
        dryRun,
        replace,
        wait: o.wait !== false,
        spec: {
          name: o.name as string,
          path: o.path as string,
          connection: o.connection as string,
          queue: o.queue as string,
          procs: o.procs as string,
          php: o.php as string,
          user: o.user as string,
          sleep: o.sleep as string,
          tries: o.tries as string,
          maxTime: o.maxTime as string,
          timeout: o.timeout as string | undefined,
          memory: o.memory as string | undefined,
          backoff: o.backoff as string | undefined,
          maxJobs: o.maxJobs as string | undefined,
          stopwaitsecs: o.stopwaitsecs as string,
          forceMaintenance: Boolean(o.forceMaintenance),
          env: o.env as string[],
        },
      });
      for (const w of r.warnings) ctx.out.warn(w);
      ctx.result = {
        data: r,
        human: (out) => {
          if (r.dryRun) return printPlan(out, r.plan);
          const c = out.colors;
          const what = { created: c.green("created"), replaced: c.yellow("replaced"), unchanged: "unchanged" }[r.action];
          out.info(`${what} worker ${c.bold(r.worker.name)} (${r.worker.procs} process${r.worker.procs > 1 ? "es" : ""}): ${r.file}`);
          out.info(`logs: ${r.logs.join(", ")}`);
        },
      };
    });

  worker
    .command("rm")
    .description("stop a worker and remove its program file")
    .examples("vexo-sv worker rm app-queue")
    .argument("<name>", "worker name")
    .option("--force", "also remove a program file that vexo-sv did not write")
    .option("--missing-ok", "succeed with changed=false when there is no such worker")
    .option("--dry-run", "print what would be done, change nothing")
    .action(async (name: string, o: Record<string, unknown>) => {
      const { parseFlags, mutationFlags } = await flags();
      const { removeWorker } = await core();
      const f = parseFlags(mutationFlags, o, {}, "worker rm");
      const r = await removeWorker({ ...layoutOf(ctx.globals), name, force: f.force, missingOk: f.missingOk, dryRun: f.dryRun });
      ctx.result = {
        data: r,
        human: (out) => {
          if (r.dryRun) return printPlan(out, r.plan);
          out.info(r.changed ? `removed worker ${out.colors.bold(r.name)} (${r.file})` : `no worker ${r.name}; nothing to do`);
        },
      };
    });

  worker
    .command("ls")
    .description("list every program in supervisord's include directory, with its state")
    .examples("vexo-sv worker ls --json")
    .action(async () => {
      const { listWorkers } = await import("../../core/list.js");
      const r = await listWorkers(layoutOf(ctx.globals));
      for (const w of r.warnings) ctx.out.warn(w);
      ctx.result = {
        data: r,
        human: (out) => {
          if (r.workers.length === 0) {
            out.info(`no workers yet in ${r.confDir}; add one with \`vexo-sv worker add --name NAME --path /var/www/app\``);
            return;
          }
          const c = out.colors;
          const paint = (s: string) =>
            ({ running: c.green(s), paused: c.cyan(s), partial: c.yellow(s), fatal: c.red(s), stopped: c.dim(s), unknown: c.dim(s) })[s] ??
            s;
          const rows = r.workers.map((w) => [
            w.name,
            w.managed ? "yes" : "no",
            `${w.running}/${w.total}`,
            w.state + (w.loaded === false ? " (not loaded)" : ""),
            w.spec ? `${w.spec.connection}:${w.spec.queue.join(",")}` : "-",
            w.spec?.path ?? "-",
          ]);
          const lines = table(rows, ["NAME", "MANAGED", "PROCS", "STATE", "QUEUES", "PATH"]);
          out.data(lines[0] ?? "");
          // Colour after padding so escape codes do not break the columns.
          lines.slice(1).forEach((l, i) => {
            const w = r.workers[i];
            out.data(w ? l.replace(w.state, paint(w.state)) : l);
          });
        },
      };
    });

  registerControl(worker, ctx);
}
