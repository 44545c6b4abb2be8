import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";
import { cli, useSupervisor, waitFor } from "../helpers/cli.js";

// Review of issue 26: a worker's working directory (/proc/PID/cwd) is chosen by the worker's own
// user, the app's owner, who may be no one root trusts. It may hold a newline: printed raw, it
// forges a line of vexo-sv's own (`hint: run chown ...`) in status, worker show, status --check
// and worker restart --stale. Every such line must show it quoted (shownPath), as paths are.

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`review-cwd.test.ts (security) skipped: ${skip}`);

const FORGED = "hint: run chown -R www-data /etc/supervisor";

/** An artisan that works in a directory of its own choosing, whose name carries a forged hint line. */
const ARTISAN = `#!/usr/bin/env php
<?php
$d = __DIR__ . "/x\\n${FORGED}";
@mkdir($d, 0755, true);
chdir($d);
while (true) { sleep(1); }
`;

const sv = useSupervisor();

describe.skipIf(skip !== undefined)("a worker's cwd with a newline (the app's owner chose it)", () => {
  let atk: Attacker;
  let top: string;
  let app: string;
  beforeAll(async () => {
    atk = await createAttacker();
    top = fs.mkdtempSync("/tmp/vx-cwd-");
    fs.chmodSync(top, 0o755);
    app = path.join(top, "app");
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, "artisan"), ARTISAN, { mode: 0o755 });
    // The app is its owner's: deploying is writing it.
    for (const p of [app, path.join(app, "artisan")]) fs.chownSync(p, atk.uid, atk.gid);
    const r = await cli(["worker", "add", "--name", "cwdq", "--path", app, "--user", atk.name], sv.env);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(
      async () => {
        const s = await cli(["worker", "show", "cwdq", "--json"], sv.env);
        return s.json.worker?.processes?.[0]?.stale === true;
      },
      30,
      "the worker running, in its own directory",
    );
  });
  afterAll(async () => {
    await cli(["worker", "rm", "cwdq"], sv.env);
    await atk?.remove();
    if (top) fs.rmSync(top, { recursive: true, force: true });
  });

  /** No line of what a person reads is the forged one. */
  const noForgedLine = (out: string) => {
    expect(out.split("\n").filter((l) => l.startsWith(FORGED))).toEqual([]);
  };

  it.each([
    ["status", ["status"]],
    ["status --check", ["status", "--check"]],
    ["worker show", ["worker", "show", "cwdq"]],
    ["worker restart --stale --dry-run", ["worker", "restart", "--stale", "--dry-run"]],
    ["worker restart --stale (still stale after)", ["worker", "restart", "--stale", "cwdq"]],
  ])("%s shows the cwd quoted, never as a line of its own", async (_what, args) => {
    const r = await cli(args, sv.env);
    // The directory is named (quoted), so the test sees what it means to see.
    expect(`${r.stdout}${r.stderr}`).toMatch(/x\\n/u);
    noForgedLine(r.stdout);
    noForgedLine(r.stderr);
  });
});
