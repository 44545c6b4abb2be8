import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";
import { cli, waitFor } from "../helpers/cli.js";

// Review of issue 26: supervisorctl's password goes in a private config below the temp directory
// (ctl-config.ts). Where that may be made is judged on a name below it; a name anyone can create
// in /tmp must not decide it, or any local user stops every command that needs the password.

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`review-ctl-config.test.ts (security) skipped: ${skip}`);

/** No [supervisorctl] in the main config: vexo-sv asks the socket with its credentials (-u and a private -c). */
const CONFIG = `[unix_http_server]
file = %(here)s/sv.sock
chmod = 0700
username = admin
password = s3cret

[supervisord]
logfile = %(here)s/logs/supervisord.log
pidfile = %(here)s/supervisord.pid
childlogdir = %(here)s/logs

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[include]
files = %(here)s/conf.d/*.conf
`;

describe.skipIf(skip !== undefined)("the private config's place (a password-protected supervisord)", () => {
  let atk: Attacker;
  let dir: string;
  let config: string;
  /** What the attacker plants in /tmp (removed after). */
  const planted = "/tmp/vexo-sv-ctl-check";
  beforeAll(async () => {
    atk = await createAttacker();
    dir = fs.mkdtempSync("/tmp/vx-pw-");
    fs.mkdirSync(path.join(dir, "conf.d"));
    fs.mkdirSync(path.join(dir, "logs"), { mode: 0o750 });
    config = path.join(dir, "supervisord.conf");
    fs.writeFileSync(config, CONFIG, { mode: 0o600 });
    const r = await execa("supervisord", ["-c", config], { reject: false, all: true, cwd: "/" });
    expect(r.exitCode, String(r.all)).toBe(0);
  });
  afterAll(async () => {
    fs.rmSync(planted, { force: true, recursive: true });
    if (dir) {
      const pid = Number(fs.readFileSync(path.join(dir, "supervisord.pid"), "utf8"));
      process.kill(pid, "SIGTERM");
      await waitFor(async () => !fs.existsSync(path.join(dir, "supervisord.pid")), 30, "supervisord gone").catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await atk?.remove();
  });

  it("a file another user made in /tmp does not stop vexo-sv from asking supervisord", async () => {
    const env = { VEXO_SV_CONFIG: config, TMPDIR: undefined };
    const before = await cli(["worker", "ls", "--json"], env);
    expect(before.code, before.stderr).toBe(0);
    const r = await atk.run("/usr/bin/touch", [planted]);
    expect(r.code, r.stderr).toBe(0);
    const after = await cli(["worker", "ls", "--json"], env);
    expect(after.code, after.stdout).toBe(0);
    const status = await cli(["status", "--check"], env);
    expect(status.code, `${status.stdout}${status.stderr}`).toBe(0);
    // And nothing of the password left in /tmp.
    expect(fs.readdirSync("/tmp").filter((n) => n.startsWith("vexo-sv-ctl-") && n !== path.basename(planted))).toEqual([]);
  });
});
