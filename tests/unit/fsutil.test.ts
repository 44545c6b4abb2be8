import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLock, ensureDir, ioError, readIfExists, removeFile, sweepTempFiles, writeAtomic } from "../../src/core/fsutil.js";
import { TrustError, type TrustErrorCode } from "../../src/core/trust.js";
import { refusal } from "../helpers/scripted.js";
import { modeOf } from "../helpers/tmp.js";
import { dir, file, mkfifo } from "../helpers/trust-fixtures.js";

// src/core/fsutil.ts: files and directories as root writes them, on real temp files: exact modes
// whatever the umask, no symlink followed, atomic replacement, the flock lock.

const errno = (code: string) => Object.assign(new Error(`${code}: it failed`), { code });
const tempFiles = (d: string) => fs.readdirSync(d).filter((n) => n.startsWith(".vexo-sv-tmp-"));

describe("ioError: a failure as the error a caller reports", () => {
  it.each([
    ["EACCES", "permission_denied", "cannot write /x/f: permission denied"],
    ["EPERM", "permission_denied", "cannot write /x/f: permission denied"],
    ["EROFS", "io_error", "cannot write /x/f: read-only file system"],
    ["ENOSPC", "io_error", "cannot write /x/f: no space left on device"],
    ["EIO", "io_error", "cannot write /x/f: EIO: it failed"],
  ])("%s: %s", (code, want, message) => {
    const e = ioError("write", "/x/f", errno(code));
    expect([e.code, e.message]).toEqual([want, message]);
    expect(e.hint).toBe(want === "permission_denied" ? "run with sudo (the program directory belongs to root)" : undefined);
  });

  it.each(["symlink", "not_regular", "not_directory", "exists", "too_large", "wrong_owner", "hard_link"] as TrustErrorCode[])(
    "a planted file (%s) is unsafe_file, naming the path refused",
    (code) => {
      const e = ioError("read", "/x/f", new TrustError(code, "/x/real", "/x/real is planted"));
      expect([e.code, e.message, e.details]).toEqual(["unsafe_file", "cannot read /x/f: /x/real is planted", { file: "/x/real" }]);
    },
  );

  it("a TrustError that is only a failure is judged by the errno it wraps", () => {
    const io = new TrustError("io", "/x/f", "cannot write /x/f", { cause: errno("EACCES") });
    expect(ioError("write", "/x/f", io).code).toBe("permission_denied");
    const gone = new TrustError("not_found", "/x/f", "/x/f does not exist", { cause: errno("ENOENT") });
    expect([ioError("read", "/x/f", gone).code, ioError("read", "/x/f", gone).message]).toEqual([
      "io_error",
      "cannot read /x/f: ENOENT: it failed",
    ]);
  });

  it("a path that would forge a line of the message is shown quoted", () => {
    const e = ioError("write", "/x/a\nerror: forged", errno("EIO"));
    expect(e.message).toBe('cannot write "/x/a\\nerror: forged": EIO: it failed');
    expect(e.message.split("\n")).toHaveLength(1);
  });
});

describe("readIfExists", () => {
  it("reads a regular file; a missing one, or one under a missing directory, is null", () => {
    const d = dir();
    expect(readIfExists(file(path.join(d, "f"), "text\n"))).toBe("text\n");
    expect(readIfExists(path.join(d, "missing"))).toBeNull();
    expect(readIfExists(path.join(d, "no/such/f"))).toBeNull();
  });

  it("refuses a symlink (O_NOFOLLOW), even to a file it could read", async () => {
    const d = dir();
    const link = path.join(d, "l");
    fs.symlinkSync(file(path.join(d, "f"), "secret\n"), link);
    const e = await refusal(() => readIfExists(link));
    expect([e.code, e.message]).toEqual(["unsafe_file", `cannot read ${link}: ${link} is a symbolic link`]);
  });

  it("refuses a FIFO without hanging on it, and a directory", async () => {
    const d = dir();
    const fifo = await mkfifo(path.join(d, "fifo"));
    expect((await refusal(() => readIfExists(fifo))).message).toBe(`cannot read ${fifo}: ${fifo} is not a regular file`);
    expect((await refusal(() => readIfExists(d))).code).toBe("unsafe_file");
  });

  it("refuses a file over 8 MiB", async () => {
    const f = file(path.join(dir(), "big"), Buffer.alloc(8 * 1024 * 1024 + 1, 0x61));
    expect((await refusal(() => readIfExists(f))).message).toMatch(/is larger than 8388608 bytes$/u);
  });
});

