import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  TrustError,
  mkdirMode,
  openLockFile,
  openNoFollow,
  readRegularFile,
  shownPath,
  tailLinesSafe,
  untrustedAt,
  untrustedReason,
  writeFileExclusive,
} from "../../src/core/trust.js";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";

const isRoot = process.geteuid?.() === 0;
const ME = process.geteuid?.() ?? 0;
const TRUST = { trustedUids: [0, ME] };
/** A uid no test runs as; root may chown to it without the user existing. */
const OTHER = 4242;

// Not under a sticky dir of its own: /tmp (root, 1777) is an accepted ancestor, the rest is ours.
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "vexo-trust-")));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let seq = 0;
/** A fresh directory (mode 0755) under tmp. */
function dir(mode = 0o755): string {
  const d = path.join(tmp, `d${++seq}`);
  fs.mkdirSync(d);
  fs.chmodSync(d, mode);
  return d;
}

function file(p: string, content: string | Buffer = "x\n", mode = 0o644): string {
  fs.writeFileSync(p, content);
  fs.chmodSync(p, mode);
  return p;
}

/** The TrustError `fn` throws (fails the test if it throws something else or nothing). */
function trustError(fn: () => unknown): TrustError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TrustError) return e;
    throw e;
  }
  throw new Error("expected a TrustError");
}

async function mkfifo(p: string): Promise<string> {
  await execa("mkfifo", ["-m", "0644", p]);
  return p;
}

