import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";
import { ALLOW_ROOT, cli, ME, SAMPLE_APP, waitFor } from "../helpers/cli.js";

// Review of issue 26: exits by reason come from supervisord's own log and its predecessor LOG.1.
// supervisord's sample config (echo_supervisord_conf) keeps that log in /tmp, where any local user
// can create LOG.1 before supervisord's first rotation does: lines of theirs must not count as a
// worker's exits (a crash loop that fails `status --check`, exits in metrics). Here a root sticky
// directory plays /tmp.

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`review-exits.test.ts (security) skipped: ${skip}`);

/** A hand-written config as the sample's: the log in a world-writable sticky directory. */
const CONFIG = `[unix_http_server]
file = %(here)s/sv.sock
chmod = 0700

[supervisord]
logfile = %(here)s/tmp/supervisord.log
pidfile = %(here)s/supervisord.pid
childlogdir = %(here)s/logs

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl = unix://%(here)s/sv.sock

[include]
files = %(here)s/conf.d/*.conf
`;

/** A time as supervisord writes it (local, with milliseconds). */
function stamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

describe.skipIf(skip !== undefined)("supervisord's log in a directory anyone can write (the sample's /tmp)", () => {
  let atk: Attacker;
  let dir: string;
  let config: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    atk = await createAttacker();
    dir = fs.mkdtempSync("/tmp/vx-ex-");
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(path.join(dir, "tmp"));
    fs.chmodSync(path.join(dir, "tmp"), 0o1777);
    fs.mkdirSync(path.join(dir, "conf.d"));
    fs.mkdirSync(path.join(dir, "logs"), { mode: 0o750 });
    config = path.join(dir, "supervisord.conf");
    fs.writeFileSync(config, CONFIG);
    env = { VEXO_SV_CONFIG: config };
    const r = await execa("supervisord", ["-c", config], { reject: false, all: true, cwd: "/" });
    expect(r.exitCode, String(r.all)).toBe(0);
    const add = await cli(["worker", "add", "--name", "exq", "--path", SAMPLE_APP, "--user", ME, ...ALLOW_ROOT], env);
    expect(add.code, add.stderr).toBe(0);
  });
  afterAll(async () => {
    if (config) await execa("supervisorctl", ["-c", config, "shutdown"], { reject: false });
    if (dir) {
      const pidfile = path.join(dir, "supervisord.pid");
      await waitFor(async () => !fs.existsSync(pidfile), 30, "supervisord gone").catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await atk?.remove();
  });

  it("another user's LOG.1 does not count as the worker's exits", async () => {
    // Before supervisord's first rotation there is no LOG.1: anyone may create it in /tmp.
    const now = Date.now();
    const forged = Array.from(
      { length: 20 },
      (_, i) => `${stamp(now - (20 - i) * 60_000)} INFO exited: exq_00 (exit status 1; not expected)`,
    ).join("\n");
    const planted = await atk.run("/bin/sh", ["-c", 'printf "%s\\n" "$1" > "$2"', "sh", forged, path.join(dir, "tmp/supervisord.log.1")]);
    expect(planted.code, planted.stderr).toBe(0);
    expect(fs.statSync(path.join(dir, "tmp/supervisord.log.1")).uid).toBe(atk.uid);

    const show = await cli(["worker", "show", "exq", "--json"], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.json.worker.exits?.unexpected ?? 0).toBe(0);
    const check = await cli(["status", "--check"], env);
    expect(check.stdout).not.toMatch(/crash loop/u);
    expect(check.code, `${check.stdout}${check.stderr}`).toBe(0);
    // Said, not silently dropped: the file is named as not read.
    expect(check.stderr).toMatch(/supervisord\.log\.1/u);
  });
});
