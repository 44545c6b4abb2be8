import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { withCtlConfig, writeCtlConfig } from "../../src/core/ctl-config.js";
import { modeOf, tempDir } from "../helpers/tmp.js";

// src/core/ctl-config.ts: the private config that carries supervisorctl's password for one call.

const TEXT = "[supervisorctl]\npassword = s3cr%%et\n";
const savedTmpdir = process.env.TMPDIR;
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

describe("writeCtlConfig", () => {
  it("writes the config 0600 in a fresh directory of its own, 0700 and the caller's, and removes both", () => {
    const { file, remove } = writeCtlConfig(TEXT);
    const dir = path.dirname(file);
    expect(fs.readFileSync(file, "utf8")).toBe(TEXT);
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(dir)).toBe(0o700);
    expect(fs.lstatSync(dir).uid).toBe(process.geteuid?.());
    expect(path.basename(dir)).toMatch(/^vexo-sv-ctl-/u);
    remove();
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("never makes it below a temp directory another user could write: TMPDIR writable by others falls back to /tmp", () => {
    const open = tempDir("vx-ctlcfg-");
    fs.chmodSync(open, 0o777); // not sticky: anyone could rename the private directory out from under it
    process.env.TMPDIR = open;
    const { file, remove } = writeCtlConfig(TEXT);
    try {
      expect(file.startsWith(`${open}/`)).toBe(false);
      expect(path.dirname(path.dirname(file))).toBe("/tmp");
    } finally {
      remove();
    }
    expect(fs.readdirSync(open)).toEqual([]);
  });
});

describe("withCtlConfig", () => {
  it("removes the config once the call has settled, when it fails too", async () => {
    let seen = "";
    await withCtlConfig(TEXT, async (file) => {
      seen = file;
      expect(fs.readFileSync(file, "utf8")).toBe(TEXT);
    });
    expect(fs.existsSync(seen)).toBe(false);
    await expect(
      withCtlConfig(TEXT, async (file) => {
        seen = file;
        throw new Error("supervisorctl could not run");
      }),
    ).rejects.toThrow("could not run");
    expect(fs.existsSync(seen)).toBe(false);
    expect(fs.existsSync(path.dirname(seen))).toBe(false);
  });
});
