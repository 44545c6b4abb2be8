import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { addArgs, BIN, cli, ROOT, useSupervisor, waitRunning } from "../helpers/cli.js";
import { groupInfo } from "../helpers/rpc.js";

// Issue 28: SIGKILL in the middle of a batch (tests/helpers/crash-at.mjs kills vexo-sv at the Nth
// time it passes a phase: here the second lane's call, or between the files of a batch and its one
// update). After each: the same command run again converges, and leaves nothing half done.

const sv = useSupervisor();
const NAMES = ["kc1", "kc2", "kc3"];

/** Runs vexo-sv with the crash hook; returns whether it was killed and the phases it passed. */
async function killedAt(argv: string[], phase: string, nth: number): Promise<string[]> {
  const log = path.join(sv.dir, `phases-${phase}-${nth}-${Math.random().toString(16).slice(2)}`);
  const r = await execa("node", ["--import", path.join(ROOT, "tests/helpers/crash-at.mjs"), BIN, ...argv, "--json"], {
    env: { ...process.env, ...sv.env, VEXO_CRASH_AT: phase, VEXO_CRASH_NTH: String(nth), VEXO_CRASH_LOG: log },
    reject: false,
  });
  const passed = fs.readFileSync(log, "utf8").trim().split("\n");
  expect(r.signal, `passed ${passed.join(", ")}`).toBe("SIGKILL");
  expect(passed.filter((p) => p === phase)).toHaveLength(nth);
  return passed;
}

/** Every worker present and running (one process each). */
async function ensureWorkers(): Promise<void> {
  for (const n of NAMES) {
    const r = await cli([...addArgs(n), "--json"], sv.env);
    expect(r.code, r.stdout).toBe(0);
    await cli(["worker", "resume", n, "--json"], sv.env);
    await waitRunning(sv, n, 1);
  }
}

const records = () => {
  const dir = path.join(sv.confDir, ".vexo-sv-state");
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
};

describe("SIGKILL in the middle of a batch: the rerun converges", () => {
  it.each([
    ["during-stop", 2],
    ["after-unlink", 2],
    ["during-update", 1],
  ] as const)("worker rm of three, killed %s (#%i)", async (phase, nth) => {
    await ensureWorkers();
    await killedAt(["worker", "rm", ...NAMES], phase, nth);
    const again = await cli(["worker", "rm", ...NAMES, "--missing-ok", "--json"], sv.env);
    expect(again.code, again.stdout).toBe(0);
    for (const n of NAMES) {
      expect(fs.existsSync(path.join(sv.confDir, `${n}.conf`))).toBe(false);
      expect(await groupInfo(sv.dir, n)).toEqual([]);
    }
    expect(records().filter((n) => n.endsWith(".removing"))).toEqual([]);
  });

  it("pause --all killed in its second lane's stop: the rerun has every worker paused; resume --all killed in its second start: the rerun has every one running", async () => {
    await ensureWorkers();
    await killedAt(["worker", "pause", "--all"], "during-stop", 2);
    const paused = await cli(["worker", "pause", "--all", "--json"], sv.env);
    expect(paused.code, paused.stdout).toBe(0);
    expect(paused.json.outcomes.map((o: { outcome: string }) => o.outcome)).toEqual(["paused", "paused", "paused"]);
    const ls = await cli(["worker", "ls", "--json"], sv.env);
    for (const n of NAMES) expect(ls.json.workers.find((w: { name: string }) => w.name === n)?.state).toBe("paused");

    await killedAt(["worker", "resume", "--all"], "during-start", 2);
    const resumed = await cli(["worker", "resume", "--all", "--json"], sv.env);
    expect(resumed.code, resumed.stdout).toBe(0);
    for (const n of NAMES) await waitRunning(sv, n, 1);
    expect(records().filter((n) => n.endsWith(".paused"))).toEqual([]);
  });

  it("restart --all killed in its second lane: the rerun has every worker running", async () => {
    await ensureWorkers();
    await killedAt(["worker", "restart", "--all"], "during-restart", 2);
    const again = await cli(["worker", "restart", "--all", "--json"], sv.env);
    expect(again.code, again.stdout).toBe(0);
    expect(again.json.outcomes.map((o: { outcome: string }) => o.outcome)).toEqual(["restarted", "restarted", "restarted"]);
    for (const n of NAMES) await waitRunning(sv, n, 1);
  });
});
