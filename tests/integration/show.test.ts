import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addArgs, cli, SAMPLE_APP, useSupervisor, waitRunning } from "../helpers/cli.js";

// `worker show NAME` (issue 26): one worker in full, on a real supervisord, its figures the
// kernel's (compared with /proc by the test itself), and what is not known null, never 0.

describe("worker show", () => {
  const sv = useSupervisor();

  it("shows the spec, file, logs and each process with its pid, start, memory, CPU and directory", async () => {
    const before = Date.now();
    expect((await cli([...addArgs("show-a", ["--procs", "2", "--queue", "mail,default"]), "--json"], sv.env)).code).toBe(0);
    const pids = await waitRunning(sv, "show-a", 2);
    const r = await cli(["worker", "show", "show-a", "--json"], sv.env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const w = r.json.worker;
    expect(w).toMatchObject({ name: "show-a", managed: true, state: "running", running: 2, total: 2, stale: false });
    expect(w.spec).toMatchObject({ path: SAMPLE_APP, procs: 2, queue: ["mail", "default"] });
    expect(w.file).toBe(path.join(sv.confDir, "show-a.conf"));
    expect(w.logs).toHaveLength(2);
    expect(w.exits.counts).toEqual({ memory: 0, killed: 0, recycled: 0, crashed: 0, fatal: 0 });
    expect(r.json.exitsWindowSeconds).toBe(3600);
    expect(w.processes.map((p: { pid: number }) => p.pid).sort()).toEqual([...pids].sort());
    for (const p of w.processes) {
      expect(p.cwd).toBe(fs.realpathSync(SAMPLE_APP));
      expect(p.rssBytes).toBeGreaterThan(0);
      expect(p.cpuSeconds).toBeGreaterThanOrEqual(0);
      // /proc's start time is whole seconds since boot: within the test's own bounds, a second apart.
      const started = Date.parse(p.startedAt);
      expect(started).toBeGreaterThanOrEqual(before - 2000);
      expect(started).toBeLessThanOrEqual(Date.now() + 1000);
      // The kernel's own figure for that pid, read by the test.
      const status = fs.readFileSync(`/proc/${p.pid}/status`, "utf8");
      const kb = Number(/^VmRSS:\s+(\d+) kB$/mu.exec(status)?.[1]);
      expect(Math.abs(Math.log(p.rssBytes / (kb * 1024)))).toBeLessThan(Math.log(2));
    }
    const text = await cli(["worker", "show", "show-a"], sv.env);
    expect(text.stdout).toMatch(/^worker: +show-a$/mu);
    expect(text.stdout).toMatch(/^show-a:show-a_00 {2}RUNNING {2}pid \d+$/mu);
    expect(text.stdout).toMatch(/^ {2}up \d+m\d+s \(since .*\) {2}mem [\d.]+[KMG] {2}cpu [\d.]+s$/mu);
  });

  it("a stopped worker's processes have no pid, memory or CPU: null, not 0", async () => {
    expect((await cli(["worker", "stop", "show-a", "--json"], sv.env)).code).toBe(0);
    const r = await cli(["worker", "show", "show-a", "--json"], sv.env);
    expect(r.code).toBe(0);
    expect(r.json.worker).toMatchObject({ state: "stopped", running: 0, stale: null });
    for (const p of r.json.worker.processes)
      expect(p).toMatchObject({ pid: null, rssBytes: null, cpuSeconds: null, cwd: null, startedAt: null });
  });

  it("an unknown name is not_found, exit 1; a bad name exit 2 naming the argument", async () => {
    const r = await cli(["worker", "show", "no-such-worker", "--json"], sv.env);
    expect([r.code, r.json.error.code]).toEqual([1, "not_found"]);
    const bad = await cli(["worker", "show", "bad name", "--json"], sv.env);
    expect(bad.code).toBe(2);
    expect(bad.json.error.message).toMatch(/name/u);
  });
});
