import { describe, expect, it } from "vitest";
import { dictOfKeyValuePairs, shlexSplit } from "../../../src/core/python/shlex.js";

describe("shlex", () => {
  it.each([
    ['php "/a b/artisan" x', ["php", "/a b/artisan", "x"]],
    ["a  b\tc", ["a", "b", "c"]],
    ["a'b c'd", ["ab cd"]],
    ['"" x', ["", "x"]],
    // Python's shlex splits on space, tab, CR and LF only: a no-break space stays inside a word.
    ["/srv/caf\u00e9\u00a0app/artisan x", ["/srv/caf\u00e9\u00a0app/artisan", "x"]],
  ])("shlex-splits %j", (s, argv) => {
    expect(shlexSplit(s)).toEqual(argv);
  });

  it.each([
    ["A=1,B=2", { A: "1", B: "2" }],
    ["A=\"x,y\",B='z'", { A: "x,y", B: "z" }],
    ["A=/a/b:c(d),B=1.5+x", { A: "/a/b:c(d)", B: "1.5+x" }],
    ["A=b#c\nD=e", { A: "bD", e: "" }],
  ] as const)("dict_of_key_value_pairs %j", (arg, want) => {
    if (arg.includes("#")) expect(() => dictOfKeyValuePairs(arg)).toThrow(/Unexpected end/);
    else expect(Object.fromEntries(dictOfKeyValuePairs(arg))).toEqual(want);
  });
});