describe("untrustedReason", () => {
  it("accepts a chain of root-owned, non-writable components (and / itself)", () => {
    const d = dir();
    const f = file(path.join(d, "a.conf"));
    expect(untrustedReason(d, TRUST)).toBeUndefined();
    expect(untrustedReason(f, TRUST)).toBeUndefined();
    expect(untrustedReason("/", TRUST)).toBeUndefined();
    expect(untrustedReason("/etc/passwd", TRUST)).toBeUndefined();
  });

  it.runIf(isRoot)("reports a file owned by an untrusted uid, naming uid and mode", () => {
    const f = file(path.join(dir(), "a.conf"));
    fs.chownSync(f, OTHER, OTHER);
    expect(untrustedReason(f, TRUST)).toBe(`${f} is owned by uid ${OTHER} (mode 0644)`);
    expect(untrustedReason(f, { trustedUids: [0, OTHER] })).toBeUndefined();
  });

  it.runIf(isRoot)("reports an ancestor owned by an untrusted uid, the outermost first", () => {
    const outer = dir();
    const inner = path.join(outer, "inner");
    fs.mkdirSync(inner);
    const f = file(path.join(inner, "f"));
    fs.chownSync(inner, OTHER, 0);
    fs.chownSync(f, OTHER + 1, 0);
    expect(untrustedReason(f, TRUST)).toBe(`${inner} is owned by uid ${OTHER} (mode 0755)`);
    fs.chownSync(outer, OTHER + 2, 0);
    expect(untrustedReason(f, TRUST)).toMatch(new RegExp(`^${outer} is owned by uid ${OTHER + 2}`));
  });

  it("reports a component writable by others or by its group", () => {
    const d = dir(0o777);
    const f = file(path.join(d, "f"));
    expect(untrustedReason(f, TRUST)).toBe(`${d} is writable by others (mode 0777)`);
    fs.chmodSync(d, 0o775);
    expect(untrustedReason(f, TRUST)).toBe(`${d} is writable by group ${fs.statSync(d).gid} (mode 0775)`);
    fs.chmodSync(d, 0o755);
    fs.chmodSync(f, 0o666);
    expect(untrustedReason(f, TRUST)).toBe(`${f} is writable by others (mode 0666)`);
  });

  it("accepts a root-owned sticky directory as an ancestor, not as the path itself", () => {
    const sticky = dir(0o1777);
    const f = file(path.join(sticky, "f"));
    expect(untrustedReason(f, TRUST)).toBeUndefined();
    expect(untrustedReason(sticky, TRUST)).toBe(`${sticky} is writable by others (mode 1777)`);
    expect(untrustedReason("/tmp", TRUST)).toBe("/tmp is writable by others (mode 1777)");
    fs.mkdirSync(path.join(sticky, "sub"), 0o755);
    expect(untrustedReason(`${sticky}/sub/..`, TRUST)).toBe(`${sticky} is writable by others (mode 1777)`);
    expect(untrustedReason(`${f}/..`, TRUST)).toBe(`${f} is not a directory`); // as the kernel says (ENOTDIR)
    expect(untrustedReason(`${sticky}/.`, TRUST)).toBe(`${sticky} is writable by others (mode 1777)`);
  });

  it.runIf(isRoot)("does not accept a sticky directory that is not root's", () => {
    const sticky = dir(0o1777);
    const f = file(path.join(sticky, "f"));
    fs.chownSync(sticky, ME === 0 ? OTHER : ME, 0);
    expect(untrustedReason(f, { trustedUids: [0, OTHER] })).toBe(`${sticky} is writable by others (mode 1777)`);
  });

  it("accepts a missing path below good directories, but not below a writable one", () => {
    const d = dir();
    expect(untrustedReason(path.join(d, "missing/deeper/f"), TRUST)).toBeUndefined();
    fs.chmodSync(d, 0o777);
    expect(untrustedReason(path.join(d, "missing"), TRUST)).toBe(`${d} is writable by others (mode 0777)`);
  });

  it("reports a file used as a directory, and an invalid path", () => {
    const f = file(path.join(dir(), "f"));
    expect(untrustedReason(path.join(f, "x"), TRUST)).toBe(`${f} is not a directory`);
    expect(untrustedReason("", TRUST)).toBe('"" is not a valid path');
    expect(untrustedReason("/a\0b", TRUST)).toMatch(/is not a valid path/);
  });

  it("resolves a relative path from the working directory", () => {
    expect(untrustedReason("package.json", TRUST)).toBe(untrustedReason(path.resolve("package.json"), TRUST));
  });

  describe("symlinks", () => {
    it("reports a symlink that is the path itself, even a good one, unless followFinal", () => {
      const d = dir();
      const target = file(path.join(d, "target"));
      const link = path.join(d, "link");
      fs.symlinkSync(target, link);
      expect(untrustedReason(link, TRUST)).toBe(`${link} is a symbolic link`);
      expect(untrustedReason(link, { ...TRUST, followFinal: true })).toBeUndefined();
      fs.chmodSync(target, 0o666);
      expect(untrustedReason(link, { ...TRUST, followFinal: true })).toBe(
        `${target} is writable by others (mode 0666) (reached through the symbolic link ${link})`,
      );
    });

    it("follows a trusted symlink as an ancestor and checks what its target goes through", () => {
      const real = dir();
      const f = file(path.join(real, "f"));
      const d = dir();
      fs.symlinkSync(real, path.join(d, "current")); // like a deploy's current -> releases/N
      fs.symlinkSync(`../${path.basename(real)}`, path.join(d, "rel"));
      expect(untrustedReason(path.join(d, "current/f"), TRUST)).toBeUndefined();
      expect(untrustedReason(path.join(d, "rel/f"), TRUST)).toBeUndefined();
      fs.chmodSync(real, 0o777);
      expect(untrustedReason(path.join(d, "current/f"), TRUST)).toBe(
        `${real} is writable by others (mode 0777) (reached through the symbolic link ${d}/current)`,
      );
      expect(untrustedReason(path.join(d, "rel/f"), TRUST)).toMatch(new RegExp(`^${real} is writable by others`));
      expect(f).toBeTruthy();
    });

    it.runIf(isRoot)("reports a symlink owned by an untrusted uid, whatever its target", () => {
      const d = dir();
      const link = path.join(d, "etc");
      fs.symlinkSync("/etc", link);
      fs.lchownSync(link, OTHER, OTHER);
      expect(untrustedReason(path.join(link, "passwd"), TRUST)).toBe(`${link} is owned by uid ${OTHER} (mode 0777)`);
    });

    it("resolves .. after a symlink the way the kernel does (from the target, not textually)", () => {
      const bad = dir(0o777);
      const sub = path.join(bad, "sub");
      fs.mkdirSync(sub);
      fs.chmodSync(sub, 0o755);
      const d = dir();
      fs.symlinkSync(sub, path.join(d, "link"));
      file(path.join(d, "f"));
      file(path.join(bad, "f"));
      // Textually d/link/../f is d/f (fine); the kernel opens bad/f.
      expect(untrustedReason(path.join(d, "link") + "/../f", TRUST)).toMatch(new RegExp(`^${bad} is writable by others`));
    });

    it("reports a symlink loop, and a link to / is a link to the root", () => {
      const d = dir();
      fs.symlinkSync(path.join(d, "b"), path.join(d, "a"));
      fs.symlinkSync(path.join(d, "a"), path.join(d, "b"));
      expect(untrustedReason(path.join(d, "a/x"), TRUST)).toMatch(/too many levels of symbolic links/);
      fs.symlinkSync("/", path.join(d, "root"));
      expect(untrustedReason(path.join(d, "root/etc/passwd"), TRUST)).toBeUndefined();
      expect(untrustedReason(path.join(d, "root"), { ...TRUST, followFinal: true })).toBeUndefined();
    });

    it("reports a dangling symlink as the path, accepts one as an ancestor (nothing there yet)", () => {
      const d = dir();
      fs.symlinkSync(path.join(d, "nowhere"), path.join(d, "dangling"));
      expect(untrustedReason(path.join(d, "dangling"), TRUST)).toBe(`${d}/dangling is a symbolic link`);
      expect(untrustedReason(path.join(d, "dangling/f"), TRUST)).toBeUndefined();
    });

    it("review r2 #2: past a link, a missing target in /tmp (anyone may create it) is a reason; on a plain path it is not", () => {
      const d = dir();
      const target = `/tmp/vexo-not-yet-${process.pid}-${seq}`;
      fs.symlinkSync(target, path.join(d, "storage"));
      const follow = { ...TRUST, followFinal: true };
      const want = `${target} does not exist yet, and /tmp lets others create it (mode 1777) (reached through the symbolic link ${d}/storage)`;
      expect(untrustedReason(path.join(d, "storage"), follow)).toBe(want);
      expect(untrustedReason(path.join(d, "storage/framework/views"), TRUST)).toMatch(/^\/tmp\/vexo-not-yet-.* does not exist yet/u);
      expect(untrustedAt(path.join(d, "storage"), follow)?.path).toBe("/tmp");
      // A path vexo-sv creates itself (mkdir or O_EXCL, then the owner checked) may stay under /tmp.
      expect(untrustedReason(target, TRUST)).toBeUndefined();
      // Past a link into a directory only its owner can write, a missing target is still fine.
      fs.symlinkSync(path.join(dir(), "later"), path.join(d, "cache"));
      expect(untrustedReason(path.join(d, "cache"), follow)).toBeUndefined();
    });

    it("untrustedAt names the outermost bad component, past the links followed", () => {
      const bad = dir(0o777);
      fs.mkdirSync(path.join(bad, "logs"), { mode: 0o755 });
      const d = dir();
      fs.symlinkSync(bad, path.join(d, "var"));
      expect(untrustedAt(path.join(d, "var/logs"), TRUST)?.path).toBe(bad);
      expect(untrustedAt(path.join(bad, "logs"), TRUST)?.path).toBe(bad);
      expect(untrustedAt(path.join(d, "var"), TRUST)?.path).toBe(path.join(d, "var"));
      expect(untrustedAt(d, TRUST)).toBeUndefined();
    });
  });
});

