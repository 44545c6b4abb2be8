import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ALLOW_ROOT, cli, cmdline, ME, ROOT, useSupervisor, waitFor, waitRunning } from "../helpers/cli.js";
import { artisanIn, setUpLaravelApp, sqlIn } from "../helpers/laravel.js";

// Why workers exit, through the CLI, with the real Laravel 8.83 application (Debian's
// php-laravel-framework, a database queue on SQLite) under a real private supervisord. Each worker
// works a queue of its own and is made to exit once, by one cause of Laravel's own; `worker show`
// and `worker ls` must count that exit under its reason and nothing else. Then a crash loop whose
// every run outlives startsecs, which only the exits in the window reveal.

const sv = useSupervisor();
let app = "";
/** An artisan that dies after 2 s with "Connection refused [tcp://127.0.0.1:6379]" (exit 1). */
const REDIS_DOWN_APP = path.join(ROOT, "tests/fixtures/redis-down-app");

const artisan = (...args: string[]) => artisanIn(app, ...args);
const sql = (query: string) => sqlIn(app, query);
/** Job IDs in storage/jobs.log (a job writes its line when it is done, before any exit it causes). */
const ran = () => {
  const f = path.join(app, "storage/jobs.log");
  return fs.existsSync(f)
    ? fs
        .readFileSync(f, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ")[0])
    : [];
};

const ZERO = { memory: 0, killed: 0, recycled: 0, crashed: 0, fatal: 0 };
type Counts = typeof ZERO;

interface Case {
  /** worker add flags (the queue:work option they become is checked on the running process). */
  flags: string[];
  argv: string[];
  /** jobs:dispatch options of the one job that makes the worker exit; null: no job. */
  job: string[] | null;
  counts: Partial<Counts>;
  unexpected: number;
  latest?: Record<string, unknown>;
}

const CASES: Record<string, Case> = {
  // The job leaves 64 MB in the worker: past --memory 32, the worker exits 12 after it.
  "x-memory": {
    flags: ["--memory", "32"],
    argv: ["--memory=32"],
    job: ["--hold-mb", "64"],
    counts: { memory: 1 },
    unexpected: 1,
    latest: { reason: "memory", status: 12, signal: null, expected: false },
  },
  // The job sleeps past --timeout 2: the worker kills itself with SIGKILL (and fails the job: --tries 1).
  "x-timeout": {
    flags: ["--timeout", "2", "--tries", "1"],
    argv: ["--timeout=2", "--tries=1"],
    job: ["--sleep-ms", "30000"],
    counts: { killed: 1 },
    unexpected: 1,
    latest: { reason: "killed", status: null, signal: "SIGKILL", expected: false },
  },
  // One job, then the worker exits 0 to be restarted (expected: exitcodes=0).
  "x-recycled": {
    flags: ["--max-jobs", "1"],
    argv: ["--max-jobs=1"],
    job: [],
    counts: { recycled: 1 },
    unexpected: 0,
    latest: { reason: "recycled", status: 0, signal: null, expected: true },
  },
  // The job deletes itself and ends PHP with exit(3): a crash.
  "x-crashed": {
    flags: [],
    argv: [],
    job: ["--exit", "3"],
    counts: { crashed: 1 },
    unexpected: 1,
    latest: { reason: "crashed", status: 3, signal: null, expected: false },
  },
  // Never given a job: never exits.
  "x-idle": { flags: [], argv: [], job: null, counts: {}, unexpected: 0 },
};
const NAMES = Object.keys(CASES);
const total = (c: Partial<Counts>) => Object.values(c).reduce((n, k) => n + k, 0);

const addWorker = (name: string, appPath: string, extra: string[]) =>
  cli(["worker", "add", "--name", name, "--path", appPath, "--user", ME, ...ALLOW_ROOT, ...extra, "--no-wait", "--json"], sv.env);

async function workers(): Promise<Record<string, any>[]> {
  const r = await cli(["worker", "ls", "--json"], sv.env);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.json.workers as Record<string, any>[];
}

beforeAll(async () => {
  app = await setUpLaravelApp(path.join(sv.dir, "laravel app"));
});

describe("exit reasons of a real Laravel application's workers", () => {
  it("memory (exit 12), killed (--timeout's SIGKILL), recycled (--max-jobs, exit 0), crashed (exit 3): each counted under its reason, nothing else", async () => {
    for (const [name, c] of Object.entries(CASES)) {
      const r = await addWorker(name, app, ["--queue", name, "--sleep", "1", ...c.flags]);
      expect(r.code, `${name}: ${r.stdout}`).toBe(0);
    }
    for (const [name, c] of Object.entries(CASES)) {
      const [pid] = await waitRunning(sv, name, 1);
      expect(cmdline(pid as number), name).toEqual(expect.arrayContaining(["queue:work", `--queue=${name}`, ...c.argv]));
    }
    const before = await workers();
    for (const name of NAMES) expect(before.find((w) => w.name === name)?.exits, name).toEqual({ counts: ZERO, unexpected: 0, recent: [] });

    for (const [name, c] of Object.entries(CASES))
      if (c.job) await artisan("jobs:dispatch", "1", "--prefix", name, "--queue", name, ...c.job);
    // Until every worker has exited as often as it should (whatever it was counted as) and is back.
    await waitFor(
      async () => {
        const ws = await workers();
        return NAMES.every((name) => {
          const w = ws.find((x) => x.name === name);
          return (
            w?.exits &&
            total(w.exits.counts) >= total(CASES[name]!.counts) &&
            w.processes.every((p: { state: string }) => p.state === "RUNNING")
          );
        });
      },
      90,
      "every worker back up after its exit",
    );
    // The causes happened as meant: the jobs that end normally ran; the timed-out one was failed by Laravel.
    expect(ran().sort()).toEqual(["x-crashed-1", "x-memory-1", "x-recycled-1"]);
    expect(await sql("select count(*) from failed_jobs")).toBe(1);
    expect(await sql("select count(*) from jobs")).toBe(0);

    const listed = await workers();
    for (const [name, c] of Object.entries(CASES)) {
      const want = { ...ZERO, ...c.counts };
      const show = await cli(["worker", "show", name, "--json"], sv.env);
      expect(show.code, show.stdout + show.stderr).toBe(0);
      expect(show.json.exitsNote).toBeNull();
      const w = show.json.worker;
      expect([w.exits.counts, w.exits.unexpected], name).toEqual([want, c.unexpected]);
      expect(w.exits.recent[0], name).toEqual(c.latest ? expect.objectContaining(c.latest) : undefined);
      expect(w.exits.recent, name).toHaveLength(total(c.counts));
      // The one process's own exits are the worker's.
      expect(w.processes.map((p: { exits: unknown }) => p.exits)).toEqual([w.exits]);
      // worker ls says the same.
      expect(listed.find((x) => x.name === name)?.exits, name).toEqual(w.exits);
    }
  });

  it("a crash loop whose every run outlives startsecs: status --check exits 3 naming it; --max-exits 1000 passes; worker ls shows its exits", async () => {
    // Three processes of the artisan that dies after 2 s: more than 5 exits after two rounds.
    const add = await addWorker("x-loop", REDIS_DOWN_APP, ["--procs", "3"]);
    expect(add.code, add.stdout).toBe(0);
    const loop = await waitFor(
      async () => {
        const w = (await workers()).find((x) => x.name === "x-loop");
        return w?.exits && w.exits.unexpected > 5 ? w : undefined;
      },
      90,
      "more than 5 unexpected exits of x-loop",
    );
    const n = loop.exits.unexpected as number;
    expect(loop.exits.counts).toEqual({ ...ZERO, crashed: n });
    expect(loop.exits.recent[0]).toEqual(expect.objectContaining({ reason: "crashed", status: 1, signal: null, expected: false }));

    // Each run passed start: supervisord logged it RUNNING (up past startsecs) before each exit, and never gave up.
    const log = fs.readFileSync(path.join(sv.logDir, "supervisord.log"), "utf8");
    for (const p of ["x-loop_00", "x-loop_01", "x-loop_02"]) {
      const exited = log.split(`exited: ${p} (exit status 1; not expected)`).length - 1;
      const up = log.split(`success: ${p} entered RUNNING state`).length - 1;
      expect(up, p).toBeGreaterThanOrEqual(exited);
    }
    expect(log).not.toMatch(/gave up: x-loop/u);

    const check = await cli(["status", "--check", "--json"], sv.env);
    expect(check.code, check.stdout).toBe(3);
    expect(check.json.healthy).toBe(false);
    const loops = (check.json.problems as string[]).filter((p) => p.includes("crash loop"));
    expect(loops).toEqual([
      expect.stringMatching(/^x-loop: (\d+) unexpected exits in the last 1h \(\1 crashed\), more than 5: a crash loop$/u),
    ]);
    // Apart from it, nothing is wrong: the workers with one exit each are no crash loop.
    expect((check.json.problems as string[]).filter((p) => !p.startsWith("x-loop"))).toEqual([]);
    const text = await cli(["status", "--check"], sv.env);
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(/^x-loop: \d+ unexpected exits .*: a crash loop$/mu);

    // The threshold is the whole difference: above the loop's count, the check passes (once no
    // process of the loop is caught in the instant between an exit and its restart).
    const passed = await waitFor(
      async () => {
        const r = await cli(["status", "--check", "--max-exits", "1000", "--json"], sv.env);
        expect(r.json.problems.filter((p: string) => p.includes("crash loop") || !p.startsWith("x-loop"))).toEqual([]);
        return r.code === 0 ? r : undefined;
      },
      60,
      "status --check --max-exits 1000 to pass",
    );
    expect(passed.json).toMatchObject({ healthy: true, problems: [] });

    // worker ls, as a person reads it: the loop's crashes, and each other worker's one exit.
    const ls = await cli(["worker", "ls"], sv.env);
    expect(ls.code).toBe(0);
    const row = (name: string) => ls.stdout.split("\n").find((l) => l.startsWith(`${name} `)) ?? "";
    expect(row("x-loop")).toMatch(/ \d+ crashed /u);
    expect(Number(/ (\d+) crashed /u.exec(row("x-loop"))?.[1])).toBeGreaterThanOrEqual(n);
    expect(row("x-memory")).toMatch(/ 1 memory /u);
    expect(row("x-timeout")).toMatch(/ 1 killed /u);
    expect(row("x-recycled")).toMatch(/ 1 recycled /u);
    expect(row("x-crashed")).toMatch(/ 1 crashed /u);
  });
});
