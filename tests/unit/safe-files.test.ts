import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  mkdirMode,
  openLockFile,
  openNoFollow,
  readRegularFile,
  scanLogTail,
  tailLinesSafe,
  writeFileExclusive,
} from "../../src/core/safe-files.js";
import { dir, file, isRoot, ME, mkfifo, OTHER, trustError } from "../helpers/trust-fixtures.js";

// safe-files.ts: opening, reading, tailing and creating files where other users may reach.

describe("openNoFollow / readRegularFile", () => {
  it("reads a regular file", () => {
    const f = file(path.join(dir(), "f"), "héllo\n");
    expect(readRegularFile(f)).toBe("héllo\n");
    const fd = openNoFollow(f);
    expect(fs.fstatSync(fd).isFile()).toBe(true);
    fs.closeSync(fd);
  });

  it("follows symlinked ancestors (check those with untrustedReason)", () => {
    const d = dir();
    file(path.join(d, "f"), "ok");
    const link = path.join(dir(), "link");
    fs.symlinkSync(d, link);
    expect(readRegularFile(path.join(link, "f"))).toBe("ok");
  });

  it("refuses a symlink, even to a regular file", () => {
    const d = dir();
    fs.symlinkSync("/etc/passwd", path.join(d, "l"));
    const e = trustError(() => readRegularFile(path.join(d, "l")));
    expect([e.code, e.message]).toEqual(["symlink", `${d}/l is a symbolic link`]);
    expect(trustError(() => openNoFollow(path.join(d, "l"))).code).toBe("symlink");
  });

  it("refuses a FIFO at once, for reading and for writing", async () => {
    const fifo = await mkfifo(path.join(dir(), "fifo"));
    const e = trustError(() => readRegularFile(fifo));
    expect([e.code, e.message]).toEqual(["not_regular", `${fifo} is not a regular file`]);
    expect(trustError(() => openNoFollow(fifo, fs.constants.O_WRONLY)).code).toBe("not_regular");
  });

  it("refuses a directory, a socket and a device", async () => {
    const d = dir();
    expect(trustError(() => readRegularFile(d)).code).toBe("not_regular");
    expect(trustError(() => readRegularFile("/dev/null")).message).toBe("/dev/null is not a regular file");
    const sock = path.join(d, "s.sock");
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      expect(trustError(() => readRegularFile(sock)).code).toBe("not_regular");
    } finally {
      server.close();
    }
  });

  it("reports a missing file, and a file over maxBytes", () => {
    const d = dir();
    expect(trustError(() => readRegularFile(path.join(d, "nope"))).code).toBe("not_found");
    const f = file(path.join(d, "big"), "0123456789");
    expect(readRegularFile(f, 10)).toBe("0123456789");
    const e = trustError(() => readRegularFile(f, 9));
    expect([e.code, e.message]).toEqual(["too_large", `${f} is larger than 9 bytes`]);
  });

  it("creates a file when asked to (O_CREAT), never through a dangling symlink", () => {
    const d = dir();
    const fd = openNoFollow(path.join(d, "new"), fs.constants.O_WRONLY | fs.constants.O_CREAT);
    fs.closeSync(fd);
    expect(fs.lstatSync(path.join(d, "new")).isFile()).toBe(true);
    fs.symlinkSync(path.join(d, "victim"), path.join(d, "dangling"));
    expect(trustError(() => openNoFollow(path.join(d, "dangling"), fs.constants.O_WRONLY | fs.constants.O_CREAT)).code).toBe("symlink");
    expect(fs.existsSync(path.join(d, "victim"))).toBe(false);
  });
});

