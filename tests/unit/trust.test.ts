import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { shownPath, untrustedAt, untrustedReason } from "../../src/core/trust.js";
import { dir, file, isRoot, ME, OTHER, TRUST } from "../helpers/trust-fixtures.js";

// trust.ts: whether a path can be trusted, and how a path is shown in a message.

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
      const target = `/tmp/vexo-not-yet-${process.pid}-${path.basename(d)}`;
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

describe("shownPath", () => {
  it.each([
    ["/srv/app", "/srv/app"],
    ["/srv/my app", "/srv/my app"],
    ["/srv/a\nerror: x", '"/srv/a\\nerror: x"'],
    ["/srv/a\tb", '"/srv/a\\tb"'],
    ["/srv/\u202eevil", '"/srv/\\u202eevil"'],
    ["/srv/a\u2028b", '"/srv/a\\u2028b"'],
    ["/srv/\u009bx", '"/srv/\\u009bx"'],
  ])("%j", (p, shown) => {
    expect(shownPath(p)).toBe(shown);
  });
});
