import { describe, expect, it } from "vitest";
import { expandValue, pyInt } from "../../../src/core/python/format.js";

const M = (o: Record<string, string | number>) => new Map(Object.entries(o));

// One line a case: [format, expansions, result or {error: fragment}].
const expandCases: [string, Record<string, string | number>, string | { error: string }][] = [
  ["plain", {}, "plain"],
  ["%(program_name)s_%(process_num)02d", { program_name: "q", process_num: 3 }, "q_03"],
  ["%(process_num)d/%(numprocs)d", { process_num: 0, numprocs: 4 }, "0/4"],
  ["100%%", {}, "100%"],
  ["%%(here)s", { here: "/x" }, "%(here)s"],
  ["%(ENV_HOME)s/log", { ENV_HOME: "/home/u" }, "/home/u/log"],
  ["%(process_num)03x|%(process_num)#o|%(process_num)-4d|", { process_num: 10 }, "00a|0o12|10  |"],
  ["%(n)+05d|%(n) d|%(n).3d", { n: 7 }, "+0007| 7|007"],
  ["%(n)e|%(n)g|%(n).2f", { n: 1234567 }, "1.234567e+06|1.23457e+06|1234567.00"],
  ["%(s)5.2s|%(s)r", { s: "abc" }, "   ab|'abc'"],
  ["%(nope)s", {}, { error: "contains names ('nope') which cannot be expanded" }],
  ["%(program_name)d", { program_name: "q" }, { error: "badly formatted: %d format: a real number is required, not str" }],
  ["50%", {}, { error: "badly formatted: incomplete format" }],
  ["%(a", { a: 1 }, { error: "incomplete format key" }],
  ["%(a)q", { a: 1 }, { error: "unsupported format character 'q' (0x71) at index 4" }],
  ["%(a)5%", { a: 1 }, { error: "unsupported format character '%'" }],
  ["%s", { a: 1 }, { error: "badly formatted" }],
];

describe("expandValue", () => {
  it.each(expandCases)("%s", (fmt, exp, want) => {
    const got = expandValue(fmt, M(exp), "x");
    if (typeof want === "string") expect(got).toEqual({ ok: true, value: want });
    else expect(got.ok ? got.value : got.error).toContain(want.error);
  });
});

describe("pyInt", () => {
  it.each([
    [" 3 ", 3],
    ["+1_0", 10],
    ["\u0663", 3],
    ["-2", -2],
    ["1__0", null],
    ["3.0", null],
    ["", null],
  ] as const)("int(%j)", (s, want) => expect(pyInt(s)).toBe(want));
});
