import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { untrustedReason } from "../../src/core/trust.js";
import { openLockFile, readRegularFile, tailLinesSafe, writeFileExclusive } from "../../src/core/safe-files.js";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";
import { dir, file, tmp, TRUST, trustError } from "../helpers/trust-fixtures.js";

// trust.ts and safe-files.ts against a real unprivileged attacker (root only: it creates a throw-away user).

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`trust.test.ts attacker tests skipped: ${skip}`);

describe.skipIf(skip !== undefined)("against a real unprivileged attacker", () => {
  let atk: Attacker;
  let shared: string;
  beforeAll(async () => {
    atk = await createAttacker();
    fs.chmodSync(tmp, 0o755); // let the attacker reach the shared directory
    shared = dir(0o1777); // a /tmp-like directory: root's, sticky, world-writable
  });
  afterAll(async () => {
    await atk?.remove();
  });

  const as = async (cmd: string, ...args: string[]) => {
    const r = await atk.run(cmd, args);
    expect(r, r.stderr).toMatchObject({ code: 0 });
  };

  it("a file it planted in a sticky directory is reported as its", async () => {
    const f = path.join(shared, "planted.conf");
    await as("touch", f);
    expect(untrustedReason(f, TRUST)).toBe(
      `${f} is owned by uid ${atk.uid} (mode ${(fs.lstatSync(f).mode & 0o7777).toString(8).padStart(4, "0")})`,
    );
  });

  it("its symlink to a root-only file is not followed by tailLinesSafe or readRegularFile", async () => {
    const secret = file(path.join(tmp, "secret"), "root only\n", 0o600);
    const log = path.join(shared, "worker.log");
    await as("ln", "-s", secret, log);
    expect(trustError(() => tailLinesSafe(log, 10)).code).toBe("symlink");
    expect(trustError(() => readRegularFile(log)).code).toBe("symlink");
    expect(untrustedReason(log, { ...TRUST, followFinal: true })).toMatch(new RegExp(`^${log} is owned by uid ${atk.uid}`));
  });

  it("its FIFO does not hang a reader", async () => {
    const fifo = path.join(shared, "fifo.log");
    await as("mkfifo", fifo);
    expect(trustError(() => tailLinesSafe(fifo, 10)).code).toBe("not_regular");
    expect(trustError(() => readRegularFile(fifo)).code).toBe("not_regular");
  });

  it("a lock file it created first is refused; a file it created first is not overwritten", async () => {
    await as("touch", path.join(shared, "vexo.lock"), path.join(shared, "out.conf"));
    expect(trustError(() => openLockFile(path.join(shared, "vexo.lock"))).code).toBe("wrong_owner");
    expect(trustError(() => writeFileExclusive(path.join(shared, "out.conf"), "x", 0o644)).code).toBe("exists");
    expect(fs.readFileSync(path.join(shared, "out.conf"), "utf8")).toBe("");
  });

  it("cannot read a file writeFileExclusive made 0600 under a permissive umask", async () => {
    const saved = process.umask(0);
    try {
      writeFileExclusive(path.join(shared, "secret.env"), "KEY=1\n", 0o600);
    } finally {
      process.umask(saved);
    }
    const r = await atk.run("cat", [path.join(shared, "secret.env")]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
  });
});
