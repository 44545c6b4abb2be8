import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { VexoError } from "../../src/errors.js";
import { checkLogDir, shellWord, untrustedInTree, workerLogNames } from "../../src/core/worker-trust.js";

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
    const cmd = /`(mv -T [^`]+)`/u.exec(hint)?.[1] ?? "";
    // The shell reads the quoted words back as the path itself and the name it is moved to.
    const echoed = await execa("sh", ["-c", cmd.replace("mv -T", "printf '%s|%s'")]);
    expect(echoed.stdout).toBe(`${d}|${d}.untrusted`);
  });

  it("review r2 #4: a path with a newline or a bidi override is one $'...' word on one line, read back as the path", async () => {
    for (const p of ["/l/x\nerror: forged", "/l/a\tb'c\\d", "/l/gol\u202egpj", "/l/\u{e0041}x"]) {
      const word = shellWord(p);
      expect(word).not.toMatch(/[\n\t\u202e]/u);
      expect((await execa("bash", ["-c", `printf %s ${word}`])).stdout).toBe(p);
    }
  });

  it("review r2 #3, #7(a): the hint never hands another user's directory to root; one above it is named, with another place to go", () => {
    const d = dir(0o777);
    const own = refusal(d, 0);
    expect(own?.hint).toContain(`mv -T ${d} ${d}.untrusted`);
    expect(own?.hint).toContain("mkdir -m 750 NEWDIR");
    expect(own?.hint).not.toMatch(/chown|chmod/u);
    const below = path.join(d, "logs");
    fs.mkdirSync(below, { mode: 0o755 });
    const above = refusal(below, 0);
    expect(above?.message).toContain(`${d} is writable by others`);
    expect(above?.hint).toMatch(new RegExp(`^${d} is not root's alone.*keep worker logs elsewhere.*mkdir -m 750 NEWDIR`, "u"));
    expect(above?.hint).not.toMatch(/chown|chmod|must be root's/u);
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

describe.skipIf(!isRoot)("checkLogDir: the worker's own log names (review r2 #5)", () => {
  it("refuses one with another hard link, or writable by its group or others, whichever supervisord", () => {
    const d = dir();
    const log = path.join(d, "w_00.log");
    fs.writeFileSync(log, "");
    fs.chmodSync(log, 0o644);
    expect(refusal(d, 0)).toBeUndefined();
    expect(refusal(d, SV)).toBeUndefined();
    const held = path.join(dir(), "held");
    fs.linkSync(log, held);
    expect(refusal(d, 0)?.message).toContain(`${log} has 2 hard links`);
    expect(refusal(d, SV)?.message).toContain(`${log} has 2 hard links`);
    fs.rmSync(held);
    fs.chmodSync(log, 0o664);
    expect(refusal(d, 0)?.message).toContain(`${log} is writable by its group (mode 0664)`);
    fs.chmodSync(log, 0o646);
    expect(refusal(d, SV)?.message).toContain(`${log} is writable by others (mode 0646)`);
  });
});

describe.skipIf(!isRoot)("untrustedInTree (review r2 #7b)", () => {
  it("fails closed on an entry it cannot inspect (lstat ENAMETOOLONG past PATH_MAX), naming it", async () => {
    const top = dir();
    // Directories nested past PATH_MAX (4096), made with relative names: readdir of the deepest
    // that lstat still reaches works, lstat of the entry in it fails with ENAMETOOLONG.
    const seg = "d".repeat(200);
    const depth = Math.floor((4095 - top.length - 1) / (seg.length + 1));
    const deepest = path.join(top, ...Array.from({ length: depth }, () => seg));
    await execa("bash", [
      "-c",
      `cd "$1" && for i in $(seq ${depth}); do mkdir -m 755 ${seg} && cd ${seg}; done && touch ${"f".repeat(250)}`,
      "_",
      top,
    ]);
    expect(deepest.length).toBeLessThan(4096);
    expect(() => fs.lstatSync(path.join(deepest, "f".repeat(250)))).toThrow(/ENAMETOOLONG/u);
    try {
      expect(untrustedInTree(top)).toBe(`${path.join(deepest, "f".repeat(250))} cannot be inspected (ENAMETOOLONG)`);
    } finally {
      await execa("rm", ["-rf", "--", top]);
    }
  });
});
