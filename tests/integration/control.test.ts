import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addArgs,
  alive,
  assertMatchesSchema,
  BIN,
  SAMPLE_APP,
  BROKEN_APP,
  cli,
  lsWorker,
  useSupervisor,
  waitFor,
  waitRunning,
} from "../helpers/cli.js";
import { groupInfo } from "../helpers/rpc.js";

const sv = useSupervisor();

/** One sample of the group's processes, straight from supervisord (not through vexo-sv). */
async function sample(group: string): Promise<{ name: string; state: string; pid: number | null }[]> {
  return (await groupInfo(sv.dir, group)).map((p) => ({ name: p.namespec, state: p.statename, pid: p.pid || null }));
}

describe("worker start/stop/restart/pause/resume, status, logs", () => {
  // Two workers that several tests act on, set up before any of them: each test leaves them
  // running as it found them, so any one can run alone (`-t "pause stops"`).
  beforeAll(async () => {
    expect((await cli([...addArgs("a", ["--procs", "2"]), "--json"], sv.env)).code).toBe(0);
    expect((await cli([...addArgs("b"), "--json"], sv.env)).code).toBe(0);
  }, 120_000);

  it("a worker that cannot boot: add and start exit 1 with the spawn error and its log lines", async () => {
    try {
      const add = await cli([...addArgs("broken", [], BROKEN_APP), "--json"], sv.env);
      expect(add.code).toBe(1);
      expect(add.json.error.code).toBe("start_failed");
      expect(add.json.error.message).toMatch(/Illuminate/u);
      // Wait until supervisord gives up on it (three quick failures; generous for a loaded machine), then ask start explicitly.
      await waitFor(async () => (await sample("broken"))[0]?.state === "FATAL", 120, "FATAL");
      const start = await cli(["worker", "start", "broken", "--json"], sv.env);
      expect(start.code).toBe(1);
      expect(start.json.error.code).toBe("start_failed");
      const f = start.json.error.details.failures[0];
      expect(f.process).toBe("broken:broken_00");
      expect(f.log.join("\n")).toMatch(/Illuminate\\Foundation\\Application/u);
      const human = await cli(["worker", "start", "broken"], sv.env);
      expect(human.code).toBe(1);
      expect(human.stderr).toMatch(/FATAL|BACKOFF/u);
    } finally {
      // Whatever happened above, the crash-looping worker must not be left to the tests after this one.
      expect((await cli(["worker", "rm", "broken", "--missing-ok", "--json"], sv.env)).code).toBe(0);
    }
  }, 240_000);

  it("status --check is 0 when healthy and 3 with a line per unhealthy process", async () => {
    const ok = await cli(["status", "--check"], sv.env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("");
    const stop = await cli(["worker", "stop", "b", "--json"], sv.env);
    try {
      expect(stop.code).toBe(0);
      expect(stop.json.processes.map((p: { state: string }) => p.state)).toEqual(["STOPPED"]);
      const bad = await cli(["status", "--check"], sv.env);
      expect(bad.code).toBe(3);
      expect(bad.stdout.trim().split("\n")).toEqual([expect.stringMatching(/^b:b_00: STOPPED/u)]);
      const json = await cli(["status", "--check", "--json"], sv.env);
      expect(json.code).toBe(3);
      expect(json.json).toMatchObject({ healthy: false, supervisord: { running: true } });
      expect(json.json.supervisord.version).toMatch(/^4\./u);
    } finally {
      const start = await cli(["worker", "start", "b", "--json"], sv.env);
      expect(start.code).toBe(0);
    }
    expect((await cli(["status", "--check"], sv.env)).code).toBe(0);
  });

  it("an unknown name is not_found and touches nothing; --all means managed workers only", async () => {
    const before = await waitRunning(sv, "a", 2);
    const r = await cli(["worker", "restart", "a", "nosuch", "--json"], sv.env);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("not_found");
    expect(await waitRunning(sv, "a", 2)).toEqual(before);

    // A program vexo-sv did not write, removed again however the test ends.
    const other = path.join(sv.confDir, "other.conf");
    fs.writeFileSync(other, "[program:other]\ncommand=/bin/sleep 1000\n");
    try {
      await execa("supervisorctl", ["-c", sv.config, "update", "other"]);
      await waitFor(async () => (await sample("other"))[0]?.state === "RUNNING", 20, "other running");
      const otherPid = (await sample("other"))[0]?.pid;
      const stop = await cli(["worker", "stop", "--all", "--json"], sv.env);
      expect(stop.code).toBe(0);
      expect(stop.json.workers).toEqual(["a", "b"]);
      expect((await sample("other"))[0]).toMatchObject({ state: "RUNNING", pid: otherPid });
      const start = await cli(["worker", "start", "--all", "--json"], sv.env);
      expect(start.code).toBe(0);
      expect(start.json.processes.every((p: { state: string }) => p.state === "RUNNING")).toBe(true);
    } finally {
      fs.rmSync(other, { force: true });
      await execa("supervisorctl", ["-c", sv.config, "update", "other"]);
    }
  });

  it("restart --rolling never has every process down at once", async () => {
    expect((await cli([...addArgs("roll", ["--procs", "3"]), "--json"], sv.env)).code).toBe(0);
    const before = await waitRunning(sv, "roll", 3);
    const child = cli(["worker", "restart", "roll", "--rolling", "--json"], sv.env);
    let finished = false;
    void child.then(() => {
      finished = true;
    });
    const samples: number[] = [];
    while (!finished) {
      const s = await sample("roll");
      samples.push(s.filter((p) => p.state === "RUNNING").length);
      await new Promise((r) => setTimeout(r, 20));
    }
    const r = await child;
    expect(r.code).toBe(0);
    // Seen mid-restart (each process is down for at least startsecs), and never with more than one down.
    expect(samples).toContain(2);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(2);
    const after = await waitRunning(sv, "roll", 3);
    for (const pid of before) expect(after).not.toContain(pid);
    expect((await cli(["worker", "rm", "roll", "--json"], sv.env)).code).toBe(0);
  });

  it("restart --graceful waits until new processes run; with --no-wait it returns while the old ones are still finishing their job", async () => {
    const args = addArgs("grace", ["--procs", "2", "--env", "VEXO_SAMPLE_STOP_DELAY=4", "--stopwaitsecs", "600"]);
    expect((await cli([...args, "--json"], sv.env)).code).toBe(0);
    const before = await waitRunning(sv, "grace", 2);
    const r = await cli(["worker", "restart", "grace", "--graceful", "--no-wait", "--json"], sv.env);
    expect(r.code).toBe(0);
    expect(r.json.mode).toBe("graceful");
    // A plain restart would only return after the old processes exited; these are mid-job.
    expect(before.some(alive)).toBe(true);
    const w = await waitFor(
      async () => {
        const w = await lsWorker(sv, "grace");
        const pids = (w?.processes ?? []).map((p: { pid: number | null }) => p.pid);
        return w?.state === "running" && pids.every((p: number | null) => p !== null && !before.includes(p)) ? w : undefined;
      },
      60,
      "fresh processes",
    );
    expect(w.running).toBe(2);
    const log = fs.readFileSync(path.join(sv.logDir, "grace_00.log"), "utf8");
    expect(log).toMatch(/stopping after its current job[\s\S]*stopped\n[\s\S]*started/u);
    // By default (as a plain restart): back only once each old process finished its 4 s job and a new one runs past startsecs.
    const mid = w.processes.map((p: { pid: number }) => p.pid);
    const waited = await cli(["worker", "restart", "grace", "--graceful", "--json"], sv.env);
    expect(waited.code).toBe(0);
    expect(mid.filter(alive)).toEqual([]);
    for (const p of waited.json.processes) expect([p.state, mid.includes(p.pid), alive(p.pid)]).toEqual(["RUNNING", false, true]);
    // --wait, which scripts written before it was the default pass, is still taken.
    expect((await cli(["worker", "restart", "grace", "--graceful", "--wait", "--dry-run", "--json"], sv.env)).code).toBe(0);
    // An uptime reads as status writes it, not as supervisorctl's 0:00:01 (issue 29).
    const text = await cli(["worker", "restart", "grace"], sv.env);
    expect(text.stdout).toMatch(/^grace:grace_00 {2}RUNNING {2}pid \d+ up \d+m\d+s$/mu);
    expect(text.stdout).not.toMatch(/uptime/u);
    await cli(["worker", "rm", "grace", "--json"], sv.env);
  });

  it("pause stops the worker taking work until resume; ls and status show it paused and healthy", async () => {
    const p = await cli(["worker", "pause", "a", "--json"], sv.env);
    expect(p.code).toBe(0);
    expect((await lsWorker(sv, "a"))?.state).toBe("paused");
    const check = await cli(["status", "--check"], sv.env);
    expect(check.code).toBe(0);
    // Healthy, and how many are paused (issue 29).
    expect(check.stderr).toMatch(/^healthy \(1 of \d+ workers paused: a\)$/mu);
    // Pausing it again: already paused, said so (issue 29), not "nothing to pause".
    const again = await cli(["worker", "pause", "a", "--json"], sv.env);
    expect(again.code).toBe(0);
    expect(again.json.outcomes).toEqual([
      { worker: "a", outcome: "paused", detail: expect.stringMatching(/^already paused \(since \d{4}-/u) },
    ]);
    // A graceful stop: the worker finished its job and exited; nothing works until resume.
    const log = path.join(sv.logDir, "a_00.log");
    expect(fs.readFileSync(log, "utf8")).toMatch(/stopped\n$/u);
    const r = await cli(["worker", "resume", "a", "--json"], sv.env);
    expect(r.code).toBe(0);
    expect(r.json.outcomes).toEqual([{ worker: "a", outcome: "resumed" }]);
    expect((await lsWorker(sv, "a"))?.state).toBe("running");
    await waitFor(async () => /stopped\n.*started.*\n.*working/su.test(fs.readFileSync(log, "utf8")), 10, "working again");
    const text = fs.readFileSync(log, "utf8");
    const between = text.slice(text.lastIndexOf("stopped\n"), text.lastIndexOf("started"));
    expect(between).not.toMatch(/working/u);
  });

  it("logs reads exactly the last lines of a file of hundreds of MB", async () => {
    expect((await cli(["worker", "stop", "b", "--json"], sv.env)).code).toBe(0);
    try {
      const file = path.join(sv.logDir, "b_00.log");
      const fd = fs.openSync(file, "w");
      const block = Buffer.from(`${"filler line of a big log\n".repeat(40000)}`);
      for (let i = 0; i < 300; i++) fs.writeSync(fd, block); // ~300 MB
      fs.writeSync(fd, "last-3\r\nlast-2\nlast-1");
      fs.closeSync(fd);
      const r = await cli(["logs", "b", "-n", "3", "--json"], sv.env);
      expect(r.code).toBe(0);
      expect(r.json.lines).toEqual([
        { process: "b", line: "last-3" },
        { process: "b", line: "last-2" },
        { process: "b", line: "last-1" },
      ]);
      const human = await cli(["logs", "b", "-n", "1"], sv.env);
      expect(human.stdout).toBe("last-1");
      fs.truncateSync(file, 0);
      const multi = await cli(["logs", "a", "-n", "2", "--json"], sv.env);
      expect(new Set(multi.json.lines.map((l: { process: string }) => l.process))).toEqual(new Set(["a_00", "a_01"]));
      const one = await cli(["logs", "a", "--process", "1", "-n", "2", "--json"], sv.env);
      expect(one.json.lines.every((l: { process: string }) => l.process === "a_01")).toBe(true);
      const bad = await cli(["logs", "a", "--process", "7", "--json"], sv.env);
      expect(bad.code).toBe(2);
      // A name that is not a worker name is bad input (exit 2); a valid unknown one is not_found.
      const outside = await cli(["logs", "../../etc/passwd", "--json"], sv.env);
      expect(outside.code).toBe(2);
      expect(outside.json.error.message).toMatch(/^NAME:/u);
      const unknown = await cli(["logs", "no-such-worker", "--json"], sv.env);
      expect(unknown.code).toBe(1);
      expect(unknown.json.error.code).toBe("not_found");
      const own = await cli(["logs", "-n", "5", "--json"], sv.env);
      expect(own.json.lines[0].process).toBe("supervisord");
    } finally {
      expect((await cli(["worker", "start", "b", "--json"], sv.env)).code).toBe(0);
    }
  });

  it("logs --follow streams appended lines, survives rotation and truncation, and exits 0 on Ctrl-C", async () => {
    // b stopped: the only lines in its log are the ones written here.
    expect((await cli(["worker", "stop", "b", "--json"], sv.env)).code).toBe(0);
    try {
      const file = path.join(sv.logDir, "b_00.log");
      fs.writeFileSync(file, "old\n");
      const child = execa("node", [BIN, "logs", "b", "-n", "1", "--follow", "--json"], { env: { ...sv.env }, reject: false });
      const seen: string[] = [];
      child.stdout?.setEncoding("utf8");
      let buf = "";
      child.stdout?.on("data", (d: string) => {
        buf += d;
        const parts = buf.split("\n");
        buf = parts.pop() ?? "";
        for (const p of parts) {
          const doc = JSON.parse(p);
          assertMatchesSchema(["logs", "--follow", "--json"], doc); // each NDJSON line fits the published schema
          seen.push(doc.line);
        }
      });
      const until = async (line: string) => waitFor(async () => seen.includes(line), 20, line);
      await until("old");
      fs.appendFileSync(file, "appended-1\nappended-2\n");
      await until("appended-2");
      fs.renameSync(file, `${file}.1`);
      fs.appendFileSync(`${file}.1`, "late-in-old\n");
      fs.writeFileSync(file, "after-rotate\n");
      await until("after-rotate");
      fs.truncateSync(file, 0);
      fs.appendFileSync(file, "after-truncate\n");
      await until("after-truncate");
      child.kill("SIGINT");
      const r = await child;
      expect(r.exitCode).toBe(0);
      expect(seen).toEqual(["old", "appended-1", "appended-2", "late-in-old", "after-rotate", "after-truncate"]);
    } finally {
      expect((await cli(["worker", "start", "b", "--json"], sv.env)).code).toBe(0);
    }
  });

  it("--dry-run of start, stop, restart (each mode), pause and resume prints the calls and pause records, and changes nothing", async () => {
    expect((await cli([...addArgs("dry", ["--procs", "2"]), "--json"], sv.env)).code).toBe(0);
    const pids = await waitRunning(sv, "dry", 2);
    const record = path.join(sv.confDir, ".vexo-sv-state", "dry.paused");
    const ctl = (...a: string[]) => ["supervisorctl", "-c", sv.config, ...a];
    const cases: [string[], string[][]][] = [
      [["start"], [ctl("start", "dry:*")]],
      [["stop"], [ctl("stop", "dry:*")]],
      [["restart"], [ctl("restart", "dry:*")]],
      [["restart", "--graceful"], [ctl("signal", "TERM", "dry:*")]],
      [
        ["restart", "--rolling"],
        [ctl("restart", "dry:dry_00"), ctl("restart", "dry:dry_01")],
      ],
      [["pause"], [ctl("stop", "dry:*")]],
    ];
    for (const [verb, calls] of cases) {
      const r = await cli(["worker", ...verb, "dry", "--dry-run", "--json"], sv.env);
      expect(r.code, verb.join(" ")).toBe(0);
      expect(r.json).toMatchObject({ dryRun: true, workers: ["dry"], supervisorctl: calls, plan: { supervisorctl: calls } });
      expect(r.json.processes.map((p: { pid: number }) => p.pid)).toEqual(pids);
      const w = await lsWorker(sv, "dry");
      expect([w?.state, w?.processes.map((p: { pid: number }) => p.pid)], verb.join(" ")).toEqual(["running", pids]);
      expect(fs.existsSync(record), verb.join(" ")).toBe(false);
    }
    const human = await cli(["worker", "pause", "dry", "--dry-run"], sv.env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`# would write ${record}:`);
    expect(human.stdout).toContain(`# would run: supervisorctl -c ${sv.config} stop dry:*`);
    expect(fs.existsSync(record)).toBe(false);
    // Paused for real, resume --dry-run leaves it paused and its record in place.
    expect((await cli(["worker", "pause", "dry", "--json"], sv.env)).code).toBe(0);
    const resume = await cli(["worker", "resume", "dry", "--dry-run", "--json"], sv.env);
    expect(resume.json).toMatchObject({ dryRun: true, supervisorctl: [ctl("start", "dry:*")], plan: { removes: [record] } });
    expect(fs.existsSync(record)).toBe(true);
    expect((await lsWorker(sv, "dry"))?.state).toBe("paused");
    expect((await cli(["worker", "rm", "dry", "--json"], sv.env)).code).toBe(0);
  });

  it("logs -f -n 0 prints only what a running worker writes after the follow starts, like tail -n0 -f", async () => {
    expect((await cli([...addArgs("tailed"), "--json"], sv.env)).code).toBe(0);
    const [pid] = await waitRunning(sv, "tailed", 1);
    const file = path.join(sv.logDir, "tailed_00.log");
    // The sample worker logs "worker PID working (N)" with N counting up: what was there is told by N.
    const counter = (line: string) => Number(new RegExp(`^worker ${pid} working \\((\\d+)\\)$`, "u").exec(line)?.[1] ?? Number.NaN);
    await waitFor(async () => fs.readFileSync(file, "utf8").includes(`worker ${pid} working (1)`), 20, "lines in the log");
    const there = Math.max(
      ...fs
        .readFileSync(file, "utf8")
        .split("\n")
        .map(counter)
        .filter((n) => !Number.isNaN(n)),
    );
    const child = execa("node", [BIN, "logs", "tailed", "-f", "-n", "0", "--json"], { env: { ...sv.env }, reject: false });
    const seen: string[] = [];
    let buf = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (d: string) => {
      const parts = (buf + d).split("\n");
      buf = parts.pop() ?? "";
      for (const p of parts) {
        const doc = JSON.parse(p);
        assertMatchesSchema(["logs", "--follow", "--json"], doc);
        seen.push(doc.line);
      }
    });
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`logs -f -n 0 ended (${child.exitCode}): ${String((await child).stderr)}`);
        return seen.length >= 3;
      },
      20,
      "three new lines",
    );
    child.kill("SIGINT");
    expect((await child).exitCode).toBe(0);
    const got = seen.map(counter);
    expect(
      got.every((n) => n > there),
      `${there} was there; printed ${JSON.stringify(seen)}`,
    ).toBe(true);
    // Every line from where the follow began, none skipped.
    expect(got).toEqual(got.map((_, i) => (got[0] as number) + i));
    // Without --follow, 0 lines is a mistake: exit 2 naming the flag.
    const bad = await cli(["logs", "tailed", "-n", "0", "--json"], sv.env);
    expect(bad.code).toBe(2);
    expect(bad.json.error.message).toMatch(/^--lines:/u);
    expect((await cli(["worker", "rm", "tailed", "--json"], sv.env)).code).toBe(0);
  });

  it("a relative --path keeps a current -> releases/N link as given; after a switch, restart --graceful runs the new release (issue 16)", async () => {
    const base = fs.mkdtempSync(path.join(sv.dir, "deploy-"));
    for (const r of ["1", "2"]) {
      fs.mkdirSync(path.join(base, "releases", r), { recursive: true });
      fs.copyFileSync(path.join(SAMPLE_APP, "artisan"), path.join(base, "releases", r, "artisan"));
    }
    fs.symlinkSync("releases/1", path.join(base, "current"));
    const add = await execa("node", [BIN, ...addArgs("deploy", [], "current"), "--json"], {
      cwd: base,
      env: { ...process.env, ...sv.env, PWD: base },
      reject: false,
    });
    expect(add.exitCode, add.stdout).toBe(0);
    expect(JSON.parse(add.stdout).worker.path).toBe(path.join(base, "current"));
    expect(fs.readFileSync(path.join(sv.confDir, "deploy.conf"), "utf8")).toContain(`directory=${path.join(base, "current")}\n`);
    const [first] = await waitRunning(sv, "deploy", 1);
    expect(fs.readlinkSync(`/proc/${first}/cwd`)).toBe(path.join(base, "releases/1"));
    // The deploy tool's switch: a new link renamed over the old one.
    fs.symlinkSync("releases/2", path.join(base, "current.new"));
    fs.renameSync(path.join(base, "current.new"), path.join(base, "current"));
    const restart = await cli(["worker", "restart", "deploy", "--graceful", "--wait", "--json"], sv.env);
    expect(restart.code, restart.stdout).toBe(0);
    const [second] = await waitRunning(sv, "deploy", 1);
    expect(second).not.toBe(first);
    expect(fs.readlinkSync(`/proc/${second}/cwd`)).toBe(path.join(base, "releases/2"));
    expect((await cli(["worker", "rm", "deploy", "--json"], sv.env)).code).toBe(0);
  });
});