describe("tailLinesSafe", () => {
  const t = (content: string | Buffer, n: number, max?: number) => tailLinesSafe(file(path.join(dir(), "log"), content), n, max);

  it("returns the last n lines, all of them when fewer", () => {
    expect(t("a\nb\nc\n", 2)).toEqual({ lines: ["b", "c"], truncated: 0 });
    expect(t("a\nb\nc\n", 10)).toEqual({ lines: ["a", "b", "c"], truncated: 0 });
    expect(t("a\nb\nc\n", 0)).toEqual({ lines: [], truncated: 0 });
  });

  it("counts a final line without newline, keeps blank lines, drops the CR of CRLF", () => {
    expect(t("a\nb", 5).lines).toEqual(["a", "b"]);
    expect(t("a\n\n\nb\n", 5).lines).toEqual(["a", "", "", "b"]);
    expect(t("a\r\nb\r\n", 5).lines).toEqual(["a", "b"]);
    expect(t("a\rb\n", 5).lines).toEqual(["a\rb"]);
    expect(t("\n", 5).lines).toEqual([""]);
    expect(t("", 5).lines).toEqual([]);
  });

  it("gives no lines for a missing file", () => {
    expect(tailLinesSafe(path.join(dir(), "missing.log"), 10)).toEqual({ lines: [], truncated: 0 });
  });

  it("refuses a symlink and a FIFO", async () => {
    const d = dir();
    fs.symlinkSync("/etc/passwd", path.join(d, "l.log"));
    expect(trustError(() => tailLinesSafe(path.join(d, "l.log"), 5)).code).toBe("symlink");
    const fifo = await mkfifo(path.join(d, "f.log"));
    expect(trustError(() => tailLinesSafe(fifo, 5)).code).toBe("not_regular");
  });

  it("with singleLink, refuses a file with another hard link (review r2 #5)", () => {
    const d = dir();
    const f = file(path.join(d, "w_00.log"), "a\nb\n");
    expect(tailLinesSafe(f, 1, 1024, { singleLink: true }).lines).toEqual(["b"]);
    fs.linkSync(f, path.join(d, "held"));
    const e = trustError(() => tailLinesSafe(f, 1, 1024, { singleLink: true }));
    expect(e.code).toBe("hard_link");
    expect(e.message).toBe(`${f} has 2 hard links: whoever holds another one can read and write it`);
    expect(tailLinesSafe(f, 1).lines).toEqual(["b"]); // not asked: read as before
  });

  it("rejects a bad line count", () => {
    const f = file(path.join(dir(), "log"));
    expect(() => tailLinesSafe(f, -1)).toThrow(RangeError);
    expect(() => tailLinesSafe(f, 1.5)).toThrow(RangeError);
    expect(() => tailLinesSafe(f, 1, 0)).toThrow(RangeError);
  });

  it("matches a plain split on lines that straddle 64 KiB chunks", () => {
    // Deterministic pseudo-random line lengths from 0 to ~150 KiB, some CRLF, multi-byte text.
    let x = 7;
    const rnd = (m: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % m);
    const lines = Array.from({ length: 60 }, (_, i) => `${i}:` + "é€x".repeat(rnd(3) === 0 ? rnd(50_000) : rnd(40)));
    const text = lines.map((l, i) => (i % 7 === 0 ? `${l}\r\n` : `${l}\n`)).join("");
    const f = file(path.join(dir(), "log"), text);
    for (const n of [1, 2, 5, 17, 59, 60, 100]) {
      expect(tailLinesSafe(f, n, 1024 * 1024)).toEqual({ lines: lines.slice(-n), truncated: 0 });
    }
  });

  it("cuts a line over maxLineBytes to its last bytes, counts it, and stops there", () => {
    expect(t("old\n0123456789abcdef\nnew\n", 5, 10)).toEqual({ lines: ["6789abcdef", "new"], truncated: 1 });
    expect(t("old\n0123456789\nnew\n", 5, 10)).toEqual({ lines: ["old", "0123456789", "new"], truncated: 0 });
    expect(t("x".repeat(200_000), 3, 1000)).toEqual({ lines: ["x".repeat(1000)], truncated: 1 });
  });

  it("never cuts in the middle of a UTF-8 character", () => {
    // "é" is 2 bytes, "€" 3: the last 10 bytes of "€€€€" begin inside a "€".
    const r = t("€€€€\n", 1, 10);
    expect(r).toEqual({ lines: ["€€€"], truncated: 1 });
    expect(t("aé€é\n", 1, 6)).toEqual({ lines: ["€é"], truncated: 1 });
  });

  describe("a 600 MB log with no newline", () => {
    let big: string;
    beforeAll(() => {
      big = path.join(dir(), "huge.log");
      const fd = fs.openSync(big, "w", 0o644);
      fs.ftruncateSync(fd, 600 * 1024 * 1024); // sparse: no disk, but every read of it is real
      fs.writeSync(fd, "THE END", 600 * 1024 * 1024);
      fs.closeSync(fd);
    });
    afterEach(() => vi.restoreAllMocks());

    it("costs two chunks and little memory, not the file size", () => {
      const reads = vi.spyOn(fs, "readSync");
      const rss = process.memoryUsage().rss;
      const r = tailLinesSafe(big, 100);
      const grown = process.memoryUsage().rss - rss;
      expect(r.truncated).toBe(1);
      expect(r.lines).toHaveLength(1);
      expect(Buffer.byteLength(r.lines[0] as string)).toBe(64 * 1024);
      expect(r.lines[0]?.endsWith("\0THE END")).toBe(true);
      expect(reads).toHaveBeenCalled();
      const bytesRead = reads.mock.calls.reduce((sum, call) => sum + Number((call as unknown[])[3]), 0);
      expect(bytesRead).toBeLessThanOrEqual(2 * 64 * 1024);
      expect(grown).toBeLessThan(64 * 1024 * 1024);
    });
  });
});

