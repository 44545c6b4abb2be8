import { existsSync } from "node:fs";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { splitUniversalLines } from "../../../src/core/python/str.js";
import { type ParsedIni, parseConfigText, readIntoIni, createIni } from "../../../src/core/supervisord/configparser.js";

const PYTHON = "/usr/bin/python3";
const SUPERVISOR_SRC = "/usr/lib/python3/dist-packages/supervisor";
const REF = new URL("../../helpers/supervisor_ref.py", import.meta.url).pathname;
const HAVE_SUPERVISOR = existsSync(SUPERVISOR_SRC) && existsSync(PYTHON);

/** Sections as plain objects (DEFAULT first when non-empty), for compact expectations. */
function plain(ini: ParsedIni): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  if (ini.defaults.options.size > 0) out.DEFAULT = Object.fromEntries([...ini.defaults.options].map(([k, o]) => [k, o.value]));
  for (const [name, s] of ini.sections) out[name] = Object.fromEntries([...s.options].map(([k, o]) => [k, o.value]));
  return out;
}

const errorLines = (ini: ParsedIni): number[] => ini.errors.map((e) => e.line);

// One line a case: [what, text, expected sections, expected error lines].
type Case = [string, string, Record<string, Record<string, string>>, number[]?];
const cases: Case[] = [
  ["basic", "[a]\nx=1\ny: 2\n", { a: { x: "1", y: "2" } }],
  ["spaces around delimiter", "[a]\nnumprocs : 3\n", { a: { numprocs: "3" } }],
  ["first delimiter wins", "[a]\ncommand = php -d x=1 a:b\n", { a: { command: "php -d x=1 a:b" } }],
  ["colon before equals", "[a]\nk:v=w\n", { a: { k: "v=w" } }],
  ["keys lowercased", "[a]\nKEY = V\nStdOut_LogFile=X\n", { a: { key: "V", stdout_logfile: "X" } }],
  ["section names keep case", "[Program:X]\na=1\n", { "Program:X": { a: "1" } }],
  ["header comment", "[program:x]   ; comment\na=1\n", { "program:x": { a: "1" } }],
  ["header trailing text ignored", "[program:x] junk\na=1\n", { "program:x": { a: "1" } }],
  ["header greedy to last ]", "[a]b]c\nk=v\n", { "a]b": { k: "v" } }],
  ["empty header is an option line", "[a]\n[]\n", { a: {} }, [2]],
  ["semicolon without space kept", "[a]\nKEY = a;b\n", { a: { key: "a;b" } }],
  ["semicolon after space cuts", "[a]\nKEY = a ;b\n", { a: { key: "a" } }],
  ["hash without space kept", "[a]\nk = a#b\n", { a: { k: "a#b" } }],
  ["hash after tab cuts", "[a]\nk = a\t#b\n", { a: { k: "a" } }],
  ["comment right after delimiter", "[a]\nk = ;c\n", { a: { k: "" } }],
  ["prefix rounds: first round wins", "[a]\nk = a#b ;c #d\n", { a: { k: "a#b" } }],
  ["prefix rounds: later # not earliest", "[a]\nk = x;y #z ;w\n", { a: { k: "x;y" } }],
  ["rounds pick ; over earlier #", "[a]\nk = p#q#r ;s\n", { a: { k: "p#q#r" } }],
  ["rounds: ; found in round 1 beats an earlier # of round 2", "[a]\nk = a#b #c ;d\n", { a: { k: "a#b #c" } }],
  ["nbsp counts as whitespace", "[a]\nk = a\u00a0;b\n", { a: { k: "a" } }],
  ["U+0085 counts as whitespace before ;", "[a]\nk = a\u0085;b\n", { a: { k: "a" } }],
  ["full-line comments", "# top\n[a]\n; c\n  # indented\nk=v\n", { a: { k: "v" } }],
  ["continuation lines", "[a]\nfiles = a.conf\n  b.conf\n\tc.conf\n", { a: { files: "a.conf\nb.conf\nc.conf" } }],
  ["empty lines inside value kept", "[a]\nk = 1\n\n  2\n\n\n", { a: { k: "1\n\n2" } }],
  ["comment line does not add an empty line", "[a]\nk = 1\n ; c\n  2\n", { a: { k: "1\n2" } }],
  ["indented header is a continuation", "[a]\nk = 1\n [b]\n", { a: { k: "1\n[b]" } }],
  ["indent relative to option line", "[a]\n  k = 1\n   2\n  j = 3\n", { a: { k: "1\n2", j: "3" } }],
  ["no continuation after header", "[a]\n  x\n", { a: {} }, [2]],
  ["error line keeps optname", "[a]\n  k = 1\nbad\n   more\n", { a: { k: "1\nmore" } }, [3]],
  ["empty option name stored", "[a]\n= v\n", { a: { "": "v" } }, [2]],
  ["duplicate sections merge", "[a]\nx=1\ny=2\n[b]\n[a]\nx=3\n", { a: { x: "3", y: "2" }, b: {} }],
  ["duplicate option later wins", "[a]\nx=1\nx=2\n", { a: { x: "2" } }],
  ["DEFAULT section", "[DEFAULT]\nd=1\n[a]\nx=2\n", { DEFAULT: { d: "1" }, a: { x: "2" } }],
  ["CRLF", "[a]\r\nx = 1\r\n  2\r\n", { a: { x: "1\n2" } }],
  ["lone CR ends lines", "[a]\rx=1\ry=2\r", { a: { x: "1", y: "2" } }],
  ["U+2028 inside a value", "[a]\nk = a\u2028b\n", { a: { k: "a\u2028b" } }],
  ["U+0085 at the end of a value", "[a]\nk = ab\u0085\n", { a: { k: "ab" } }],
  ["U+2028 is not a line end for headers", "[a]\u2028x=1]\n", { "a]\u2028x=1": {} }],
  ["percent kept raw", "[a]\nk = 100%%\n", { a: { k: "100%%" } }],
  ["BOM is not whitespace", "\ufeff[a]\nk=v\n", {}],
  ["trailing whitespace on values", "[a]\nk = v \t\n", { a: { k: "v" } }],
  ["value U+3000 stripped", "[a]\nk = \u3000v\u3000\n", { a: { k: "v" } }],
  ["option without delimiter", "[a]\nnodelim\nk=v\n", { a: { k: "v" } }, [2]],
];

