import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readProcStats } from "../../src/core/procstat.js";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";

// procstat.ts run by a user other than the process's (a monitoring user, not root): the kernel
// refuses it /proc/PID/cwd (EACCES), which is "not known", never an error; the rest is read.

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`procstat.test.ts (security) skipped: ${skip}`);

describe.skipIf(skip !== undefined)("readProcStats as another user", () => {
  let atk: Attacker;
  let tmp: string;
  let bundle: string;
  beforeAll(async () => {
    atk = await createAttacker();
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "vexo-procstat-")));
    fs.chmodSync(tmp, 0o755);
    bundle = path.join(tmp, "procstat.mjs");
    // The module as it is, bundled so that a user who cannot read the checkout can run it.
    await build({
      entryPoints: [path.resolve(import.meta.dirname, "../../src/core/procstat.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: bundle,
      logLevel: "silent",
    });
    fs.chmodSync(bundle, 0o644);
  });
  afterAll(async () => {
    await atk?.remove();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** readProcStats([pid]) run by the attacker; `pid` is a JS expression in its process. */
  const readAs = async (pid: string, cwd = "/") => {
    const script = `import { readProcStats } from ${JSON.stringify(bundle)}; const p = ${pid}; console.log(JSON.stringify(readProcStats([p]).get(p)));`;
    const r = await atk.run(process.execPath, ["--input-type=module", "-e", script], { cwd });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown> | null;
  };

  it("a root process: cwd null (EACCES), memory, CPU and start time read", async () => {
    const mine = readProcStats([process.pid]).get(process.pid);
    expect(mine?.cwd).toBe(process.cwd());
    const theirs = await readAs(String(process.pid));
    expect(theirs).toMatchObject({ pid: process.pid, cwd: null, startTime: mine?.startTime });
    expect(theirs?.rssBytes).toBeGreaterThan(0);
  });

  it("its own process: cwd read", async () => {
    expect(await readAs("process.pid", tmp)).toMatchObject({ cwd: tmp });
  });
});
