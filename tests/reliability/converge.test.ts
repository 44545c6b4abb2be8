import { describe, expect, it } from "vitest";
import { apply, entry, workersFile } from "../helpers/apply.js";
import { addArgs, BROKEN_APP, cli, useSupervisor, waitRunning } from "../helpers/cli.js";
import { groupInfo } from "../helpers/rpc.js";

// issue 24, item 1: `worker add` and `apply` converge on running workers, not only on files. Run
// again with nothing fixed, a worker that cannot boot fails every time (a CI retry never turns
// green on a dead worker); a worker stopped by hand is started; a paused one is left paused; and
// whenever either command exits 0, every process it names is RUNNING, however fast the machine.

const sv = useSupervisor();

const states = async (name: string) => (await groupInfo(sv.dir, name)).map((p) => p.statename);

describe("add and apply converge on running state", () => {
  it("worker add of a worker that cannot boot exits 1 every time, never 'unchanged'", async () => {
    const first = await cli([...addArgs("cb-add", [], BROKEN_APP), "--json"], sv.env);
    expect(first.code, first.stdout).toBe(1);
    expect(first.json.error.code).toBe("start_failed");
    for (let i = 0; i < 2; i++) {
      const again = await cli([...addArgs("cb-add", [], BROKEN_APP), "--json"], sv.env);
      expect(again.code, again.stdout).toBe(1);
      expect(again.json.error.code).toBe("start_failed");
      expect(again.json.error.message).toMatch(/^worker cb-add was unchanged and (not running, so it was started|already starting), but /u);
    }
    expect((await cli(["worker", "rm", "cb-add", "--json"], sv.env)).code).toBe(0);
  });

  it("apply of a worker that cannot boot exits 1 every time; the good worker beside it is left alone", async () => {
    const file = workersFile(sv, [entry("cb-good"), entry("cb-bad", { path: BROKEN_APP })], "cb.json");
    const first = await apply(sv, file);
    expect(first.code, first.stdout).toBe(1);
    const [goodPid] = await waitRunning(sv, "cb-good", 1);
    for (let i = 0; i < 2; i++) {
      const again = await apply(sv, file);
      expect(again.code, again.stdout).toBe(1);
      expect(again.json.error.code).toBe("start_failed");
      expect(again.json.error.message).toMatch(/cb-bad/u);
      const bad = (again.json.error.details.done as { name: string; action: string }[]).find((d) => d.name === "cb-bad");
      expect(["started", "waited"]).toContain(bad?.action);
      expect(await waitRunning(sv, "cb-good", 1)).toEqual([goodPid]);
    }
    const prune = await apply(sv, workersFile(sv, [], "cb-none.json"), ["--prune"]);
    expect(prune.code, prune.stdout).toBe(0);
  });

  it("a worker stopped by hand is started by add and by apply (changed), and the next run changes nothing", async () => {
    const r = await cli([...addArgs("cb-stop", ["--procs", "2"]), "--json"], sv.env);
    expect(r.code, r.stdout).toBe(0);
    expect((await cli(["worker", "stop", "cb-stop", "--json"], sv.env)).code).toBe(0);
    expect(await states("cb-stop")).toEqual(["STOPPED", "STOPPED"]);
    const dry = await cli([...addArgs("cb-stop", ["--procs", "2", "--dry-run"]), "--json"], sv.env);
    expect(dry.json).toMatchObject({ action: "started", changed: true, dryRun: true });
    expect(await states("cb-stop")).toEqual(["STOPPED", "STOPPED"]);
    const add = await cli([...addArgs("cb-stop", ["--procs", "2"]), "--json"], sv.env);
    expect(add.code, add.stdout).toBe(0);
    expect(add.json).toMatchObject({ action: "started", changed: true });
    expect(await states("cb-stop")).toEqual(["RUNNING", "RUNNING"]);

    const file = workersFile(sv, [entry("cb-stop", { procs: 2 })], "cb-stop.json");
    expect((await cli(["worker", "stop", "cb-stop", "--json"], sv.env)).code).toBe(0);
    const applied = await apply(sv, file);
    expect(applied.code, applied.stdout).toBe(0);
    expect(applied.json.changed).toBe(true);
    expect(applied.json.workers).toEqual([expect.objectContaining({ name: "cb-stop", action: "started" })]);
    expect(await states("cb-stop")).toEqual(["RUNNING", "RUNNING"]);
    const third = await apply(sv, file);
    expect(third.json).toMatchObject({ changed: false, workers: [expect.objectContaining({ action: "unchanged" })] });
    expect((await cli(["worker", "rm", "cb-stop", "--json"], sv.env)).code).toBe(0);
  });

  it("a paused worker stays paused through add and apply", async () => {
    expect((await cli([...addArgs("cb-pause"), "--json"], sv.env)).code).toBe(0);
    expect((await cli(["worker", "pause", "cb-pause", "--json"], sv.env)).code).toBe(0);
    const add = await cli([...addArgs("cb-pause"), "--json"], sv.env);
    expect(add.json).toMatchObject({ action: "unchanged", changed: false });
    const applied = await apply(sv, workersFile(sv, [entry("cb-pause")], "cb-pause.json"));
    expect(applied.json).toMatchObject({ changed: false, workers: [expect.objectContaining({ action: "unchanged" })] });
    expect(await states("cb-pause")).toEqual(["STOPPED"]);
    expect((await cli(["worker", "rm", "cb-pause", "--json"], sv.env)).code).toBe(0);
  });

  it("an add run again right after --no-wait returns only once every process runs", async () => {
    const first = await cli([...addArgs("cb-fast", ["--procs", "3", "--no-wait"]), "--json"], sv.env);
    expect(first.code, first.stdout).toBe(0);
    const again = await cli([...addArgs("cb-fast", ["--procs", "3"]), "--json"], sv.env);
    expect(again.code, again.stdout).toBe(0);
    // Whether this machine was fast enough to find them STARTING or not, they are up now.
    expect(["waited", "unchanged"]).toContain(again.json.action);
    expect(again.json.changed).toBe(false);
    expect(await states("cb-fast")).toEqual(["RUNNING", "RUNNING", "RUNNING"]);
    expect((await cli(["worker", "rm", "cb-fast", "--json"], sv.env)).code).toBe(0);
  });
});
