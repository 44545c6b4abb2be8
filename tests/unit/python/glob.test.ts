import { describe, expect, it } from "vitest";
import { fnmatchRegExp, globMatch, pyGlob } from "../../../src/core/python/glob.js";
import { memFs } from "../../helpers/memfs.js";

describe("fnmatch and glob", () => {
  it.each([
    ["*.conf", "a.conf", true],
    ["*.conf", "a.ini", false],
    ["[ab].conf", "b.conf", true],
    ["[!ab].conf", "b.conf", false],
    ["[a-c]x", "bx", true],
    ["[z-a]x", "zx", false],
    ["[!]x", "[!]x", true],
    ["a[", "a[", true],
    ["?.conf", "ab.conf", false],
    ["*a*b", "xaab", true],
  ] as const)("fnmatch(%j, %j) = %j", (pat, name, want) => expect(fnmatchRegExp(pat).test(name)).toBe(want));

  it("globs like Python: hidden files need a dot pattern, [..] and ? stay within a segment", () => {
    const { listDir } = memFs({ "/c/a.conf": "", "/c/.h.conf": "", "/c/sub/x.conf": "", "/d/e/f.conf": "" });
    expect(pyGlob("/c/*.conf", listDir).sort()).toEqual(["/c/a.conf"]);
    expect(pyGlob("/c/.*.conf", listDir)).toEqual(["/c/.h.conf"]);
    expect(pyGlob("/c/*", listDir).sort()).toEqual(["/c/a.conf", "/c/sub"]);
    expect(pyGlob("/*/*/f.conf", listDir)).toEqual(["/d/e/f.conf"]);
    expect(pyGlob("/c/a.conf", listDir)).toEqual(["/c/a.conf"]);
    expect(pyGlob("/c/none.conf", listDir)).toEqual([]);
  });
});

describe("globMatch (Python glob semantics)", () => {
  it.each([
    ["/etc/supervisor/conf.d/*.conf", "/etc/supervisor/conf.d/a.conf", true],
    ["/etc/supervisor/conf.d/*.conf", "/etc/supervisor/conf.d/.vexo-sv-tmp-a.conf.1", false],
    ["/etc/supervisor/conf.d/*.conf", "/etc/supervisor/conf.d/.hidden.conf", false],
    ["/etc/supervisor/conf.d/*", "/etc/supervisor/conf.d/.vexo-sv.lock", false],
    ["/etc/supervisord.d/*.ini", "/etc/supervisord.d/a.conf", false],
    ["/etc/supervisord.d/*.ini", "/etc/supervisord.d/sub/a.ini", false],
    ["/x/[ab].conf", "/x/a.conf", true],
    ["/x/?.conf", "/x/ab.conf", false],
  ])("%s ~ %s = %s", (g, f, want) => expect(globMatch(g, f)).toBe(want));
});

describe("globMatch agrees with pyGlob (one glob, issue 25)", () => {
  // [pattern, file]: globMatch must say exactly whether Python's glob would yield the file.
  it.each([
    ["/x/*.conf", "/x/a.conf"],
    ["/x/*.conf", "/x/.a.conf"],
    ["/x/.*", "/x/.a.conf"],
    ["/x/[a-c].conf", "/x/b.conf"],
    // `[!]x` has no closing bracket for fnmatch: a literal name, not "any one character, then x".
    ["/x/[!]x", "/x/ax"],
    ["/x/[!]x", "/x/[!]x"],
    // An empty range matches nothing (a JS class [z-a] would not even compile).
    ["/x/[z-a]x", "/x/zx"],
    ["/x/[]].conf", "/x/].conf"],
    ["/x/*/a.conf", "/x/d/a.conf"],
    ["/x/*", "/x/d/a.conf"],
  ])("%s ~ %s", (pattern, file) => {
    const { listDir } = memFs({ [file]: "" });
    expect(globMatch(pattern, file)).toBe(pyGlob(pattern, listDir).includes(file));
  });
});
