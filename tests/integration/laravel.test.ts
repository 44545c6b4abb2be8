import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ALLOW_ROOT, cli, lsWorker, ME, useSupervisor, waitFor, waitRunning } from "../helpers/cli.js";
import { artisanIn, setUpLaravelApp, sqlIn } from "../helpers/laravel.js";

// A real Laravel 8 application (Debian's php-laravel-framework) with a database queue on SQLite.
const sv = useSupervisor();
let app = "";

const artisan = (...args: string[]) => artisanIn(app, ...args);
const sql = (query: string) => sqlIn(app, query);

/** Lines of storage/jobs.log: "ID PID" per job run. */
function done(): { id: string; pid: number }[] {
  const f = path.join(app, "storage/jobs.log");
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [id, pid] = l.split(" ");
      return { id: id as string, pid: Number(pid) };
    });
}

/** Every job ID with the number of times it ran. */
function runs(): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of done()) m.set(d.id, (m.get(d.id) ?? 0) + 1);
  return m;
}

/** Waits until the queue is empty and N jobs of PREFIX have run. */
async function drained(prefix: string, n: number, seconds = 90): Promise<void> {
  const ran = () => done().filter((d) => d.id.startsWith(`${prefix}-`)).length;
  await waitFor(async () => (await sql("select count(*) from jobs")) === 0 && ran() >= n, seconds, `${n} ${prefix} jobs done`);
}

function expectEachOnce(prefix: string, n: number): void {
  const m = runs();
  for (let i = 1; i <= n; i++) expect(m.get(`${prefix}-${i}`), `${prefix}-${i}`).toBe(1);
  expect([...m.keys()].filter((k) => k.startsWith(`${prefix}-`))).toHaveLength(n);
}

const addWorker = (name: string, extra: string[] = []) =>
  cli(["worker", "add", "--name", name, "--path", app, "--user", ME, ...ALLOW_ROOT, "--sleep", "1", ...extra, "--json"], sv.env);

beforeAll(async () => {
  app = await setUpLaravelApp(path.join(sv.dir, "laravel app"));
});

