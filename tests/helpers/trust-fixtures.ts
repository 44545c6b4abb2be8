import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll } from "vitest";
import { TrustError } from "../../src/core/trust.js";

// What the tests of trust.ts and safe-files.ts share: a temp directory of their own (removed
// after the file), fresh directories and files with exact modes, and the TrustError a call throws.

export const isRoot = process.geteuid?.() === 0;
export const ME = process.geteuid?.() ?? 0;
export const TRUST = { trustedUids: [0, ME] };
/** A uid no test runs as; root may chown to it without the user existing. */
export const OTHER = 4242;

// Not under a sticky dir of its own: /tmp (root, 1777) is an accepted ancestor, the rest is ours.
export const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "vexo-trust-")));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let seq = 0;
/** A fresh directory (mode 0755) under tmp. */
export function dir(mode = 0o755): string {
  const d = path.join(tmp, `d${++seq}`);
  fs.mkdirSync(d);
  fs.chmodSync(d, mode);
  return d;
}

export function file(p: string, content: string | Buffer = "x\n", mode = 0o644): string {
  fs.writeFileSync(p, content);
  fs.chmodSync(p, mode);
  return p;
}

/** The TrustError `fn` throws (fails the test if it throws something else or nothing). */
export function trustError(fn: () => unknown): TrustError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TrustError) return e;
    throw e;
  }
  throw new Error("expected a TrustError");
}

export async function mkfifo(p: string): Promise<string> {
  await execa("mkfifo", ["-m", "0644", p]);
  return p;
}
