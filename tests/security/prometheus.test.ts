import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TEXTFILE_NAME, writeTextfile } from "../../src/core/prometheus.js";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";

// writeTextfile as root: never through a symlink, an exact mode whatever the umask, and only into
// a directory no other user could have written (nor any directory above it); a real throw-away
// user plants what it can where it can.

/** Fixed "random" bytes while set, so a test can plant the temp file's name ahead of the write. */
const fixed = vi.hoisted(() => ({ bytes: null as Buffer | null }));
vi.mock("node:crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:crypto")>();
  const randomBytes = ((n: number) => fixed.bytes?.subarray(0, n) ?? real.randomBytes(n)) as typeof real.randomBytes;
  return { ...real, default: { ...real, randomBytes }, randomBytes };
});

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`prometheus.test.ts (security) skipped: ${skip}`);

const CONTENT = "# HELP vexo_sv_collection_success x\n# TYPE vexo_sv_collection_success gauge\nvexo_sv_collection_success 1\n";

describe.skipIf(skip !== undefined)("writeTextfile as root", () => {
  let tmp: string;
  let atk: Attacker;
  let seq = 0;
  beforeAll(async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "vexo-textfile-")));
    fs.chmodSync(tmp, 0o755);
    atk = await createAttacker();
  });
  afterAll(async () => {
    await atk?.remove();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh directory of root's with `mode`. */
  const dir = (mode = 0o755, parent = tmp) => {
    const d = path.join(parent, `d${++seq}`);
    fs.mkdirSync(d);
    fs.chmodSync(d, mode);
    return d;
  };
  /** A root-only file elsewhere, as a symlink's target. */
  const precious = () => {
    const f = path.join(dir(0o700), "precious");
    fs.writeFileSync(f, "precious\n", { mode: 0o600 });
    return { file: f, st: fs.statSync(f) };
  };
  const untouched = (t: { file: string; st: fs.Stats }) => {
    const now = fs.statSync(t.file);
    expect([fs.readFileSync(t.file, "utf8"), now.ino, now.mtimeMs, now.mode]).toEqual(["precious\n", t.st.ino, t.st.mtimeMs, t.st.mode]);
  };
  /** `writeTextfile(d)` throws a VexoError with these fields. */
  const throwsWith = (d: string, fields: Record<string, unknown>) =>
    expect(() => writeTextfile(d, CONTENT)).toThrow(expect.objectContaining({ name: "VexoError", ...fields }));

  it.each([0o077, 0o000])("writes DIR/vexo-sv.prom with mode 0644 under umask %o, and leaves no temp file", (umask) => {
    const d = dir();
    const saved = process.umask(umask);
    try {
      expect(writeTextfile(d, CONTENT)).toBe(path.join(d, TEXTFILE_NAME));
    } finally {
      process.umask(saved);
    }
    const st = fs.lstatSync(path.join(d, TEXTFILE_NAME));
    expect([st.isFile(), st.mode & 0o7777, st.uid]).toEqual([true, 0o644, 0]);
    expect(fs.readFileSync(path.join(d, TEXTFILE_NAME), "utf8")).toBe(CONTENT);
    expect(fs.readdirSync(d)).toEqual([TEXTFILE_NAME]);
  });

  it("replaces a symlink at DIR/vexo-sv.prom instead of writing through it (the target untouched)", () => {
    const d = dir();
    const target = precious();
    fs.symlinkSync(target.file, path.join(d, TEXTFILE_NAME));
    writeTextfile(d, CONTENT);
    expect(fs.lstatSync(path.join(d, TEXTFILE_NAME)).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(d, TEXTFILE_NAME), "utf8")).toBe(CONTENT);
    untouched(target);
  });

  it("does not create the target of a dangling symlink at DIR/vexo-sv.prom", () => {
    const d = dir();
    const target = path.join(dir(0o700), "created-through-the-link");
    fs.symlinkSync(target, path.join(d, TEXTFILE_NAME));
    writeTextfile(d, CONTENT);
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.lstatSync(path.join(d, TEXTFILE_NAME)).isFile()).toBe(true);
  });

  it("does not follow a symlink planted at the temp file's name: it fails, the target and the old file untouched", () => {
    const d = dir();
    fs.writeFileSync(path.join(d, TEXTFILE_NAME), "old\n", { mode: 0o644 });
    const target = precious();
    fixed.bytes = Buffer.from("c0ffee42", "hex");
    try {
      fs.symlinkSync(target.file, path.join(d, `.vexo-sv-tmp-${TEXTFILE_NAME}.${process.pid}.c0ffee42`));
      throwsWith(d, { code: "unsafe_file" });
    } finally {
      fixed.bytes = null;
    }
    untouched(target);
    expect(fs.readFileSync(path.join(d, TEXTFILE_NAME), "utf8")).toBe("old\n");
  });

  /** Refused as untrusted, naming the field; the hint moves DIR aside or goes elsewhere, never says chown; nothing written. */
  const expectRefused = (d: string, hint: RegExp, message = /./u) => {
    const before = fs.readdirSync(d);
    throwsWith(d, {
      code: "invalid_input",
      details: { field: "textfile" },
      message: expect.stringMatching(message),
      hint: expect.stringMatching(hint),
    });
    throwsWith(d, { hint: expect.not.stringMatching(/chown/iu) });
    expect(fs.readdirSync(d)).toEqual(before);
  };

  it("refuses a DIR the attacker owns, so its symlink there is never written through", async () => {
    const d = dir();
    fs.chownSync(d, atk.uid, atk.gid);
    const target = precious();
    const r = await atk.run("ln", ["-s", target.file, path.join(d, TEXTFILE_NAME)]);
    expect(r.code, r.stderr).toBe(0);
    expectRefused(d, new RegExp(`mv -T ${d} ${d}\\.untrusted`, "u"), new RegExp(`^${d} is owned by uid ${atk.uid} `, "u"));
    untouched(target);
  });

  it.each([
    ["group", 0o775],
    ["others", 0o777],
    ["others, sticky (like /tmp)", 0o1777],
  ])("refuses a DIR of root's writable by %s", (_, mode) => {
    const d = dir(mode);
    expectRefused(d, /mv -T/u);
  });

  it("refuses a DIR below a directory the attacker owns or others can write, naming that directory", () => {
    for (const [mode, owner] of [
      [0o755, atk.uid],
      [0o777, 0],
    ] as const) {
      const above = dir(mode);
      fs.chownSync(above, owner, owner);
      const d = dir(0o755, above);
      expectRefused(d, new RegExp(`^${above} is not root's alone.*a new directory`, "u"));
      throwsWith(d, { hint: expect.not.stringMatching(/mv -T/u) });
    }
  });

  it("a DIR that does not exist is an io_error, and is not created", () => {
    const d = path.join(dir(), "missing");
    throwsWith(d, { code: "io_error" });
    expect(fs.existsSync(d)).toBe(false);
  });
});