describe("end to end with a real Laravel application", () => {
  it("3 processes work 300 jobs: every job exactly once, spread over the processes", async () => {
    const r = await addWorker("laravel", ["--procs", "3"]);
    expect(r.code, r.stdout).toBe(0);
    const pids = await waitRunning(sv, "laravel", 3);
    await artisan("jobs:dispatch", "300", "--prefix", "a", "--sleep-ms", "10");
    await drained("a", 300);
    expectEachOnce("a", 300);
    const used = new Set(done().map((d) => d.pid));
    expect([...used].sort()).toEqual([...pids].sort());
  });

  it("restart, restart --graceful and restart --rolling while 300 jobs run: every job exactly once", async () => {
    await artisan("jobs:dispatch", "300", "--prefix", "b", "--sleep-ms", "50");
    await waitFor(async () => runs().has("b-10"), 30, "work started");
    for (const extra of [[], ["--graceful", "--wait"], ["--rolling"]]) {
      const r = await cli(["worker", "restart", "laravel", ...extra, "--json"], sv.env);
      expect(r.code, r.stdout).toBe(0);
    }
    await drained("b", 300);
    expectEachOnce("b", 300);
    expect(await sql("select count(*) from failed_jobs")).toBe(0);
  });

  it("stop lets the running job finish (stopwaitsecs), leaves the rest queued; start drains them", async () => {
    const r = await addWorker("laravel", ["--procs", "1", "--replace"]);
    expect(r.code, r.stdout).toBe(0);
    await artisan("jobs:dispatch", "6", "--prefix", "c", "--sleep-ms", "2000");
    // The first job is reserved (taken off the queue) once it runs.
    await waitFor(async () => (await sql("select count(*) from jobs where reserved_at is not null")) === 1, 30, "a job running");
    const stop = await cli(["worker", "stop", "laravel", "--json"], sv.env);
    expect(stop.code).toBe(0);
    // Whatever the stop's latency on a busy machine: the job in hand finished exactly once, none
    // ran twice or was lost, and what did not run stays queued (6 jobs of 2 s: some are left).
    const ran = done().filter((d) => d.id.startsWith("c-")).length;
    expect(runs().get("c-1")).toBe(1);
    expect([...runs()].filter(([k, n]) => k.startsWith("c-") && n > 1)).toEqual([]);
    expect(await sql("select count(*) from jobs where reserved_at is not null")).toBe(0);
    expect(await sql("select count(*) from jobs")).toBe(6 - ran);
    expect(6 - ran).toBeGreaterThan(0);
    const start = await cli(["worker", "start", "laravel", "--json"], sv.env);
    expect(start.code).toBe(0);
    await drained("c", 6);
    expectEachOnce("c", 6);
  });

  // laravel/framework#56505: a worker paused by SIGUSR2 exits once the host's uptime exceeds its
  // --max-time. The condition is created here, not taken from the machine: a --max-time shorter
  // than the uptime read now. Both sides are tested: that one, and --max-time 0.
  const shorterThanUptime = () => {
    const uptime = Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const maxTime = Math.max(1, Math.floor(uptime / 2));
    expect(maxTime).toBeLessThan(uptime);
    return String(maxTime);
  };

  it.each([
    ["--max-time shorter than the host's uptime", shorterThanUptime],
    ["--max-time 0", () => "0"],
  ])("pause with %s: the job in hand finishes, no job is taken while paused, resume runs each job once", async (_label, maxTime) => {
    // Its own queue: the workers of the other tests never take its jobs.
    const name = `paused-${maxTime() === "0" ? "zero" : "short"}`;
    expect((await addWorker(name, ["--procs", "1", "--max-time", maxTime(), "--queue", name])).code).toBe(0);
    await waitRunning(sv, name, 1);
    const prefix = `p${name.slice(7)}`;
    const queued = () => sql(`select count(*) from jobs where queue = '${name}'`);
    await artisan("jobs:dispatch", "1", "--prefix", `long${prefix}`, "--sleep-ms", "2000", "--queue", name);
    await waitFor(
      async () => (await sql(`select count(*) from jobs where queue = '${name}' and reserved_at is not null`)) === 1,
      30,
      "the long job running",
    );
    const p = await cli(["worker", "pause", name, "--json"], sv.env);
    expect(p.code, p.stdout).toBe(0);
    expect(p.json.outcomes).toEqual([{ worker: name, outcome: "paused" }]);
    // The job in hand finished before pause returned, exactly once.
    expect(runs().get(`long${prefix}-1`)).toBe(1);
    const w = await lsWorker(sv, name);
    expect(w?.state).toBe("paused");
    // Paused counts as healthy (whatever the other tests' workers are doing).
    const check = await cli(["status", "--check", "--json"], sv.env);
    expect(check.json.problems.filter((p: string) => p.startsWith(name))).toEqual([]);
    await artisan("jobs:dispatch", "20", "--prefix", prefix, "--queue", name);
    // No process of the worker exists to take a job: nothing can run until resume.
    expect(w?.processes.every((proc: { pid: number | null }) => proc.pid === null)).toBe(true);
    expect(await queued()).toBe(20);
    const r = await cli(["worker", "resume", name, "--json"], sv.env);
    expect(r.code, r.stdout).toBe(0);
    await drained(prefix, 20);
    expectEachOnce(prefix, 20);
    expect((await cli(["worker", "rm", name, "--json"], sv.env)).code).toBe(0);
  });

  it("failing jobs end in failed_jobs after --tries, and the worker keeps running", async () => {
    const r = await addWorker("laravel", ["--procs", "1", "--tries", "2", "--replace"]);
    expect(r.code, r.stdout).toBe(0);
    const [pid] = await waitRunning(sv, "laravel", 1);
    await artisan("jobs:dispatch", "3", "--prefix", "e", "--fail");
    await waitFor(async () => (await sql("select count(*) from failed_jobs")) === 3, 60, "3 failed jobs");
    expect(await sql("select count(*) from jobs")).toBe(0);
    expect(await waitRunning(sv, "laravel", 1)).toEqual([pid]);
    expect(runs().has("e-1")).toBe(false);
  });

  it("a worker for an application that cannot boot: add exits 1 with the log lines", async () => {
    const broken = path.join(sv.dir, "broken laravel");
    fs.cpSync(app, broken, { recursive: true });
    fs.rmSync(path.join(broken, "bootstrap/app.php"));
    const r = await cli(["worker", "add", "--name", "broken-laravel", "--path", broken, "--user", ME, ...ALLOW_ROOT, "--json"], sv.env);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("start_failed");
    expect(r.json.error.message).toMatch(/bootstrap\/app\.php/u);
  });
});
