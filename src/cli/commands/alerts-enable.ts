import { invalid } from "../../errors.js";
import type { AlertsResult } from "../../core/results.js";
import type { Output } from "../../output.js";
import { defineCommand, selfArgv } from "../command.js";
import { renderPlan } from "./plan.js";

/** `--flap N/M`: more than N unexpected exits in M minutes. */
function parseFlap(v: unknown): { exits: number; minutes: number } {
  const m = /^(\d{1,4})\/(\d{1,4})$/u.exec(String(v));
  const exits = Number(m?.[1]);
  const minutes = Number(m?.[2]);
  if (!m || exits < 1 || exits > 1000 || minutes < 1 || minutes > 1440)
    throw invalid(
      "flap",
      `must be N/M: more than N (1-1000) unexpected exits in M minutes (1-1440), such as 5/10 (got ${JSON.stringify(String(v).slice(0, 40))})`,
    );
  return { exits, minutes };
}

/** The settings' lines for a person. */
export function renderSettings(out: Output, s: NonNullable<AlertsResult["settings"]>): void {
  out.info(`  command: ${JSON.stringify(s.exec)} (the alert as JSON on its stdin; killed after ${s.timeoutSeconds}s)`);
  out.info(
    `  alerts on: FATAL, flapping (more than ${s.flap.exits} unexpected exits in ${s.flap.minutes}m)${s.onExit ? ", every unexpected exit" : ""}${s.onRecovery ? ", recovery" : ""}; one per worker and kind per ${s.windowSeconds}s`,
  );
  out.info(`  programs: ${s.allPrograms ? "every program supervisord runs" : "vexo-sv's workers"}`);
  out.info(
    `  healing: ${s.heal ? `FATAL workers started again after ${s.heal.delaySeconds}s, doubling up to ${s.heal.maxDelaySeconds}s` : "off"}`,
  );
}

export default defineCommand({
  path: "alerts enable",
  description:
    "run a command on each worker failure (FATAL, flapping), and optionally heal FATAL workers, through supervisord's event protocol",
  examples: [
    "vexo-sv alerts enable --heal --exec /usr/local/bin/vexo-alert-slack",
    "vexo-sv alerts enable --exec sh -c 'cat >> /var/log/vexo-sv-alerts.jsonl'",
  ],
  define: (c) =>
    c
      .argument("[command...]", "the alert command and its arguments, after --exec")
      .option(
        "--exec",
        "the alert command: everything after --exec is its argument list, run without a shell (for one: --exec sh -c '...'); it reads the alert as one JSON document on stdin",
      )
      .option("--heal", "start FATAL workers again, after a delay that doubles on each failure (never a paused or stopped worker)")
      .option("--heal-delay <duration>", "with --heal: the first delay after FATAL (90s, 15m, ...)", "10s")
      .option("--heal-max-delay <duration>", "with --heal: the longest delay between attempts", "10m")
      .option("--all-programs", "alert on every program supervisord runs, not only vexo-sv's workers (healing stays with workers)")
      .option("--flap <N/M>", "flapping: more than N unexpected exits within M minutes", "5/10")
      .option("--window <duration>", "one alert per worker and kind within this window", "15m")
      .option("--timeout <duration>", "kill the alert command (its whole process group) after this long", "30s")
      .option("--on-exit", "also alert on every unexpected exit (within the window's limit)")
      .option("--on-recovery", "also alert when a worker alerted about runs again (found within a minute)")
      .option("--log-lines <n>", "lines of the worker's log in each alert (0-200)", "20")
      .option("--dry-run", "print the files and the supervisorctl call, change nothing")
      .option("--no-wait", "return once supervisord took the change, without waiting for the listener to run"),
  async input({ args, opts }, validate) {
    const command = (args[0] as string[] | undefined) ?? [];
    if (!opts.exec) throw invalid("exec", "is required: --exec PROGRAM [ARGUMENT...] (everything after it is the command)");
    if (command.length === 0) throw invalid("exec", "needs a command after it: --exec PROGRAM [ARGUMENT...]");
    const heal = Boolean(opts.heal);
    for (const [field, dflt] of [
      ["healDelay", "10s"],
      ["healMaxDelay", "10m"],
    ] as const)
      if (!heal && opts[field] !== dflt) throw invalid(field, "is only for healing: add --heal");
    const flap = parseFlap(opts.flap);
    const { parse, durationInRange, intInRange, z } = await validate();
    const v = parse(
      z.object({
        window: durationInRange(10, 86400),
        timeout: durationInRange(1, 3600),
        logLines: intInRange(0, 200),
        healDelay: durationInRange(1, 3600),
        healMaxDelay: durationInRange(1, 86400),
      }),
      { window: opts.window, timeout: opts.timeout, logLines: opts.logLines, healDelay: opts.healDelay, healMaxDelay: opts.healMaxDelay },
    );
    if (v.healMaxDelay < v.healDelay) throw invalid("healMaxDelay", `must not be shorter than --heal-delay (${v.healDelay}s)`);
    const settings = {
      version: 1 as const,
      exec: command,
      allPrograms: Boolean(opts.allPrograms),
      onExit: Boolean(opts.onExit),
      onRecovery: Boolean(opts.onRecovery),
      flap,
      windowSeconds: v.window,
      timeoutSeconds: v.timeout,
      logLines: v.logLines,
      heal: heal ? { delaySeconds: v.healDelay, maxDelaySeconds: v.healMaxDelay } : null,
    };
    return { settings, dryRun: Boolean(opts.dryRun), wait: opts.wait !== false };
  },
  async run(input, ctx) {
    const sv = await ctx.supervisor();
    const { applyAlerts, planEnable } = await import("../../core/alerts/enable.js");
    const plan = planEnable(sv, { settings: input.settings, self: selfArgv(), wait: input.wait });
    for (const w of plan.result.warnings) ctx.warn(w);
    return input.dryRun ? { ...plan.result, dryRun: true } : applyAlerts(sv, plan);
  },
  render(r, out) {
    if (r.dryRun) return renderPlan(out, r.plan);
    const c = out.colors;
    const what = {
      created: c.green("enabled"),
      replaced: c.yellow("changed"),
      unchanged: "unchanged",
      started: c.green("started"),
      removed: "removed",
    }[r.action];
    const l = r.listener;
    out.info(`alerts ${what}: listener ${c.bold("vexo-sv-alerts")} ${l ? `${l.state}${l.pid ? ` (pid ${l.pid})` : ""}` : "not loaded"}`);
    if (r.settings) renderSettings(out, r.settings);
    out.info(`  log: ${r.log}`);
  },
});
