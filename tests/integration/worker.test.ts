import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { addArgs, alive, cli, cmdline, lsWorker, ME, SAMPLE_APP, snapshot, useSupervisor, waitFor, waitRunning } from "../helpers/cli.js";

const sv = useSupervisor();

describe("worker add / ls / rm on a real supervisord", () => {
  // Two workers every test may look at and none changes: first (2 processes) and second (1).
  // A test that changes a worker adds its own, so that any test runs alone (`-t`).
  let firstAdd: Record<string, any> = {};
  let firstPids: number[] = [];
  let secondPids: number[] = [];
  beforeAll(async () => {
    const r = await cli([...addArgs("first", ["--procs", "2"]), "--json"], sv.env);
    expect(r.code, r.stdout).toBe(0);
    firstAdd = r.json;
    firstPids = await waitRunning(sv, "first", 2);
    expect((await cli([...addArgs("second", ["--queue", "high,low"]), "--json"], sv.env)).code).toBe(0);
    secondPids = await waitRunning(sv, "second", 1);
  }, 120_000);

  it("adds a worker whose processes run, with one log per process", async () => {
    expect(firstAdd).toMatchObject({ ok: true, changed: true, action: "created", config: sv.config });
    expect(firstAdd.worker).toMatchObject({ name: "first", procs: 2, path: SAMPLE_APP });
    expect(firstAdd.runsAs).toBe(ME); // who the processes run as, said (issue 29)
    expect(firstAdd.logs).toEqual([path.join(sv.logDir, "first_00.log"), path.join(sv.logDir, "first_01.log")]);
    expect(firstPids).toHaveLength(2);
    const text = fs.readFileSync(path.join(sv.confDir, "first.conf"), "utf8");
    expect(text.startsWith("; managed-by: vexo-sv\n")).toBe(true);
    await waitFor(async () => fs.existsSync(firstAdd.logs[1]) && fs.readFileSync(firstAdd.logs[1], "utf8").includes("started"), 20, "log");
  });

  it("ls reads the spec back from the file", async () => {
    const w = await lsWorker(sv, "first");
    expect(w).toMatchObject({ managed: true, state: "running", running: 2, total: 2, loaded: true });
    expect(w?.spec).toMatchObject({ path: SAMPLE_APP, connection: "database", queue: ["default"], procs: 2, php: "php" });
  });

  it("adding and removing another worker touches neither the first nor the second", async () => {
    expect((await cli([...addArgs("another"), "--json"], sv.env)).code).toBe(0);
    await waitRunning(sv, "another", 1);
    expect((await cli(["worker", "rm", "another", "--json"], sv.env)).code).toBe(0);
    expect(await waitRunning(sv, "first", 2)).toEqual(firstPids);
    expect(await waitRunning(sv, "second", 1)).toEqual(secondPids);
  });

  it("the same spec again is unchanged and restarts nothing", async () => {
    const before = fs.statSync(path.join(sv.confDir, "first.conf")).mtimeMs;
    const r = await cli([...addArgs("first", ["--procs", "2"]), "--json"], sv.env);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ changed: false, action: "unchanged" });
    expect(fs.statSync(path.join(sv.confDir, "first.conf")).mtimeMs).toBe(before);
    expect(await waitRunning(sv, "first", 2)).toEqual(firstPids);
  });

  it("a worker name that does not exist gets the one it may have meant (issue 29)", async () => {
    for (const argv of [
      ["worker", "stop", "frist"],
      ["worker", "show", "firts"],
      ["logs", "fisrt"],
      ["worker", "rm", "frist"],
    ]) {
      const r = await cli([...argv, "--json"], sv.env);
      expect([r.code, r.json.error.code], argv.join(" ")).toEqual([1, "not_found"]);
      expect(r.json.error.hint, argv.join(" ")).toMatch(/^did you mean first\?/u);
    }
    const far = await cli(["worker", "stop", "zzzzzz", "--json"], sv.env);
    expect(far.json.error.hint).not.toMatch(/did you mean/u);
  });

  it("--startsecs, --log-max-mb and --log-backups reach supervisord as its own parser reads them; add waits out that startsecs (issue 29)", async () => {
    const r = await cli([...addArgs("slowboot", ["--startsecs", "3", "--log-max-mb", "5", "--log-backups", "2"]), "--json"], sv.env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.worker).toMatchObject({ startsecs: 3, logMaxMb: 5, logBackups: 2 });
    // supervisord's own reading of the file (Debian's python3 and supervisor package).
    const py = [
      "import sys, json",
      "from supervisor.options import ServerOptions",
      "o = ServerOptions(); o.configfile = sys.argv[1]; o.process_config(do_usage=False)",
      "p = [g for g in o.process_group_configs if g.name == sys.argv[2]][0].process_configs[0]",
      "print(json.dumps([p.startsecs, p.stdout_logfile_maxbytes, p.stdout_logfile_backups]))",
    ].join("\n");
    const ref = await execa("/usr/bin/python3", ["-c", py, sv.config, "slowboot"]);
    expect(JSON.parse(ref.stdout)).toEqual([3, 5 * 1024 * 1024, 2]);
    // Returned only once the process lived past its 3 s: supervisord says RUNNING, with an uptime of 3 s or more.
    const st = (await lsWorker(sv, "slowboot"))?.processes[0];
    expect(st.state).toBe("RUNNING");
    expect(st.uptimeSeconds).toBeGreaterThanOrEqual(3);
    const bad = await cli([...addArgs("slowboot2", ["--startsecs", "0"]), "--json"], sv.env);
    expect([bad.code, bad.json.error.details.flag]).toEqual([2, "--startsecs"]);
    expect((await cli(["worker", "rm", "slowboot", "--json"], sv.env)).code).toBe(0);
  });

  it("a different spec needs --replace", async () => {
    const before = snapshot(sv.confDir);
    const r = await cli([...addArgs("first", ["--procs", "3"]), "--json"], sv.env);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("exists");
    expect(r.json.error.message).toMatch(/: procs: 2 -> 3$/u);
    expect(r.json.error.hint).toMatch(/--replace/u);
    expect(snapshot(sv.confDir)).toEqual(before);
  });

  it("--replace rewrites a worker, every old process gone, and leaves the others' pids alone", async () => {
    expect((await cli([...addArgs("repl", ["--procs", "2"]), "--json"], sv.env)).code).toBe(0);
    const old = await waitRunning(sv, "repl", 2);
    const r = await cli([...addArgs("repl", ["--procs", "3", "--replace"]), "--json"], sv.env);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ changed: true, action: "replaced" });
    const pids = await waitRunning(sv, "repl", 3);
    for (const pid of old) expect(pids).not.toContain(pid);
    expect(await waitRunning(sv, "first", 2)).toEqual(firstPids);
    expect(await waitRunning(sv, "second", 1)).toEqual(secondPids);
    expect((await cli(["worker", "rm", "repl", "--json"], sv.env)).code).toBe(0);
  });

  it("--dry-run prints the file and the calls, and changes nothing", async () => {
    const before = snapshot(sv.confDir);
    const r = await cli([...addArgs("third", ["--dry-run"])], sv.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[program:third]");
    expect(r.stdout).toContain(`supervisorctl -c ${sv.config} update third`);
    const rm = await cli(["worker", "rm", "second", "--dry-run", "--json"], sv.env);
    expect(rm.code).toBe(0);
    expect(rm.json.plan.supervisorctl).toEqual([
      ["supervisorctl", "-c", sv.config, "stop", "second:*"],
      ["supervisorctl", "-c", sv.config, "update", "second"],
    ]);
    expect(snapshot(sv.confDir)).toEqual(before);
    expect(await lsWorker(sv, "third")).toBeUndefined();
    expect(await waitRunning(sv, "second", 1)).toEqual(secondPids);
  });

  it.each([
    ["bad name", ["--name", "my app"], "--name"],
    ["newline in queue", ["--queue", "a\n[program:evil]"], "--queue"],
    ["procs out of range", ["--procs", "1000"], "--procs"],
    ["unknown user", ["--user", "no-such-user-here"], "--user"],
    ["path without artisan", ["--path", "/tmp"], "--path"],
    ["stopwaitsecs not above timeout", ["--timeout", "90", "--stopwaitsecs", "60"], "--stopwaitsecs"],
  ])("bad input (%s) exits 2 naming the flag, nothing changed", async (_l, extra, flag) => {
    const before = snapshot(sv.confDir);
    const args = ["worker", "add", "--name", "bad", "--path", SAMPLE_APP, "--user", "root", "--allow-root", ...extra];
    const r = await cli([...args, "--json"], sv.env);
    expect(r.code).toBe(2);
    expect(r.json.ok).toBe(false);
    expect(r.json.error.message.startsWith(`${flag}:`)).toBe(true);
    const human = await cli(args, sv.env);
    expect(human.code).toBe(2);
    expect(human.stderr).toContain(flag);
    expect(human.stdout).toBe("");
    expect(snapshot(sv.confDir)).toEqual(before);
  });

  it("a path with spaces and a % in the queue reach the process byte for byte", async () => {
    const app = path.join(sv.dir, "my app 100%");
    fs.mkdirSync(app);
    fs.copyFileSync(path.join(SAMPLE_APP, "artisan"), path.join(app, "artisan"));
    const r = await cli(
      [
        "worker",
        "add",
        "--name",
        "spaced",
        "--path",
        app,
        "--user",
        "root",
        "--allow-root",
        "--queue",
        "a%b,ü",
        "--env",
        "FMT=%(ENV_HOME)s 5%",
        "--json",
      ],
      sv.env,
    );
    expect(r.code).toBe(0);
    const [pid] = await waitRunning(sv, "spaced", 1);
    expect(cmdline(pid as number)).toEqual([
      "php",
      path.join(app, "artisan"),
      "queue:work",
      "database",
      "--queue=a%b,ü",
      "--sleep=3",
      "--tries=3",
      "--max-time=3600",
    ]);
    const env = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    expect(env).toContain("FMT=%(ENV_HOME)s 5%");
    expect(fs.realpathSync(`/proc/${pid}/cwd`)).toBe(app);
    expect((await cli(["worker", "rm", "spaced", "--json"], sv.env)).code).toBe(0);
  });

  it("never overwrites or removes (without --force) a file it did not write", async () => {
    const foreign = path.join(sv.confDir, "foreign.conf");
    fs.writeFileSync(foreign, "[program:foreign]\ncommand=/bin/sleep 1000\n");
    const add = await cli([...addArgs("foreign"), "--replace", "--json"], sv.env);
    expect(add.code).toBe(1);
    expect(add.json.error.code).toBe("not_managed");
    const rm = await cli(["worker", "rm", "foreign", "--json"], sv.env);
    expect(rm.code).toBe(1);
    expect(rm.json.error.code).toBe("not_managed");
    const ls = await lsWorker(sv, "foreign");
    expect(ls).toMatchObject({ managed: false, spec: null, loaded: false });
    const forced = await cli(["worker", "rm", "foreign", "--force", "--json"], sv.env);
    expect(forced.code).toBe(0);
    expect(fs.existsSync(foreign)).toBe(false);
  });

  it("a config supervisord rejects is rolled back, with supervisord's reason", async () => {
    const broken = path.join(sv.confDir, "zz-broken.conf");
    fs.writeFileSync(broken, "[program:zz-broken]\ncommand=/bin/echo 50%x\n");
    const before = snapshot(sv.confDir);
    const add = await cli([...addArgs("third"), "--json"], sv.env);
    expect(add.code).toBe(1);
    expect(add.json.error.code).toBe("supervisord_rejected");
    expect(add.json.error.message).toMatch(/zz-broken/u);
    expect(snapshot(sv.confDir)).toEqual(before);
    // A replace that is rejected puts the previous file back, byte for byte.
    const rep = await cli([...addArgs("second", ["--procs", "2", "--replace"]), "--json"], sv.env);
    expect(rep.code).toBe(1);
    expect(snapshot(sv.confDir)).toEqual(before);
    fs.rmSync(broken);
    expect(await waitRunning(sv, "second", 1)).toEqual(secondPids);
  });

  it("rm stops and unloads a worker; a missing one is not_found, or a no-op with --missing-ok", async () => {
    expect((await cli([...addArgs("gone"), "--json"], sv.env)).code).toBe(0);
    const [pid] = await waitRunning(sv, "gone", 1);
    const r = await cli(["worker", "rm", "gone", "--json"], sv.env);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      ok: true,
      changed: true,
      workers: [{ name: "gone", file: path.join(sv.confDir, "gone.conf"), changed: true }],
    });
    expect(fs.existsSync(path.join(sv.confDir, "gone.conf"))).toBe(false);
    expect(await lsWorker(sv, "gone")).toBeUndefined();
    await waitFor(async () => !alive(pid as number), 30, "the removed worker's process gone");
    const st = await cli(["worker", "ls", "--json"], sv.env);
    expect(st.json.workers.map((w: { name: string }) => w.name)).toEqual(["first", "second"]);
    expect(await waitRunning(sv, "second", 1)).toEqual(secondPids);
    const again = await cli(["worker", "rm", "gone", "--json"], sv.env);
    expect(again.code).toBe(1);
    expect(again.json.error.code).toBe("not_found");
    const ok = await cli(["worker", "rm", "gone", "--missing-ok", "--json"], sv.env);
    expect(ok.code).toBe(0);
    expect(ok.json.changed).toBe(false);
  });

  it("rm of several workers: every name checked and every worker planned before any is removed", async () => {
    for (const n of ["m1", "m2", "m3"]) expect((await cli([...addArgs(n), "--json"], sv.env)).code).toBe(0);
    const pids = { m1: await waitRunning(sv, "m1", 1), m2: await waitRunning(sv, "m2", 1), m3: await waitRunning(sv, "m3", 1) };
    const foreign = path.join(sv.confDir, "foreign2.conf");
    fs.writeFileSync(foreign, "[program:foreign2]\ncommand=/bin/sleep 1000\n");
    const before = snapshot(sv.confDir);
    const unchanged = async () => {
      expect(snapshot(sv.confDir)).toEqual(before);
      for (const n of ["m1", "m2", "m3"] as const) expect(await waitRunning(sv, n, 1)).toEqual(pids[n]);
    };
    // A bad name anywhere: exit 2 naming it, nothing done.
    const bad = await cli(["worker", "rm", "m1", "bad name", "m2", "--json"], sv.env);
    expect(bad.code).toBe(2);
    expect(bad.json.error.message).toMatch(/^NAMES: "bad name" is not a worker name/u);
    await unchanged();
    // Missing ones (all named at once), or a file vexo-sv did not write: refused before m1 is touched.
    const missing = await cli(["worker", "rm", "m1", "nope1", "m2", "nope2", "--json"], sv.env);
    expect(missing.code).toBe(1);
    expect(missing.json.error).toMatchObject({ code: "not_found", details: { names: ["nope1", "nope2"] } });
    expect(missing.json.error.message).toMatch(/nothing was removed/u);
    const notOurs = await cli(["worker", "rm", "m1", "foreign2", "--json"], sv.env);
    expect(notOurs.json.error.code).toBe("not_managed");
    await unchanged();
    // --dry-run: the batch's calls (the stops in lanes, then one update naming both), nothing changed.
    const dry = await cli(["worker", "rm", "m1", "m2", "--dry-run", "--json"], sv.env);
    expect(dry.code).toBe(0);
    expect(dry.json).toMatchObject({ changed: true, dryRun: true });
    expect(dry.json.plan.removes).toEqual([path.join(sv.confDir, "m1.conf"), path.join(sv.confDir, "m2.conf")]);
    expect(dry.json.plan.supervisorctl).toEqual([
      ["supervisorctl", "-c", sv.config, "stop", "m1:*"],
      ["supervisorctl", "-c", sv.config, "stop", "m2:*"],
      ["supervisorctl", "-c", sv.config, "update", "m1", "m2"],
    ]);
    await unchanged();
    // --missing-ok: the missing one is changed=false; the others go; a name given twice counts once.
    const r = await cli(["worker", "rm", "m1", "nope", "m2", "m1", "--missing-ok", "--json"], sv.env);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ changed: true, dryRun: false });
    expect(r.json.workers).toEqual([
      { name: "m1", file: path.join(sv.confDir, "m1.conf"), changed: true },
      { name: "nope", file: path.join(sv.confDir, "nope.conf"), changed: false },
      { name: "m2", file: path.join(sv.confDir, "m2.conf"), changed: true },
    ]);
    for (const n of ["m1", "m2"]) expect(await lsWorker(sv, n)).toBeUndefined();
    expect(await waitRunning(sv, "m3", 1)).toEqual(pids.m3);
    // --force for several; the human output has a line per worker.
    const forced = await cli(["worker", "rm", "m3", "foreign2", "--force"], sv.env);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/removed worker m3 .*\n.*removed worker foreign2 /u);
    expect(fs.existsSync(foreign)).toBe(false);
    expect(await lsWorker(sv, "m3")).toBeUndefined();
  });

  it("parallel adds of different names all land; of one name, exactly one worker", async () => {
    const names = ["p1", "p2", "p3", "p4", "p5"];
    const rs = await Promise.all(names.map((n) => cli([...addArgs(n), "--json"], sv.env)));
    expect(rs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
    for (const n of names) await waitRunning(sv, n, 1);
    const same = await Promise.all(names.map(() => cli([...addArgs("same"), "--json"], sv.env)));
    expect(same.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
    expect(same.filter((r) => r.json.changed).length).toBe(1);
    await waitRunning(sv, "same", 1);
    const rms = await Promise.all([...names, "same"].map((n) => cli(["worker", "rm", n, "--json"], sv.env)));
    expect(rms.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(
      fs
        .readdirSync(sv.confDir)
        .filter((n) => !n.startsWith("."))
        .sort(),
    ).toEqual(["first.conf", "second.conf"]);
  });

  it("with supervisord down: ls still lists files (state unknown, a warning); add writes nothing", async () => {
    const down = await cli(["shutdown", "--json"], sv.env);
    expect(down.code).toBe(0);
    const ls = await cli(["worker", "ls", "--json"], sv.env);
    expect(ls.code).toBe(0);
    expect(ls.json.reachable).toBe(false);
    expect(ls.json.workers).toEqual([
      expect.objectContaining({ name: "first", state: "unknown" }),
      expect.objectContaining({ name: "second", state: "unknown" }),
    ]);
    expect(ls.json.warnings[0]).toMatch(/not reachable/u);
    const before = snapshot(sv.confDir);
    const add = await cli([...addArgs("late"), "--json"], sv.env);
    expect(add.code).toBe(1);
    expect(add.json.error.code).toBe("supervisord_unreachable");
    expect(add.json.error.hint).toMatch(/install|start/u);
    expect(snapshot(sv.confDir)).toEqual(before);
  });
});
