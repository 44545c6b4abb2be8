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

/**
 * [phase, nth]: the order an apply of TARGET passes them (replace cr-a, create cr-c, remove cr-b):
 * the reread before any stop, the stops of cr-a and cr-b before the lock (one lane each), the lock,
 * the reread for the identical cr-d, every file written or removed, then ONE update naming all
 * three (issue 28), then the status calls.
 */
const TRIALS: [string, number][] = [
  ["during-reread", 1],
  ["during-stop", 1],
  ["during-stop", 2],
  ["during-lock", 1],
  ["during-reread", 2],
  ["before-rename", 1],
  ["after-rename", 1],
  ["before-rename", 2],
  ["after-rename", 2],
  ["after-rename", 3], // the removal record of cr-b is in place
  ["after-unlink", 1],
  ["during-update", 1], // the batch's one update: cr-a, cr-c and cr-b at once
  ["during-status", 1], // the status call that converges the identical cr-d on running (issue 24)
  ["during-status", 2], // the health wait's first status call
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

      if (phase === "after-rename" && nth === 1) {
        // cr-a's new file is written, supervisord not told: a dry run says what the real run will do.
        const dry = await apply(sv, target, ["--prune", "--dry-run"]);
        expect(dry.json.workers.find((w: { name: string }) => w.name === "cr-a")?.action).toBe("replaced");
      }
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

// A removal killed half way, then the worker named again: it runs again (not stopped for good).
describe("SIGKILL during a prune, then the pruned worker named again", () => {
  it.each([
    ["after-rename", 1], // the removal record written, nothing stopped
    ["during-stop", 1],
    ["after-unlink", 1],
    ["during-update", 1],
  ] as [string, number][])(
    "killed %s (#%i): the next apply naming it has it running, and the one after changes nothing",
    async (phase, nth) => {
      const both = workersFile(sv, [entry("rb-a"), entry("rb-b")], "rb-both.json");
      expect((await apply(sv, both, ["--prune"])).code).toBe(0);
      const killed = await execa(
        "node",
        [
          "--import",
          path.join(ROOT, "tests/helpers/crash-at.mjs"),
          BIN,
          "apply",
          workersFile(sv, [entry("rb-a")], "rb-a.json"),
          "--prune",
          ...ALLOW_ROOT,
          "--json",
        ],
        { env: { ...process.env, ...sv.env, VEXO_CRASH_AT: phase, VEXO_CRASH_NTH: String(nth) }, reject: false },
      );
      expect(killed.signal).toBe("SIGKILL");
      const back = await apply(sv, both, ["--prune"]);
      expect(back.code, back.stdout).toBe(0);
      // Killed in the stop, which comes before the lock and its removal record: rb-b was left
      // stopped with its file, and is started; killed later, the record makes it created again.
      expect(back.json.workers.find((w: { name: string }) => w.name === "rb-b")?.action).toBe(
        phase === "during-stop" ? "started" : "created",
      );
      const pid = (await runningPids(sv))["rb-b:rb-b_00"];
      expect(pid).toBeGreaterThan(0);
      const third = await apply(sv, both, ["--prune"]);
      expect(third.json.changed).toBe(false);
      expect((await runningPids(sv))["rb-b:rb-b_00"]).toBe(pid);
      expect(fs.readdirSync(path.join(sv.confDir, ".vexo-sv-state")).filter((n) => n.endsWith(".removing"))).toEqual([]);
    },
    300_000,
  );
});