describe.each([
  ["0000", 0],
  ["0077", 0o077],
])("exact modes under umask %s", (_, mask) => {
  let saved: number;
  beforeAll(() => {
    saved = process.umask(mask);
  });
  afterAll(() => {
    process.umask(saved);
  });

  it.each([
    [undefined, 0o644],
    [0o600, 0o600],
    [0o640, 0o640],
  ])("writeAtomic with mode %s makes %s", (mode, want) => {
    const f = path.join(dir(), "w.conf");
    writeAtomic(f, "x=1\n", mode);
    expect(modeOf(f)).toBe(want);
    expect(fs.readFileSync(f, "utf8")).toBe("x=1\n");
  });

  it("ensureDir makes every missing parent with exactly the mode, and leaves existing ones as they are", () => {
    const d = dir(0o700);
    ensureDir(path.join(d, "a/b/c"), 0o750);
    expect([d, `${d}/a`, `${d}/a/b`, `${d}/a/b/c`].map(modeOf)).toEqual([0o700, 0o750, 0o750, 0o750]);
    ensureDir(path.join(d, "a/b/c/d"));
    expect([`${d}/a/b/c`, `${d}/a/b/c/d`].map(modeOf)).toEqual([0o750, 0o755]);
  });

  it("acquireLock makes the lock file 0600", async () => {
    const d = dir();
    const lock = await acquireLock(d, 0);
    lock.release();
    expect(modeOf(path.join(d, ".vexo-sv.lock"))).toBe(0o600);
  });
});

describe("writeAtomic", () => {
  it("replaces a file by rename: a reader of the old file keeps the old bytes, and the mode is the one asked", () => {
    const d = dir();
    const f = file(path.join(d, "w.conf"), "old\n", 0o666);
    fs.linkSync(f, path.join(d, "reader"));
    writeAtomic(f, "new\n");
    expect(fs.readFileSync(f, "utf8")).toBe("new\n");
    expect(fs.readFileSync(path.join(d, "reader"), "utf8")).toBe("old\n");
    expect(modeOf(f)).toBe(0o644);
    expect(fs.readdirSync(d).sort()).toEqual(["reader", "w.conf"]);
  });

  it("writes a file in place of a symlink, never through it", () => {
    const d = dir();
    const target = file(path.join(d, "target"), "theirs\n");
    fs.symlinkSync(target, path.join(d, "w.conf"));
    writeAtomic(path.join(d, "w.conf"), "ours\n");
    expect(fs.lstatSync(path.join(d, "w.conf")).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(path.join(d, "w.conf"), "utf8")).toBe("ours\n");
    expect(fs.readFileSync(target, "utf8")).toBe("theirs\n");
  });

  it("fails as io_error and leaves no temp file: onto a directory, into a missing one", async () => {
    const d = dir();
    fs.mkdirSync(path.join(d, "sub"));
    const onto = await refusal(() => writeAtomic(path.join(d, "sub"), "x"));
    expect(onto.code).toBe("io_error");
    expect(onto.message.startsWith(`cannot write ${d}/sub: `)).toBe(true);
    expect(fs.readdirSync(path.join(d, "sub"))).toEqual([]);
    expect(tempFiles(d)).toEqual([]);
    const into = await refusal(() => writeAtomic(path.join(d, "none/w.conf"), "x"));
    expect(into.code).toBe("io_error");
    expect(fs.existsSync(path.join(d, "none"))).toBe(false);
  });
});