describe("scanLogTail", () => {
  const all = Number.MAX_SAFE_INTEGER;
  const scan = (content: string, limits: { maxBytes?: number; stopAt?: (l: string) => boolean; maxLines?: number }) => {
    const r = scanLogTail(file(path.join(dir(), "log"), content), { maxLines: all, maxLineBytes: 1024, ...limits });
    return r && { lines: r.lines, startReached: r.startReached };
  };

  it("says whether the file's start was reached, and which file it read", () => {
    expect(scan("a\nb\n", {})).toEqual({ lines: ["a", "b"], startReached: true });
    expect(scan("", {})).toEqual({ lines: [], startReached: true });
    expect(scan("a\nb\nc\n", { maxLines: 2 })).toEqual({ lines: ["b", "c"], startReached: false });
    const f = file(path.join(dir(), "log"), "abc\n");
    const r = scanLogTail(f, { maxLines: 1, maxLineBytes: 10 });
    expect([r?.dev, r?.ino, r?.size]).toEqual([fs.statSync(f).dev, fs.statSync(f).ino, 4]);
    expect(scanLogTail(path.join(dir(), "missing"), { maxLines: 1, maxLineBytes: 10 })).toBeNull();
  });

  it("reads at most maxBytes from the end and leaves out the line the bound cuts", () => {
    expect(scan("aaaa\nbbbb\ncccc\n", { maxBytes: 12 })).toEqual({ lines: ["bbbb", "cccc"], startReached: false });
    expect(scan("aaaa\nbbbb\ncccc\n", { maxBytes: 10 })).toEqual({ lines: ["bbbb", "cccc"], startReached: false });
    expect(scan("aaaa\nbbbb\ncccc\n", { maxBytes: 9 })).toEqual({ lines: ["cccc"], startReached: false });
    expect(scan("aaaa\nbbbb\ncccc\n", { maxBytes: 15 })).toEqual({ lines: ["aaaa", "bbbb", "cccc"], startReached: true });
    expect(scan("aaaa\n\ncccc\n", { maxBytes: 6 })).toEqual({ lines: ["", "cccc"], startReached: false });
    expect(scan("aaaa\n", { maxBytes: 0 })).toEqual({ lines: [], startReached: false });
    expect(() => scan("a\n", { maxBytes: -1 })).toThrow(RangeError);
  });

  it("stops at the first line stopAt accepts, and returns it", () => {
    expect(scan("1\n2\n3\n4\n", { stopAt: (l) => Number(l) <= 2 })).toEqual({ lines: ["2", "3", "4"], startReached: false });
    expect(scan("1\n2\n", { stopAt: () => false })).toEqual({ lines: ["1", "2"], startReached: true });
  });
});

const octal = (modes: number[]) => modes.map((m) => [m.toString(8).padStart(4, "0"), m] as const);

describe.each(octal([0, 0o077]))("creating with exact modes under umask %s", (_, mask) => {
  let saved: number;
  beforeAll(() => {
    saved = process.umask(mask);
  });
  afterAll(() => {
    process.umask(saved);
  });

  it.each(octal([0o644, 0o600, 0o640, 0o444, 0o4755]))("writeFileExclusive gives mode %s", (_, mode) => {
    const f = path.join(dir(), "f");
    writeFileExclusive(f, "content\n", mode);
    expect(fs.lstatSync(f).mode & 0o7777).toBe(mode);
    expect(fs.readFileSync(f, "utf8")).toBe("content\n");
  });

  it.each(octal([0o755, 0o700, 0o750, 0o2775, 0o1777]))("mkdirMode gives mode %s", (_, mode) => {
    const d = path.join(dir(), "sub");
    mkdirMode(d, mode);
    expect(fs.lstatSync(d).mode & 0o7777).toBe(mode);
    mkdirMode(d, 0o711); // an existing directory of ours converges to the mode asked for
    expect(fs.lstatSync(d).mode & 0o7777).toBe(0o711);
  });

  it("(control: the umask is in force for plain fs calls)", () => {
    const f = path.join(dir(), "plain");
    fs.writeFileSync(f, "", { mode: 0o666 });
    expect(fs.lstatSync(f).mode & 0o777).toBe(0o666 & ~mask);
  });

  it("openLockFile creates 0600", () => {
    const f = path.join(dir(), "x.lock");
    const fd = openLockFile(f);
    fs.closeSync(fd);
    expect(fs.lstatSync(f).mode & 0o7777).toBe(0o600);
  });
});

