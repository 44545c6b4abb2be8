import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { renderListener } from "../../src/core/alerts/listener-file.js";
import { type Attacker, attackerSkipReason, chmodTreeGoW, chownTree, createAttacker, killFromPidfile } from "../helpers/attacker.js";
import { cli } from "../helpers/cli.js";

// Second review, alerts: `install --prefix` takes a program file with vexo-sv's marker as vexo-sv's
// only when it is what vexo-sv writes (config-trust.test.ts, "second review"). The listener's file
// was taken as vexo-sv's whenever it had the listener's shape, whatever it runs before
// `alerts listen`: `/bin/sh -c "..." alerts listen --config ...` has that shape. A user who once
// could write the tree (the admin chowned it back, which the hint says not to do) had supervisord
// run their command as root.

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`review2-listener-forged.test.ts (security) skipped: ${skip}`);

let atk: Attacker;
let tmp: string;

beforeAll(async () => {
  if (skip) return;
  atk = await createAttacker();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-r2l-"));
  fs.chmodSync(tmp, 0o755);
}, 120_000);
afterAll(async () => {
  if (skip) return;
  await atk?.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(skip !== undefined)("a forged alerts listener file in a prefix", () => {
  it("one that runs something else before `alerts listen` is refused, also after a chown the hint said not to make", async () => {
    const prefix = fs.mkdtempSync(path.join(tmp, "p-"));
    const marker = path.join(tmp, `ran-${path.basename(prefix)}`);
    onTestFinished(() => killFromPidfile(prefix));
    expect((await cli(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    const env = { VEXO_SV_CONFIG: path.join(prefix, "supervisord.conf") };
    expect((await cli(["shutdown", "--json"], env)).code).toBe(0);
    chownTree(prefix, atk.uid, atk.gid);
    // Exactly the shape `alerts enable` writes, with root's own /bin/sh as "vexo-sv".
    const forged = renderListener({
      self: ["/bin/sh", "-c", `id > ${marker}`],
      config: path.join(prefix, "supervisord.conf"),
      confDir: path.join(prefix, "conf.d"),
      revision: "0123456789ab",
      logDir: path.join(prefix, "logs"),
    });
    const file = path.join(prefix, "conf.d", "vexo-sv-alerts.conf");
    const planted = await atk.run("/bin/sh", ["-c", 'cat > "$1"', "_", file], { input: forged });
    expect(planted.code, planted.stderr).toBe(0);
    chownTree(prefix, 0, 0);
    chmodTreeGoW(prefix);
    const r = await cli(["install", "--prefix", prefix, "--json"]);
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.error.message).toContain(file);
    expect(fs.existsSync(marker)).toBe(false);
  }, 120_000);

  it("the listener file this vexo-sv wrote is still taken as its own", async () => {
    const prefix = fs.mkdtempSync(path.join(tmp, "ok-"));
    onTestFinished(() => killFromPidfile(prefix));
    expect((await cli(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    const env = { VEXO_SV_CONFIG: path.join(prefix, "supervisord.conf") };
    const enabled = await cli(["alerts", "enable", "--json", "--exec", "/bin/true"], env);
    expect(enabled.code, enabled.stdout).toBe(0);
    expect((await cli(["shutdown", "--json"], env)).code).toBe(0);
    const again = await cli(["install", "--prefix", prefix, "--json"]);
    expect(again.code, again.stdout).toBe(0);
    expect((await cli(["shutdown", "--json"], env)).code).toBe(0);
  }, 120_000);
});