describe("removeFile", () => {
  it("removes a file, and a symlink itself (not what it points to); a missing file is no error", () => {
    const d = dir();
    removeFile(file(path.join(d, "f")));
    const target = file(path.join(d, "target"));
    fs.symlinkSync(target, path.join(d, "l"));
    removeFile(path.join(d, "l"));
    removeFile(path.join(d, "never-there"));
    expect(fs.readdirSync(d)).toEqual(["target"]);
  });

  it("refuses to remove a directory (io_error), and leaves it", async () => {
    const d = dir();
    fs.mkdirSync(path.join(d, "sub"));
    expect((await refusal(() => removeFile(path.join(d, "sub")))).code).toBe("io_error");
    expect(fs.statSync(path.join(d, "sub")).isDirectory()).toBe(true);
  });
});

describe("ensureDir", () => {
  it("refuses a dangling symlink where a directory goes, and makes nothing where it points", async () => {
    const d = dir();
    fs.symlinkSync(path.join(d, "elsewhere"), path.join(d, "logs"));
    const e = await refusal(() => ensureDir(path.join(d, "logs"), 0o750));
    expect([e.code, e.message]).toEqual(["unsafe_file", `cannot create directory ${d}/logs: ${d}/logs is a symbolic link`]);
    expect(fs.existsSync(path.join(d, "elsewhere"))).toBe(false);
  });

  it("refuses a file where a parent directory goes", async () => {
    const d = dir();
    file(path.join(d, "conf.d"));
    expect((await refusal(() => ensureDir(path.join(d, "conf.d/sub")))).message).toMatch(/^cannot create directory .*conf\.d\/sub: /u);
    expect(fs.statSync(path.join(d, "conf.d")).isFile()).toBe(true);
  });
});

describe("sweepTempFiles", () => {
  it("removes the temp files a killed run left, and nothing else", () => {
    const d = dir();
    for (const n of [".vexo-sv-tmp-w.conf.123.abcd", ".vexo-sv-tmp-x", "w.conf", ".vexo-sv.lock", "vexo-sv-tmp-y"]) file(path.join(d, n));
    sweepTempFiles(d);
    expect(fs.readdirSync(d).sort()).toEqual([".vexo-sv.lock", "vexo-sv-tmp-y", "w.conf"]);
  });

  it("a directory that is not there is nothing to sweep", () => {
    expect(() => sweepTempFiles(path.join(dir(), "missing"))).not.toThrow();
  });
});

describe("acquireLock", () => {
  it("is exclusive: a second run times out naming the lock, and gets it once the first releases", async () => {
    const d = dir();
    const first = await acquireLock(d, 0);
    const e = await refusal(acquireLock(d, 0));
    expect([e.code, e.message]).toEqual(["lock_timeout", `another vexo-sv run held ${d}/.vexo-sv.lock for more than 0s`]);
    first.release();
    const second = await acquireLock(d, 0);
    second.release();
  });

  it("release is idempotent: a second release closes nothing else", async () => {
    const d = dir();
    const lock = await acquireLock(d, 0);
    lock.release();
    const other = fs.openSync(file(path.join(d, "other")), "r");
    try {
      lock.release();
      expect(() => fs.fstatSync(other)).not.toThrow();
    } finally {
      fs.closeSync(other);
    }
  });

  it("refuses a planted symlink as the lock file, and creates nothing where it points", async () => {
    const d = dir();
    fs.symlinkSync(path.join(d, "victim"), path.join(d, ".vexo-sv.lock"));
    const e = await refusal(acquireLock(d, 0));
    expect([e.code, e.message]).toEqual([
      "unsafe_file",
      `cannot open the lock file ${d}/.vexo-sv.lock: ${d}/.vexo-sv.lock is a symbolic link`,
    ]);
    expect(fs.existsSync(path.join(d, "victim"))).toBe(false);
  });

  it("a directory that is not there is io_error", async () => {
    expect((await refusal(acquireLock(path.join(dir(), "missing"), 0))).code).toBe("io_error");
  });
});
