import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { programFile, resolveLayout } from "../../src/core/layout.js";
import { tailLines } from "../../src/core/logs.js";
import { VexoError } from "../../src/errors.js";
import { createOutput, errorDocument, jsonLine, printable, successDocument, terminalText } from "../../src/output.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vexo-unit-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const f = path.join(tmp, name);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, content);
  return f;
}

describe("resolveLayout", () => {
  it("reads the Debian layout, with relative include and childlogdir", () => {
    const cfg = write(
      "deb/supervisord.conf",
      "[unix_http_server]\nfile=/run/x.sock   ; comment\n[supervisord]\nchildlogdir=logs\npidfile=%(here)s/sd.pid\n[include]\nfiles = conf.d/*.conf\n",
    );
    const l = resolveLayout({ config: cfg });
    expect(l.confDir).toBe(path.join(tmp, "deb/conf.d"));
    expect(l.ext).toBe(".conf");
    expect(l.logDir).toBe(path.join(tmp, "deb/logs"));
    expect(l.serverUrl).toBe("unix:///run/x.sock");
    expect(l.pidfile).toBe(path.join(tmp, "deb/sd.pid"));
  });

  it("reads the main config by configparser's rules: continued files=, a header comment, ':' and ENV in serverurl (issue 14)", () => {
    process.env.VX_TEST_PORT = "9123";
    try {
      const cfg = write(
        "cp/supervisord.conf",
        "[supervisorctl] ; a comment on the header\nserverurl : http://localhost:%(ENV_VX_TEST_PORT)s\n[include]\nfiles = conf.d/*.conf\n    more.d/*.ini\n",
      );
      const l = resolveLayout({ config: cfg });
      expect(l.server).toEqual({ kind: "http", host: "localhost", port: 9123 });
      expect(l.includeGlobs).toEqual([path.join(tmp, "cp/conf.d/*.conf"), path.join(tmp, "cp/more.d/*.ini")]);
      expect(l.confDir).toBe(path.join(tmp, "cp/conf.d"));
    } finally {
      delete process.env.VX_TEST_PORT;
    }
  });

  it("reads the RHEL layout (*.ini) and defaults the log dir", () => {
    const cfg = write("rhel/supervisord.conf", "[include]\nfiles = supervisord.d/*.ini\n");
    const l = resolveLayout({ config: cfg });
    expect(l.confDir).toBe(path.join(tmp, "rhel/supervisord.d"));
    expect(l.ext).toBe(".ini");
    expect(l.logDir).toBe("/var/log/supervisor");
    expect(programFile(l, "w")).toBe(path.join(tmp, "rhel/supervisord.d/w.ini"));
  });

  it("refuses a --conf-dir that supervisord would not read", () => {
    const cfg = write("deb2/supervisord.conf", "[include]\nfiles = conf.d/*.conf\n");
    const l = resolveLayout({ config: cfg, confDir: "/elsewhere" });
    expect(() => programFile(l, "w")).toThrow(/would not read/u);
  });

  it("reports a missing config with a hint", () => {
    expect(() => resolveLayout({ config: path.join(tmp, "nope.conf") })).toThrow(VexoError);
  });
});

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
