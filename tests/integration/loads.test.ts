import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, ROOT, useSupervisor } from "../helpers/cli.js";

// What each command loads, traced in the running process and mapped to the sources each bundle
// file holds (written by scripts/build.mjs): the claims of docs/performance.md, held by a test.

const sv = useSupervisor();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-loads-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The sources (as esbuild names them) of every bundle file the command loaded. */
async function sourcesLoaded(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const bundle = JSON.parse(fs.readFileSync(path.join(ROOT, ".cache/vexo-sv-bundle.json"), "utf8")) as Record<string, string[]>;
  const trace = path.join(tmp, `trace-${Math.random().toString(16).slice(2)}`);
  const hook = path.join(ROOT, "tests/helpers/trace-loads.mjs");
  const r = await execa("node", ["--import", hook, BIN, ...args], { reject: false, env: { ...env, VEXO_TRACE_LOADS: trace } });
  expect(r.stderr).not.toMatch(/Error/u);
  const dist = path.join(ROOT, "dist");
  // Nothing written: the process loaded no ES module at all.
  const loaded = (fs.existsSync(trace) ? fs.readFileSync(trace, "utf8") : "")
    .split("\n")
    .filter((u) => u.startsWith("file:"))
    .map((u) => path.relative(dist, fileURLToPath(u)))
    .filter((f) => !f.startsWith(".."));
  return loaded.flatMap((f) => bundle[f] ?? [`unknown bundle file ${f}`]);
}

const has = (sources: string[], pkg: string) => sources.some((s) => s.includes(`node_modules/${pkg}/`));

describe("what a command loads", () => {
  it("--version and --help load neither zod nor execa", async () => {
    for (const args of [["--version"], ["--help"], ["worker", "add", "--help"]]) {
      const s = await sourcesLoaded(args);
      expect(has(s, "zod"), args.join(" ")).toBe(false);
      expect(has(s, "execa"), args.join(" ")).toBe(false);
    }
  });

  it("worker ls and status load no zod; worker add does (the check can fail)", async () => {
    for (const args of [["worker", "ls"], ["status"]]) {
      const s = await sourcesLoaded(args, sv.env);
      expect(has(s, "zod"), args.join(" ")).toBe(false);
      expect(has(s, "execa"), args.join(" ")).toBe(true);
    }
    expect(has(await sourcesLoaded(["worker", "add", "--name", "x", "--path", "/nonexistent", "--dry-run"], sv.env), "zod")).toBe(true);
  });

  it("--version loads no bundle file (the launcher answers it); a command that validates loads zod without its locales or JSON Schema code", async () => {
    expect(await sourcesLoaded(["--version"])).toEqual([]);
    expect(await sourcesLoaded(["--help"])).toContain("src/cli/entry.ts");
    const s = await sourcesLoaded(["worker", "add", "--name", "x", "--path", "/nonexistent", "--dry-run"], sv.env);
    expect(s.filter((f) => f.includes("zod/v4/locales/"))).toEqual(["node_modules/zod/v4/locales/en.js"]);
    expect(s.filter((f) => f.includes("json-schema"))).toEqual([]);
  });
});
