import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

/** The temp directories this test file made, removed after it (nothing left behind). */
const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under the system's temp directory, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Writes `content` to `name` under `dir`, making its parents; returns the file's path. */
export function writeUnder(dir: string, name: string, content: string | Buffer): string {
  const f = path.join(dir, name);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, content);
  return f;
}

/** The permission bits of a path itself (links not followed). */
export const modeOf = (p: string): number => fs.lstatSync(p).mode & 0o7777;
