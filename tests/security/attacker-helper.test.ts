import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`attacker.test.ts skipped: ${skip}`);

function inDb(db: "passwd" | "group", name: string): boolean {
  return fs
    .readFileSync(`/etc/${db}`, "utf8")
    .split("\n")
    .some((l) => l.startsWith(`${name}:`));
}

describe.skipIf(skip !== undefined)("the attacker helper", () => {
  let atk: Attacker;
  let tmp: string;

  beforeAll(async () => {
    atk = await createAttacker();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vexo-atk-"));
    fs.chmodSync(tmp, 0o755); // the attacker must be able to enter it
  });
  afterAll(async () => {
    await atk?.remove();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("is a fresh unprivileged system user with its own group", async () => {
    expect(atk.name).toMatch(/^vxatk-[0-9a-f]{8}$/);
    expect(atk.uid).toBeGreaterThan(0);
    expect(atk.uid).toBeLessThan(1000);
    expect(inDb("passwd", atk.name)).toBe(true);
    const r = await atk.run("id", []);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`uid=${atk.uid}(${atk.name}) gid=${atk.gid}(${atk.name}) groups=${atk.gid}(${atk.name})`);
  });

  it("has no capabilities left", async () => {
    const r = await atk.run("grep", ["^CapEff:", "/proc/self/status"]);
    expect(r.stdout.trim()).toMatch(/^CapEff:\s+0+$/);
  });

  it("cannot read a root file with mode 0600", async () => {
    const secret = path.join(tmp, "secret");
    fs.writeFileSync(secret, "s3cret\n", { mode: 0o600 });
    fs.chmodSync(secret, 0o600);
    const r = await atk.run("cat", [secret]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Permission denied");
    expect(r.stdout).not.toContain("s3cret");
  });

  it("cannot write to a root directory with mode 0755", async () => {
    const r = await atk.run("touch", [path.join(tmp, "planted")]);
    expect(r.code).not.toBe(0);
    expect(fs.existsSync(path.join(tmp, "planted"))).toBe(false);
  });

  it("can write to a sticky world-writable directory (mode 1777), and owns what it writes", async () => {
    const shared = path.join(tmp, "shared");
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
    const f = path.join(shared, "planted");
    const r = await atk.run("tee", [f], { input: "from the attacker\n" });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(f, "utf8")).toBe("from the attacker\n");
    const st = fs.lstatSync(f);
    expect([st.uid, st.gid]).toEqual([atk.uid, atk.gid]);
  });

  it("gets a minimal environment and starts in /", async () => {
    const r = await atk.run("env", [], { env: { EXTRA: "1" } });
    expect(r.stdout).toContain("HOME=/nonexistent");
    expect(r.stdout).toContain("EXTRA=1");
    expect(r.stdout).not.toMatch(/^HOME=\/root$/m);
    expect((await atk.run("pwd", [])).stdout.trim()).toBe("/");
  });

  it("is removed, with its group, by remove() (and a second remove() is harmless)", async () => {
    const other = await createAttacker();
    expect(inDb("passwd", other.name)).toBe(true);
    await other.remove();
    expect(inDb("passwd", other.name)).toBe(false);
    expect(inDb("group", other.name)).toBe(false);
    await expect(other.remove()).resolves.toBeUndefined();
  });
});
