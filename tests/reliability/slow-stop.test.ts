import { execa, type ResultPromise } from "execa";
import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { apply, entry, workersFile } from "../helpers/apply.js";
import { addArgs, ALLOW_ROOT, BIN, cli, useSupervisor, waitFor, waitRunning } from "../helpers/cli.js";
import { groupInfo } from "../helpers/rpc.js";

// issue 24: one worker that does not stop on SIGTERM (a long job, or a process that ignores it)
// used to block every vexo-sv write on the host: the lock was held while `stop` and `update`
// waited out its stopwaitsecs (3600 s by default), so any other add, rm or apply waited with it,
// then failed with lock_timeout. Now those stops happen before the lock. The stubborn workers
// here never stop on their own (their job "lasts" a day); the test ends their stop itself by
// killing them, so nothing depends on how long anything takes.

const sv = useSupervisor();

/** A worker whose processes, on SIGTERM, keep working on their current job for a day. */
const stubborn = (name: string, extra: string[] = []) => addArgs(name, ["--env", "VEXO_SAMPLE_STOP_DELAY=86400", ...extra]);

const stateOf = async (name: string) => (await groupInfo(sv.dir, name)).map((p) => p.statename);

/** Runs the CLI in the background; `settled` turns true once it has exited. */
function background(args: string[]): { run: ResultPromise; settled: () => boolean } {
  let done = false;
  const run = execa("node", [BIN, ...args], { env: { ...process.env, ...sv.env, NO_COLOR: "1" }, reject: false, stdin: "ignore" });
  void run.finally(() => {
    done = true;
  });
  return { run, settled: () => done };
}

/** Removes a stubborn worker: its rm waits on the stop, which ends when the test kills the processes. */
async function removeStubborn(name: string): Promise<void> {
  const rm = background(["worker", "rm", name, "--json"]);
  await waitFor(async () => (await stateOf(name)).every((s) => s === "STOPPING"), 60, `${name} STOPPING`);
  for (const p of await groupInfo(sv.dir, name)) process.kill(p.pid, "SIGKILL");
  expect((await rm.run).exitCode).toBe(0);
}

/** The stubborn processes of this test's supervisord (its children that would wait a day on SIGTERM). */
function stubbornChildren(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/u.test(d))
    .filter((d) => {
      try {
        const ppid = Number(/^PPid:\s+(\d+)$/mu.exec(fs.readFileSync(`/proc/${d}/status`, "utf8"))?.[1]);
        return ppid === sv.pid && fs.readFileSync(`/proc/${d}/environ`, "utf8").includes("VEXO_SAMPLE_STOP_DELAY=86400");
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

// Whatever failed above, no stubborn process outlives the test (supervisord's shutdown would wait a day on them).
afterAll(async () => {
  const stop = background(["worker", "stop", "--all", "--json"]);
  await waitFor(
    async () => {
      for (const pid of stubbornChildren()) process.kill(pid, "SIGKILL");
      return stop.settled();
    },
    120,
    "every worker stopped",
  );
});

describe("a worker that takes its stopwaitsecs to stop blocks no other change", () => {
  it("rm, replace and apply of stubborn workers are under way while other adds, applies and removals finish", async () => {
    for (const name of ["st-rm", "st-rep", "st-app"]) {
      const r = await cli([...stubborn(name), "--json"], sv.env);
      expect(r.code, r.stdout).toBe(0);
    }
    const pids = (await Promise.all(["st-rm", "st-rep", "st-app"].map((n) => groupInfo(sv.dir, n)))).flat().map((p) => p.pid);
    const slow = [
      background(["worker", "rm", "st-rm", "--json"]),
      background([...stubborn("st-rep", ["--procs", "2", "--replace"]), "--json"]),
      background([
        "apply",
        workersFile(sv, [entry("st-app", { procs: 2, env: { VEXO_SAMPLE_STOP_DELAY: "86400" } })], "st-app.json"),
        ...ALLOW_ROOT,
        "--json",
      ]),
    ];
    try {
      // All three are waiting on their stops at once: none holds a lock the others need.
      for (const name of ["st-rm", "st-rep", "st-app"])
        await waitFor(async () => (await stateOf(name)).includes("STOPPING"), 60, `${name} STOPPING`);

      const add = await cli([...addArgs("st-quick"), "--json"], sv.env);
      expect(add.code, add.stdout).toBe(0);
      const applied = await apply(sv, workersFile(sv, [entry("st-quick2")], "st-quick2.json"));
      expect(applied.code, applied.stdout).toBe(0);
      const rm = await cli(["worker", "rm", "st-quick", "st-quick2", "--json"], sv.env);
      expect(rm.code, rm.stdout).toBe(0);

      // Those finished while the stubborn workers were still stopping, and their commands still waiting.
      expect(slow.map((s) => s.settled())).toEqual([false, false, false]);
      for (const name of ["st-rm", "st-rep", "st-app"]) expect(await stateOf(name)).toEqual(["STOPPING"]);
    } finally {
      // The jobs "end": each stop returns, and each slow command finishes its change.
      for (const pid of pids) process.kill(pid, "SIGKILL");
    }
    const results = await Promise.all(slow.map((s) => s.run));
    expect(
      results.map((r) => r.exitCode),
      results.map((r) => String(r.stdout)).join("\n"),
    ).toEqual([0, 0, 0]);
    expect(await groupInfo(sv.dir, "st-rm")).toEqual([]);
    await waitRunning(sv, "st-rep", 2);
    await waitRunning(sv, "st-app", 2);
    for (const name of ["st-rep", "st-app"]) await removeStubborn(name);
  }, 240_000);
});