describe("parseConfigText", () => {
  it.each(cases)("%s", (_what, text, expected, errors = []) => {
    const ini = parseConfigText(text);
    if (text.startsWith("\ufeff")) {
      expect(ini.errors).toEqual([{ kind: "missing-section-header", file: "<string>", line: 1, text: "\ufeff[a]" }]);
      return;
    }
    expect(plain(ini)).toEqual(expected);
    expect(errorLines(ini)).toEqual(errors);
  });

  it("reports an option before any section as a missing section header and stops", () => {
    const ini = parseConfigText("x=1\n[a]\ny=2\n", "f.conf");
    expect(ini.errors).toEqual([{ kind: "missing-section-header", file: "f.conf", line: 1, text: "x=1" }]);
    expect(ini.sections.size).toBe(0);
  });

  it("records the line of each option, its last setting winning", () => {
    const ini = parseConfigText("[a]\nx=1\n  more\ny=2\nx=3\n", "f");
    const a = ini.sections.get("a");
    expect([...(a?.options ?? [])].map(([k, o]) => [k, o.line, o.value])).toEqual([
      ["x", 5, "3"],
      ["y", 4, "2"],
    ]);
  });

  it("merges a section read from two files, later values winning, options keep their file", () => {
    const ini = createIni();
    readIntoIni(ini, "[program:x]\ncommand=a\nnumprocs=1\n", "one.conf");
    readIntoIni(ini, "[program:x]\nnumprocs=2\n", "two.conf");
    const x = ini.sections.get("program:x")?.options;
    expect(x?.get("command")).toEqual({ value: "a", line: 2, file: "one.conf" });
    expect(x?.get("numprocs")).toEqual({ value: "2", line: 2, file: "two.conf" });
  });

  it("splits lines as Python's universal newlines", () => {
    expect(splitUniversalLines("a\r\nb\rc\nd\u2028e\u0085f")).toEqual(["a", "b", "c", "d\u2028e\u0085f"]);
    expect(splitUniversalLines("")).toEqual([]);
    expect(splitUniversalLines("a\n\n")).toEqual(["a", ""]);
  });

  it("parses 1,000 small files quickly", () => {
    const text = "[program:app-queue]\ncommand=php artisan queue:work ; x\nnumprocs=4\nprocess_name=%(program_name)s_%(process_num)02d\n";
    const start = performance.now();
    for (let i = 0; i < 1000; i++) parseConfigText(text);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

/** What the reference prints for one text, rebuilt from the TS parser. */
function asReference(text: string): unknown {
  const ini = parseConfigText(text, "<case>");
  const missing = ini.errors.find((e) => e.kind === "missing-section-header");
  if (missing) return { sections: [], errors: [], missing: missing.line };
  const sections: [string, [string, string][]][] = [["DEFAULT", [...ini.defaults.options].map(([k, o]) => [k, o.value])]];
  for (const [name, s] of ini.sections) sections.push([name, [...s.options].map(([k, o]) => [k, o.value])]);
  return { sections, errors: ini.errors.map((e) => e.line), missing: null };
}

/** Deterministic xorshift32, so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function fuzzCases(count: number, seed: number): string[] {
  const alphabet = ["[", "]", "=", ":", ";", "#", " ", "\t", "%", "\n", "\r", "a", "b", "K", "\u2028", "\u0085", "\u00a0"];
  const next = rng(seed);
  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    const lines = ["[s]"];
    const lineCount = 1 + Math.floor(next() * 6);
    for (let l = 0; l < lineCount; l++) {
      const len = Math.floor(next() * 12);
      let line = "";
      for (let c = 0; c < len; c++) line += alphabet[Math.floor(next() * alphabet.length)];
      lines.push(line);
    }
    // One case in five may lack its leading header, to reach MissingSectionHeaderError.
    out.push((next() < 0.2 ? lines.slice(1) : lines).join("\n"));
  }
  return out;
}

async function reference(mode: string, cases: unknown[]): Promise<unknown[]> {
  const { stdout } = await execa(PYTHON, [REF], { input: JSON.stringify({ mode, cases }), env: { PYTHONIOENCODING: "utf-8" } });
  return JSON.parse(stdout) as unknown[];
}

const DIFF_TITLE = HAVE_SUPERVISOR
  ? "differential against supervisor's UnhosedConfigParser"
  : `differential against supervisor's UnhosedConfigParser: SKIPPED, ${SUPERVISOR_SRC} or ${PYTHON} is missing`;

describe.skipIf(!HAVE_SUPERVISOR)(DIFF_TITLE, () => {
  it("agrees on every table case and on 400 fuzzed files", async () => {
    const texts = [...cases.map((c) => c[1]), "x=1\n[a]\n", "[a]\n= v\n  w\n", ...fuzzCases(400, 20240611)];
    const ref = await reference("parse", texts);
    const mismatches = texts
      .map((t, i) => ({ t, want: ref[i], got: asReference(t) }))
      .filter((m) => JSON.stringify(m.want) !== JSON.stringify(m.got));
    expect(mismatches).toEqual([]);
  });
});
