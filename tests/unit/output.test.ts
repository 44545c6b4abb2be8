import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { jsonLine } from "../../src/core/json-line.js";
import { VexoError } from "../../src/errors.js";
import { createOutput, errorDocument, printable, processDetail, shortUptime, successDocument, terminalText } from "../../src/output.js";

// src/output.ts: the JSON documents and what reaches a terminal.

describe("JSON documents", () => {
  it("success carries ok and the data, with warnings when any", () => {
    expect(successDocument({ a: 1 }, [])).toEqual({ ok: true, a: 1 });
    expect(successDocument({ a: 1 }, ["w"])).toEqual({ ok: true, a: 1, warnings: ["w"] });
    expect(successDocument({ warnings: ["w"] }, ["w"])).toEqual({ ok: true, warnings: ["w"] });
  });

  it("failure carries code and message", () => {
    expect(errorDocument(new VexoError("not_found", "gone", { hint: "h" }))).toEqual({
      ok: false,
      error: { code: "not_found", message: "gone", hint: "h" },
    });
  });
});

describe("printable", () => {
  it.each([
    ["plain text stays", "worker 12 working (3)", "worker 12 working (3)"],
    ["tab stays", "a\tb", "a\tb"],
    ["an escape sequence is defused", "\u001b]0;pwned\u0007\u001b[2J", "\ufffd]0;pwned\ufffd\ufffd[2J"],
    ["C1 and DEL", "a\u009bb\u007fc", "a\ufffdb\ufffdc"],
    ["non-ASCII stays", "évènements 日本", "évènements 日本"],
    ["bidi controls and line separators go", "a\u202eb\u2028c", "a\ufffdb\ufffdc"],
  ])("%s", (_label, line, want) => expect(printable(line)).toBe(want));
});

describe("terminalText (every message and data line for a person)", () => {
  it.each([
    ["newlines and indentation of a multi-line error stay", "failed:\n  a_00 FATAL\n    boom", false, "failed:\n  a_00 FATAL\n    boom"],
    ["tab stays", "a\tb", false, "a\tb"],
    ["OSC, BEL, CSI and CR are defused", "x\u001b]0;pwned\u0007\u001b[2K\ry", false, "x\ufffd]0;pwned\ufffd\ufffd[2K\ufffdy"],
    ["C1 CSI is defused", "a\u009b2Jb", false, "a\ufffd2Jb"],
    ["vexo-sv's own colours stay when colour is on", "\u001b[31merror\u001b[39m", true, "\u001b[31merror\u001b[39m"],
    ["other sequences go even with colour on", "\u001b[8mhidden\u001b[2J", true, "\ufffd[8mhidden\ufffd[2J"],
    ["colours go when colour is off", "\u001b[31mred", false, "\ufffd[31mred"],
    [
      "bidi controls go (review r2 #4)",
      "a\u202eb\u202ac\u2066d\u2069\u200e\u200f\u061c",
      false,
      "a\ufffdb\ufffdc\ufffdd\ufffd\ufffd\ufffd\ufffd",
    ],
    ["line and paragraph separators go", "a\u2028b\u2029c", false, "a\ufffdb\ufffdc"],
  ])("%s", (_label, text, keep, want) => expect(terminalText(text, keep)).toBe(want));

  it("warnings and errors keep their own colour and defuse the message's", () => {
    let err = "";
    const stderr = Object.assign(new Writable({ write: (c: Buffer, _e: string, cb: () => void) => ((err += c.toString()), cb()) }), {
      isTTY: true,
    });
    const out = createOutput({ json: false, quiet: false, color: true, stderr, stdout: stderr });
    out.warn("dir\u001b[2K\r is owned by uid 1000");
    out.error("failed\n  boom\u001b]0;x\u0007", "run it again");
    expect(err).toContain("warning:");
    expect(err).toContain("dir\ufffd[2K\ufffd is owned by uid 1000");
    expect(err).toContain("failed\n  boom\ufffd]0;x\ufffd\n");
    expect(err.replace(/\u001b\[(?:2|22|31|33|39)m/gu, "")).not.toMatch(/[\u0007\u001b\r]/u);
  });
});

describe("jsonLine", () => {
  it("escapes DEL and the C1 controls, which JSON.stringify leaves, and reads back the same", () => {
    const doc = { line: "a\u009b2J\u0085\u007f\u001bz é" };
    const text = jsonLine(doc);
    expect(text).toBe('{"line":"a\\u009b2J\\u0085\\u007f\\u001bz é"}');
    expect(JSON.parse(text)).toEqual(doc);
  });
});

describe("shortUptime and processDetail: one way to write an uptime", () => {
  it("writes the largest two units, and a running process as status does", () => {
    expect([shortUptime(2), shortUptime(62), shortUptime(3 * 3600 + 5 * 60), shortUptime(2 * 86400 + 3 * 3600)]).toEqual([
      "0m2s",
      "1m2s",
      "3h5m",
      "2d3h",
    ]);
    expect(processDetail({ pid: 12, uptimeSeconds: 1, description: "pid 12, uptime 0:00:01" })).toBe("pid 12 up 0m1s");
    expect(processDetail({ pid: null, uptimeSeconds: null, description: "Exited too quickly" })).toBe("Exited too quickly");
  });
});
