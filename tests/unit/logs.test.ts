import path from "node:path";
import { describe, expect, it } from "vitest";
import { tailLines } from "../../src/core/logs.js";
import { tempDir, writeUnder } from "../helpers/tmp.js";

// src/core/logs.ts: reading the end of a log.

const tmp = tempDir("vexo-unit-");
const write = (name: string, content: string): string => writeUnder(tmp, name, content);

describe("tailLines", () => {
  it.each([
    ["last line without newline", "a\nb\nc", 2, ["b", "c"]],
    ["trailing newline", "a\nb\nc\n", 2, ["b", "c"]],
    ["CRLF", "a\r\nb\r\nc\r\n", 3, ["a", "b", "c"]],
    ["fewer lines than asked", "only\n", 10, ["only"]],
    ["empty file", "", 5, []],
    ["blank lines kept", "a\n\n\nb\n", 3, ["", "", "b"]],
  ])("%s", (label, content, n, want) => {
    expect(tailLines(write(`t/${label}.log`, content), n)).toEqual(want);
  });

  it("missing file gives no lines", () => {
    expect(tailLines(path.join(tmp, "missing.log"), 5)).toEqual([]);
  });

  it("crosses chunk boundaries exactly", () => {
    const lines = Array.from({ length: 50000 }, (_, i) => `line ${i} ${"x".repeat(i % 37)}`);
    const f = write("t/big.log", `${lines.join("\n")}\n`);
    expect(tailLines(f, 3000)).toEqual(lines.slice(-3000));
    expect(tailLines(f, 1)).toEqual(lines.slice(-1));
  });

  it("handles multi-byte characters split across chunks", () => {
    const lines = Array.from({ length: 20000 }, (_, i) => `ünïcødé ${i} €`);
    const f = write("t/utf8.log", lines.join("\n"));
    expect(tailLines(f, 12000)).toEqual(lines.slice(-12000));
  });
});
