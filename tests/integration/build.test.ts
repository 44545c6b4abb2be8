import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, waitFor } from "../helpers/cli.js";

// Issue 16: a rebuild (npm test and npm run build both rebuild dist/) never breaks a vexo-sv
// already running from the checkout. The build runs in a copy of the checkout's sources, so the
// checkout's own dist/ is left to the other test files.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-build-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A copy of the checkout's sources, with no dist/ yet, to build in. */
function checkout(): string {
  const copy = fs.mkdtempSync(path.join(tmp, "checkout-"));
  for (const f of ["src", "scripts", "bin", "package.json"]) fs.cpSync(path.join(ROOT, f), path.join(copy, f), { recursive: true });
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"));
  return copy;
}

/** Builds the copy; NO_MINIFY=1 or not gives every chunk other contents, so other hashed names. */
const build = (copy: string, minify: boolean) =>
  execa("node", [path.join(copy, "scripts/build.mjs")], { env: minify ? { NO_MINIFY: "" } : { NO_MINIFY: "1" } });
const chunks = (copy: string) => new Set(fs.readdirSync(path.join(copy, "dist/chunks")));

/** `worker ls --json` on a config that is not there: loads the entry, then the core's chunks. */
function lsRun(copy: string, env: Record<string, string> = {}, hook: string[] = []) {
  return execa("node", [...hook, path.join(copy, "bin/vexo-sv.cjs"), "worker", "ls", "--json", "--config", path.join(tmp, "none.conf")], {
    reject: false,
    env,
  });
}

describe("a rebuild of dist/", () => {
  it("never breaks a run in flight: one held between its entry and its chunks finishes normally after the rebuild", async () => {
    const copy = checkout();
    await build(copy, true);
    const before = chunks(copy);
    // Held after its entry (of this build) is read, before any of its chunks is found.
    const go = path.join(tmp, "go");
    const held = lsRun(copy, { VEXO_HOLD_UNTIL: go }, ["--import", path.join(ROOT, "tests/helpers/hold-chunks.mjs")]);
    await waitFor(async () => fs.existsSync(`${go}.waiting`), 60, "the run held before its chunks");

    await build(copy, false);
    // The rebuild did write other chunks: the run's entry names chunks of the build before.
    const after = chunks(copy);
    expect([...after].filter((c) => !before.has(c)).length).toBeGreaterThan(0);

    fs.writeFileSync(go, "");
    const r = await held;
    expect(r.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find module/u);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe("config_not_found");
    // It ran on the chunks of the build it started from, which the rebuild left in place.
    const loaded = fs.readFileSync(`${go}.resolved`, "utf8").trim().split("\n");
    expect(loaded.length).toBeGreaterThan(0);
    for (const c of loaded) expect(before.has(c), `${c} is a chunk of the first build`).toBe(true);

    // A run started after the rebuild runs the new build.
    const fresh = await lsRun(copy);
    expect(fresh.exitCode, fresh.stderr).toBe(1);
    expect(JSON.parse(fresh.stdout).error.code).toBe("config_not_found");
  });

  it("leaves no temporary directory, and removes an earlier build's chunks only once they are 10 minutes old", async () => {
    const copy = checkout();
    await build(copy, true);
    const first = chunks(copy);
    await build(copy, false);
    const both = chunks(copy);
    // The first build's chunks are still there (a run started before the rebuild may want them).
    for (const c of first) expect(both.has(c), c).toBe(true);
    // Aged past 10 minutes, the ones the next build does not write are removed by it.
    const old = new Date(Date.now() - 11 * 60 * 1000);
    for (const c of both) fs.utimesSync(path.join(copy, "dist/chunks", c), old, old);
    await build(copy, false);
    const third = chunks(copy);
    const unminified = [...both].filter((c) => !first.has(c));
    expect([...third].sort()).toEqual(unminified.sort());
    expect(fs.readdirSync(copy).filter((n) => n.startsWith(".dist-tmp"))).toEqual([]);
  });
});
