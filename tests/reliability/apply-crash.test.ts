import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { apply, entry, loadedGroups, runningPids, workersFile } from "../helpers/apply.js";
import { ALLOW_ROOT, BIN, ROOT, useSupervisor } from "../helpers/cli.js";

// SIGKILL at every phase of one `apply --prune` that replaces a worker, creates one, removes one
// and leaves one alone (tests/helpers/crash-at.mjs kills it exactly there; VEXO_CRASH_NTH picks
// the worker). After each: nothing partial where supervisord looks, the same apply converges, the
// untouched worker kept its process throughout, and one more apply changes nothing.

const sv = useSupervisor();

/** [phase, nth]: the order an apply of TARGET passes them (replace cr-a, create cr-c, remove cr-b). */
const TRIALS: [string, number][] = [
  ["during-lock", 1],
  ["during-reread", 1],
  ["before-rename", 1],
  ["after-rename", 1],
  ["during-update", 1],
  ["before-rename", 2],
  ["after-rename", 2],
  ["during-update", 2],
  ["during-stop", 1],
  ["after-rename", 3], // the removal record of cr-b is in place
  ["after-unlink", 1],
  ["during-update", 3],
  ["during-status", 1],
];

const START = [entry("cr-a"), entry("cr-b"), entry("cr-d")];
const TARGET = [entry("cr-a", { procs: 2 }), entry("cr-c"), entry("cr-d")];

/** Every file supervisord's glob reads, by name. */
const globbed = () => fs.readdirSync(sv.confDir).filter((n) => !n.startsWith("."));

describe("SIGKILL at every phase of apply --prune", () => {
  it.each(TRIALS)(
    "killed %s (#%i): nothing partial, and the same apply converges",
    async (phase, nth) => {
      const start = workersFile(sv, START, "start.json");
      expect((await apply(sv, start, ["--prune"])).code).toBe(0);
      const dPid = (await runningPids(sv))["cr-d:cr-d_00"];
      expect(dPid).toBeGreaterThan(0);

      const target = workersFile(sv, TARGET, "target.json");
      const log = path.join(sv.dir, `phases-${phase}-${nth}`);
      const killed = await execa(
        "node",
        ["--import", path.join(ROOT, "tests/helpers/crash-at.mjs"), BIN, "apply", target, "--prune", ...ALLOW_ROOT, "--json"],
        { env: { ...process.env, ...sv.env, VEXO_CRASH_AT: phase, VEXO_CRASH_NTH: String(nth), VEXO_CRASH_LOG: log }, reject: false },
      );
      const passed = fs.readFileSync(log, "utf8").trim().split("\n");
      expect(killed.signal, `passed ${passed.join(", ")}`).toBe("SIGKILL");
      expect(passed.filter((p) => p === phase)).toHaveLength(nth);
      expect(passed.at(-1)).toBe(phase);

      // Nothing partial where supervisord looks: whole managed files only, and it rereads cleanly.
      for (const n of globbed()) expect(fs.readFileSync(path.join(sv.confDir, n), "utf8")).toMatch(/^; managed-by: vexo-sv\n[^]*\n$/u);
      const reread = await execa("supervisorctl", ["-c", sv.config, "reread"], { reject: false });
      expect(String(reread.stdout)).not.toMatch(/ERROR|CANT_REREAD/u);

      const again = await apply(sv, target, ["--prune"]);
      expect(again.code, again.stdout).toBe(0);
      expect(globbed().sort()).toEqual(["cr-a.conf", "cr-c.conf", "cr-d.conf"]);
      expect(await loadedGroups(sv)).toEqual(["cr-a", "cr-c", "cr-d"]);
      const pids = await runningPids(sv);
      expect(Object.keys(pids).sort()).toEqual(["cr-a:cr-a_00", "cr-a:cr-a_01", "cr-c:cr-c_00", "cr-d:cr-d_00"]);
      expect(pids["cr-d:cr-d_00"]).toBe(dPid);
      expect(fs.readdirSync(path.join(sv.confDir, ".vexo-sv-state")).filter((n) => n.endsWith(".removing"))).toEqual([]);

      const third = await apply(sv, target, ["--prune"]);
      expect(third.code).toBe(0);
      expect(third.json.changed).toBe(false);
    },
    300_000,
  );
});