describe("writeFileExclusive", () => {
  it("refuses an existing file and a dangling symlink, without touching either's target", () => {
    const d = dir();
    const f = file(path.join(d, "f"), "old");
    const e = trustError(() => writeFileExclusive(f, "new", 0o644));
    expect([e.code, e.message]).toEqual(["exists", `${f} already exists`]);
    expect(fs.readFileSync(f, "utf8")).toBe("old");
    fs.symlinkSync(path.join(d, "victim"), path.join(d, "l"));
    expect(trustError(() => writeFileExclusive(path.join(d, "l"), "new", 0o644)).code).toBe("exists");
    expect(fs.existsSync(path.join(d, "victim"))).toBe(false);
  });

  it("writes bytes, and rejects a mode out of range", () => {
    const f = path.join(dir(), "b");
    writeFileExclusive(f, Buffer.from([0, 1, 2]), 0o600);
    expect([...fs.readFileSync(f)]).toEqual([0, 1, 2]);
    expect(() => writeFileExclusive(path.join(dir(), "c"), "", 0o10000)).toThrow(RangeError);
  });
});

describe("mkdirMode", () => {
  it("refuses a symlink to a directory, and leaves the target's mode alone", () => {
    const target = dir(0o755);
    const link = path.join(dir(), "l");
    fs.symlinkSync(target, link);
    const e = trustError(() => mkdirMode(link, 0o777));
    expect([e.code, e.message]).toEqual(["symlink", `${link} is a symbolic link`]);
    expect(fs.statSync(target).mode & 0o7777).toBe(0o755);
  });

  it("refuses a file, and a missing parent", () => {
    const f = file(path.join(dir(), "f"));
    expect(trustError(() => mkdirMode(f, 0o755))).toMatchObject({ code: "not_directory", message: `${f} is not a directory` });
    const d = dir();
    expect(trustError(() => mkdirMode(path.join(d, "a/b"), 0o755))).toMatchObject({ code: "not_found", message: `${d}/a does not exist` });
  });

  it.runIf(isRoot)("refuses a directory owned by someone else, and leaves its mode alone", () => {
    const d = path.join(dir(), "theirs");
    fs.mkdirSync(d, 0o755);
    fs.chownSync(d, OTHER, OTHER);
    expect(trustError(() => mkdirMode(d, 0o700))).toMatchObject({
      code: "wrong_owner",
      message: `${d} is owned by uid ${OTHER}, not by uid ${ME}`,
    });
    expect(fs.statSync(d).mode & 0o7777).toBe(0o755);
  });
});

describe("openLockFile", () => {
  it("returns a read-write fd, reopens an existing lock and narrows its mode to 0600", () => {
    const f = path.join(dir(), "x.lock");
    const fd = openLockFile(f);
    fs.writeSync(fd, "1");
    fs.closeSync(fd);
    fs.chmodSync(f, 0o644);
    const again = openLockFile(f);
    expect(fs.readFileSync(again, "utf8")).toBe("1");
    fs.closeSync(again);
    expect(fs.lstatSync(f).mode & 0o7777).toBe(0o600);
  });

  it("refuses a symlink (even to our own lock), a FIFO and a directory", async () => {
    const d = dir();
    const real = path.join(d, "real.lock");
    fs.closeSync(openLockFile(real));
    fs.symlinkSync(real, path.join(d, "l.lock"));
    expect(trustError(() => openLockFile(path.join(d, "l.lock"))).code).toBe("symlink");
    fs.symlinkSync(path.join(d, "victim"), path.join(d, "dangling.lock"));
    expect(trustError(() => openLockFile(path.join(d, "dangling.lock"))).code).toBe("symlink");
    expect(fs.existsSync(path.join(d, "victim"))).toBe(false);
    const fifo = await mkfifo(path.join(d, "fifo.lock"));
    expect(trustError(() => openLockFile(fifo)).code).toBe("not_regular");
    expect(trustError(() => openLockFile(d)).code).toBe("not_regular");
  });

  it.runIf(isRoot)("refuses a lock file owned by someone else, and leaves it alone", () => {
    const f = file(path.join(dir(), "x.lock"), "", 0o666);
    fs.chownSync(f, OTHER, OTHER);
    expect(trustError(() => openLockFile(f))).toMatchObject({
      code: "wrong_owner",
      message: `${f} is owned by uid ${OTHER}, not by uid ${ME}`,
    });
    expect(fs.lstatSync(f).mode & 0o7777).toBe(0o666);
  });
});
