import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertsOf, recorder, shAddArgs, shApp } from "../helpers/alerts.js";
import { handWrittenConfig } from "../helpers/hand-config.js";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";
import { cli, type Sv, waitFor } from "../helpers/cli.js";

// Second review, alerts: the listener puts the process's latest exit (from supervisord's own log)
// in each alert. With supervisord started `-e debug` (its config says info), every worker's output
// is copied into that log: another user's worker prints lines that read as exits of a root worker.
// `status` and `worker show` already take the command line's level (review-exits.test.ts); the
// listener must too, or an alert says "exit status 12" (memory) of a worker that exited 3.

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`review2-alerts-exits.test.ts (security) skipped: ${skip}`);

/** What the attacker's worker prints, over and over: an exit of `dies_00` by the memory limit, stamped now. */
const FORGER = `while true; do printf '%s INFO exited: dies_00 (exit status 12; not expected)\\n' "$(date '+%Y-%m-%d %H:%M:%S,000')"; sleep 0.2; done`;

describe.skipIf(skip !== undefined)("the alerts listener under a supervisord started with -e debug", () => {
  let atk: Attacker;
  const sv = {} as Sv;
  beforeAll(async () => {
    atk = await createAttacker();
    sv.dir = fs.mkdtempSync("/tmp/vx-r2a-");
    fs.chmodSync(sv.dir, 0o755);
    sv.confDir = path.join(sv.dir, "conf.d");
    sv.logDir = path.join(sv.dir, "logs");
    fs.mkdirSync(sv.confDir, { mode: 0o755 });
    fs.mkdirSync(sv.logDir, { mode: 0o750 });
    sv.config = path.join(sv.dir, "supervisord.conf");
    fs.writeFileSync(sv.config, handWrittenConfig());
    sv.env = { VEXO_SV_CONFIG: sv.config };
    const r = await execa("supervisord", ["-c", sv.config, "-e", "debug"], { reject: false, all: true, cwd: "/" });
    expect(r.exitCode, String(r.all)).toBe(0);
  }, 60_000);
  afterAll(async () => {
    if (sv.config) await execa("supervisorctl", ["-c", sv.config, "shutdown"], { reject: false });
    if (sv.dir) {
      await waitFor(async () => !fs.existsSync(path.join(sv.dir, "supervisord.pid")), 30, "supervisord gone").catch(() => undefined);
      fs.rmSync(sv.dir, { recursive: true, force: true });
    }
    await atk?.remove();
  });

  it("another user's worker cannot forge the exit an alert reports", async () => {
    const rec = recorder(sv);
    const enabled = await cli(["alerts", "enable", "--json", "--exec", rec.exec], sv.env);
    expect(enabled.code, `${enabled.stdout}${enabled.stderr}`).toBe(0);
    // The attacker's own application, its worker run as them: it prints what it likes.
    const forger = shApp(sv, "forger", FORGER);
    for (const p of [forger, path.join(forger, "artisan")]) fs.chownSync(p, atk.uid, atk.gid);
    const add = await cli(
      ["worker", "add", "--name", "forger", "--path", forger, "--user", atk.name, "--php", "/bin/sh", "--no-wait"],
      sv.env,
    );
    expect(add.code, add.stderr).toBe(0);
    await waitFor(
      async () => fs.readFileSync(path.join(sv.logDir, "supervisord.log"), "utf8").includes("exited: dies_00 (exit status 12"),
      60,
      "the forged lines in supervisord's log",
    );
    // Root's worker, which exits 3 at once: FATAL.
    const dies = shApp(sv, "dies", "exit 3");
    expect((await cli([...shAddArgs("dies", dies), "--json"], sv.env)).code).toBe(0);
    const [fatal] = await waitFor(
      async () => alertsOf(rec.dir, "fatal", "dies").at(0) && alertsOf(rec.dir, "fatal", "dies"),
      120,
      "the fatal alert",
    );
    // At debug, supervisord's log cannot say which exit was the worker's: not known, never the forged one.
    expect(fatal?.doc.exit).toBeNull();
    expect(fatal?.doc.summary).not.toMatch(/status 12/u);
  }, 300_000);
});
