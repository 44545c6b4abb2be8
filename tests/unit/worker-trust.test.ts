import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { VexoError } from "../../src/errors.js";
import { checkLogDir, workerLogNames } from "../../src/core/worker-trust.js";

// The log directory check with a supervisord that is not root (tests/security/planted.test.ts
// holds the root one against a real attacker): lighter, the worker's own log names only.

const isRoot = process.geteuid?.() === 0;
/** supervisord's uid in these tests, and another one; root may chown to them without the users existing. */
const SV = 4242;
const OTHER = 4243;

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "vexo-wtrust-")));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let seq = 0;
function dir(mode = 0o755): string {
  const d = path.join(tmp, `d${++seq}`);
  fs.mkdirSync(d);
  fs.chmodSync(d, mode);
  return d;
}

const worker = { name: "w", procs: 2 };

function refusal(logDir: string, uid: number | null): VexoError | undefined {
  try {
    checkLogDir(logDir, uid, worker);
    return undefined;
  } catch (e) {
    if (e instanceof VexoError) return e;
    throw e;
  }
}

describe("checkLogDir with a supervisord running as another user", () => {
  it("names every process's log and its ten rotations", () => {
    const names = workerLogNames("/l", worker);
    expect(names).toHaveLength(22);
    expect(names).toContain("/l/w_01.log");
    expect(names).toContain("/l/w_01.log.10");
  });

  it("refuses a symlink under the worker's log names (a rotation too), and names each", () => {
    const d = dir();
    fs.symlinkSync("/etc/hostname", path.join(d, "w_00.log"));
    fs.symlinkSync("/etc/hostname", path.join(d, "w_01.log.2"));
    const e = refusal(d, SV);
    expect(e?.details?.field).toBe("logDir");
    expect(e?.message).toContain(`${d}/w_00.log is a symbolic link`);
    expect(e?.message).toContain(`${d}/w_01.log.2 is a symbolic link`);
    expect(e?.hint).toMatch(/remove from .* everything you did not create/u);
  });

  it("leaves the rest of the directory alone: it writes only what its user could", () => {
    const d = dir(0o777);
    fs.symlinkSync("/etc/hostname", path.join(d, "other_00.log"));
    fs.writeFileSync(path.join(d, "w_00.log"), "");
    expect(refusal(d, SV)).toBeUndefined();
    // A root supervisord takes nothing of it: the directory and the link are both named.
    const e = refusal(d, 0);
    expect(e?.message).toMatch(/writable by others/u);
    expect(e?.message).toContain(`${d}/other_00.log is a symbolic link`);
  });

  it("quotes the directory in the hint's commands as one shell word", async () => {
    const d = path.join(tmp, "it's $(here)");
    fs.mkdirSync(d);
    fs.chmodSync(d, 0o777);
    const hint = refusal(d, 0)?.hint ?? "";
    const cmd = /`(chown -R root:root [^`]+)`/u.exec(hint)?.[1] ?? "";
    // The shell reads the quoted word back as the path itself.
    const echoed = await execa("sh", ["-c", cmd.replace("chown -R root:root", "printf %s")]);
    expect(echoed.stdout).toBe(d);
  });

  it.skipIf(!isRoot)("refuses a log file of a third user, accepts one of supervisord's user", () => {
    const d = dir();
    const log = path.join(d, "w_00.log");
    fs.writeFileSync(log, "");
    fs.chownSync(log, SV, SV);
    expect(refusal(d, SV)).toBeUndefined();
    fs.chownSync(log, OTHER, OTHER);
    expect(refusal(d, SV)?.message).toContain(`${log} is owned by uid ${OTHER}`);
  });
});
