import { beforeAll, describe, expect, it } from "vitest";
import { addArgs, cli, useSupervisor, waitFor, waitRunning } from "../helpers/cli.js";
import { processInfo } from "../helpers/rpc.js";

const sv = useSupervisor();

/** The pids of each named worker's processes, straight from supervisord. */
async function pidsOf(names: string[]): Promise<Record<string, number[]>> {
  const procs = await processInfo(sv.dir);
  const out: Record<string, number[]> = {};
  for (const n of names) if (procs.some((p) => p.group === n)) out[n] = procs.filter((p) => p.group === n).map((p) => p.pid);
  return out;
}

// Parallel runs queue on the lock, each waiting on a real supervisord: generous bounds of their own.
describe("concurrency", { timeout: 600_000 }, () => {
  it("20 parallel adds of different names give 20 running workers", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `par${i}`);
    const rs = await Promise.all(names.map((n) => cli([...addArgs(n), "--json"], sv.env)));
    expect(rs.map((r) => r.code)).toEqual(names.map(() => 0));
    for (const n of names) await waitRunning(sv, n, 1);
    const rms = await Promise.all(names.map((n) => cli(["worker", "rm", n, "--json"], sv.env)));
    expect(rms.map((r) => r.code)).toEqual(names.map(() => 0));
  });

  it("10 parallel adds of one name give exactly one worker; the rest are unchanged, no other error", async () => {
    const rs = await Promise.all(Array.from({ length: 10 }, () => cli([...addArgs("one", ["--procs", "2"]), "--json"], sv.env)));
    expect(rs.map((r) => r.code)).toEqual(Array(10).fill(0));
    // The file is unchanged for nine; those that found the new processes still starting waited for them (issue 24).
    const actions = rs.map((r) => r.json.action);
    expect(actions.filter((a) => a === "created")).toHaveLength(1);
    expect(actions.filter((a) => a !== "created" && a !== "unchanged" && a !== "waited")).toEqual([]);
    expect(rs.filter((r) => r.json.changed)).toHaveLength(1);
    await waitRunning(sv, "one", 2);
    const ls = await cli(["worker", "ls", "--json"], sv.env);
    expect(ls.json.workers.filter((w: { name: string }) => w.name === "one")).toHaveLength(1);
  });

  it("parallel add and rm of different workers leave everything consistent", async () => {
    const old = ["old0", "old1", "old2", "old3", "old4"];
    for (const n of old) expect((await cli([...addArgs(n, ["--no-wait"]), "--json"], sv.env)).code).toBe(0);
    const fresh = ["new0", "new1", "new2", "new3", "new4"];
    const rs = await Promise.all([
      ...old.map((n) => cli(["worker", "rm", n, "--json"], sv.env)),
      ...fresh.map((n) => cli([...addArgs(n), "--json"], sv.env)),
    ]);
    expect(rs.map((r) => r.code)).toEqual(Array(10).fill(0));
    for (const n of fresh) await waitRunning(sv, n, 1);
    const ls = await cli(["worker", "ls", "--json"], sv.env);
    expect(ls.json.workers.map((w: { name: string }) => w.name).sort()).toEqual(["new0", "new1", "new2", "new3", "new4", "one"]);
  });
});

describe("isolation: with 10 workers running, a mutation of one leaves the others' pids alone", () => {
  const names = Array.from({ length: 10 }, (_, i) => `iso${i}`);
  // [what, the worker it touches, the calls]
  const mutations: [string, string, string[][]][] = [
    ["add another", "iso-extra", [[...addArgs("iso-extra"), "--json"]]],
    ["replace one", "iso0", [[...addArgs("iso0", ["--procs", "2", "--replace"]), "--json"]]],
    ["restart one", "iso1", [["worker", "restart", "iso1", "--json"]]],
    ["graceful restart one", "iso2", [["worker", "restart", "iso2", "--graceful", "--wait", "--json"]]],
    ["rolling restart one", "iso3", [["worker", "restart", "iso3", "--rolling", "--json"]]],
    [
      "pause and resume one",
      "iso4",
      [
        ["worker", "pause", "iso4", "--json"],
        ["worker", "resume", "iso4", "--json"],
      ],
    ],
    [
      "stop and start one",
      "iso5",
      [
        ["worker", "stop", "iso5", "--json"],
        ["worker", "start", "iso5", "--json"],
      ],
    ],
    ["rm one", "iso6", [["worker", "rm", "iso6", "--json"]]],
  ];

  // Set up before the cases, so that any one of them runs alone (`-t "rm one"`).
  beforeAll(async () => {
    const rs = await Promise.all(names.map((n) => cli([...addArgs(n), "--json"], sv.env)));
    expect(rs.map((r) => r.code)).toEqual(names.map(() => 0));
  }, 300_000);

  it.each(mutations)("%s", async (_label, target, calls) => {
    // Every worker but the one touched (rm one, the only removal, is the last case).
    const others = names.filter((n) => n !== target);
    await waitFor(
      async () => {
        const procs = await processInfo(sv.dir);
        return others.every((n) => procs.some((p) => p.group === n) && procs.every((p) => p.group !== n || p.statename === "RUNNING"));
      },
      30,
      "the others running",
    );
    const before = await pidsOf(others);
    expect(Object.keys(before)).toHaveLength(others.length);
    for (const c of calls) {
      const r = await cli(c, sv.env);
      expect(r.code, r.stdout).toBe(0);
    }
    expect(await pidsOf(others)).toEqual(before);
  });
});