describe("shownPath (review r2 #4: a path in a message stays one word on one line)", () => {
  it.each([
    ["a plain path stays", "/srv/app/storage/logs", "/srv/app/storage/logs"],
    ["spaces, quotes and non-ASCII stay", "/srv/my app/it's/évènements", "/srv/my app/it's/évènements"],
    ["a newline is quoted", "/l/x\nerror: forged", '"/l/x\\nerror: forged"'],
    ["a tab is quoted", "/l/a\tb", '"/l/a\\tb"'],
    ["ESC and C1", "/l/\u001b[2J\u009b", '"/l/\\u001b[2J\\u009b"'],
    ["DEL", "/l/a\u007f", '"/l/a\\u007f"'],
    ["a bidi override", "/l/gol\u202egpj.log", '"/l/gol\\u202egpj.log"'],
    ["bidi isolates and marks", "/l/\u2066a\u2069\u200f", '"/l/\\u2066a\\u2069\\u200f"'],
    ["line and paragraph separators", "/l/a\u2028b\u2029", '"/l/a\\u2028b\\u2029"'],
    ["a zero-width space", "/l/a\u200bb", '"/l/a\\u200bb"'],
    ["a tag character (outside the BMP)", "/l/\u{e0041}", '"/l/\\udb40\\udc41"'],
  ])("%s", (_label, p, want) => {
    const shown = shownPath(p);
    expect(shown).toBe(want);
    expect(shown === p ? p : JSON.parse(shown)).toBe(p);
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/u);
  });

  it("is what untrustedReason shows", () => {
    const d = dir(0o777);
    const evil = path.join(d, "x\nerror: forged");
    fs.mkdirSync(evil);
    expect(untrustedReason(path.join(evil, "f"), TRUST)).toBe(`${d} is writable by others (mode 0777)`);
    fs.chmodSync(d, 0o755);
    fs.chmodSync(evil, 0o777);
    expect(untrustedReason(path.join(evil, "f"), TRUST)).toBe(`${JSON.stringify(evil)} is writable by others (mode 0777)`);
  });
});

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
