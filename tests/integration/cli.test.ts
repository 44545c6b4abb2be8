import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { addArgs, BIN, BROKEN_APP, cli, ME, ROOT, snapshot, useSupervisor, vexoHasOpen, waitFor, waitRunning } from "../helpers/cli.js";
import { stateLines } from "../helpers/rpc.js";

const sv = useSupervisor();

/** A `supervisorctl` first on PATH that records each call, then runs the real one. */
function countingPath(): { env: Record<string, string>; calls: () => string[][]; reset: () => void } {
  const dir = fs.mkdtempSync(path.join(sv.dir, "bin-"));
  const log = path.join(dir, "calls.log");
  fs.writeFileSync(path.join(dir, "supervisorctl"), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${log}\nexec /usr/bin/supervisorctl "$@"\n`, {
    mode: 0o755,
  });
  return {
    env: { ...sv.env, PATH: `${dir}:${process.env.PATH}` },
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : []).map((l) => l.split(" ")),
    reset: () => fs.rmSync(log, { force: true }),
  };
}

describe("supervisorctl calls per command", () => {
  it("add --no-wait: one (update NAME); ls: one (status); rm: two (stop NAME:*, update NAME), however many workers there are", async () => {
    // Six workers already there (their calls are not counted): the counts do not grow with them.
    const present = ["bg1", "bg2", "bg3", "bg4", "bg5", "bg6"];
    for (const n of present) expect((await cli([...addArgs(n, ["--no-wait"]), "--json"], sv.env)).code).toBe(0);
    const c = countingPath();
    expect((await cli([...addArgs("counted", ["--no-wait"]), "--json"], c.env)).code).toBe(0);
    expect(c.calls()).toEqual([["-c", sv.config, "update", "counted"]]);
    await waitRunning(sv, "counted", 1);
    c.reset();
    expect((await cli(["worker", "ls", "--json"], c.env)).code).toBe(0);
    expect(c.calls()).toEqual([["-c", sv.config, "status"]]);
    c.reset();
    expect((await cli(["worker", "rm", "counted", "--json"], c.env)).code).toBe(0);
    expect(c.calls()).toEqual([
      ["-c", sv.config, "stop", "counted:*"],
      ["-c", sv.config, "update", "counted"],
    ]);
    c.reset();
    // Without --no-wait, add polls `status NAME:*` until the answer is known, and never touches other groups.
    expect((await cli([...addArgs("waited"), "--json"], c.env)).code).toBe(0);
    const calls = c.calls();
    expect(calls[0]).toEqual(["-c", sv.config, "update", "waited"]);
    for (const call of calls.slice(1)) expect(call).toEqual(["-c", sv.config, "status", "waited:*"]);
    await cli(["worker", "rm", "waited", ...present, "--json"], sv.env);
  });

  it("the tests' direct view of supervisord (XML-RPC, tests/helpers/rpc.ts) says what supervisorctl status says", async () => {
    expect((await cli([...addArgs("viewed", ["--procs", "2"]), "--json"], sv.env)).code).toBe(0);
    expect((await cli([...addArgs("viewed-stopped"), "--json"], sv.env)).code).toBe(0);
    expect((await cli(["worker", "stop", "viewed-stopped", "--json"], sv.env)).code).toBe(0);
    const text = String((await execa("supervisorctl", ["-c", sv.config, "status"], { reject: false })).stdout);
    const fromCtl = text
      .trim()
      .split("\n")
      .map((l) => {
        const [namespec, state] = l.split(/\s+/u);
        return `${namespec} ${state} pid ${/pid (\d+)/u.exec(l)?.[1] ?? 0}`;
      });
    expect(fromCtl.filter((l) => l.startsWith("viewed"))).toHaveLength(3);
    expect((await stateLines(sv.dir)).split("\n")).toEqual(fromCtl);
    await cli(["worker", "rm", "viewed", "viewed-stopped", "--json"], sv.env);
  });
});

describe("early start of read-only calls (worker ls, status)", () => {
  // `--` makes the argv unusual enough that the early start stands aside: the normal path.
  // Uptimes move between two runs; everything else must match.
  const summary = (doc: Record<string, any>) => ({
    ...doc,
    workers: doc.workers.map((w: Record<string, any>) => ({ ...w, processes: w.processes.map((p: any) => [p.fullName, p.state, p.pid]) })),
  });

  it("gives the same document as the normal path, with the same calls", async () => {
    const c = countingPath();
    expect((await cli([...addArgs("early", ["--no-wait"]), "--json"], sv.env)).code).toBe(0);
    await waitRunning(sv, "early", 1);
    for (const argv of [["worker", "ls"], ["status"]]) {
      c.reset();
      const early = await cli([...argv, "--json"], c.env);
      const earlyCalls = c.calls().sort();
      c.reset();
      const normal = await cli([...argv, "--json", "--"], c.env);
      expect(early.code).toBe(0);
      expect(summary(early.json)).toEqual(summary(normal.json));
      expect(earlyCalls).toEqual(c.calls().sort());
    }
    expect(c.calls().sort()).toEqual([
      ["-c", sv.config, "status"],
      ["-c", sv.config, "version"],
    ]);
    expect((await cli(["worker", "rm", "early", "--json"], sv.env)).code).toBe(0);
  });

  it("ends an early call that the command never takes (it failed first)", async () => {
    // A supervisorctl that would hang for 30 s, and says so when it is terminated instead.
    const dir = fs.mkdtempSync(path.join(sv.dir, "hang-"));
    const log = path.join(dir, "log");
    fs.writeFileSync(
      path.join(dir, "supervisorctl"),
      `#!/bin/sh\necho "started $*" >> ${log}\nsleep 30 &\ntrap 'kill $!; echo terminated >> ${log}; exit 143' TERM\nwait $!\n`,
      { mode: 0o755 },
    );
    const r = await cli(["worker", "ls", "--conf-dir", "/x;y", "--json"], { ...sv.env, PATH: `${dir}:${process.env.PATH}` });
    expect(r.code).toBe(2);
    expect(fs.readFileSync(log, "utf8").trim().split("\n")).toEqual([`started -c ${sv.config} status`, "terminated"]);
  });

  it("changes nothing about errors: a bad --conf-dir is still exit 2, a missing supervisorctl still named", async () => {
    const bad = await cli(["worker", "ls", "--conf-dir", "/x;y", "--json"], sv.env);
    expect(bad.code).toBe(2);
    expect(bad.json.error.message).toMatch(/--conf-dir/u);
    const dir = fs.mkdtempSync(path.join(sv.dir, "nopath-"));
    fs.symlinkSync(process.execPath, path.join(dir, "node"));
    for (const argv of [["worker", "ls"], ["status"], ["worker", "ls", "--"], ["status", "--"]]) {
      const missing = await cli(["--json", ...argv], { ...sv.env, PATH: dir });
      expect(missing.code).toBe(1);
      expect(missing.json.error.message).toMatch(/supervisorctl is not installed/u);
    }
  });
});

describe("the bundle", () => {
  // The README tells users on machines that set NODE_EXTRA_CA_CERTS to drop it for vexo-sv,
  // which is only safe while nothing in the bundle can open a TLS connection.
  it("never loads tls, https or http2", () => {
    // Static imports, require(), and import() (the form esbuild emits for lazy chunks).
    const TLS = /(?:from|import\s*\(?|require\()\s*["'`](?:node:)?(?:tls|https|http2)["'`]/u;
    for (const form of ['import{connect}from"node:tls"', 'import("node:tls")', "import ( 'https' )", 'require("http2")']) {
      expect(TLS.test(form), form).toBe(true);
    }
    expect(TLS.test('import("node:net")')).toBe(false);
    const dist = path.join(ROOT, "dist");
    const files = [
      ...fs.readdirSync(dist).filter((f) => f.endsWith(".js")),
      ...fs.readdirSync(path.join(dist, "chunks")).map((f) => path.join("chunks", f)),
    ];
    expect(files.length).toBeGreaterThan(5);
    expect(files.filter((f) => TLS.test(fs.readFileSync(path.join(dist, f), "utf8")))).toEqual([]);
  });
});

describe("output conventions", () => {
  it("--no-wait does not check that the processes come up", async () => {
    const r = await cli([...addArgs("nowait", ["--no-wait"], BROKEN_APP), "--json"], sv.env);
    expect(r.code).toBe(0);
    expect(r.json.changed).toBe(true);
    expect((await cli(["worker", "rm", "nowait", "--json"], sv.env)).code).toBe(0);
  });

  it("-q keeps data and errors, drops messages", async () => {
    const loud = await cli([...addArgs("quiet", ["--no-wait"])], sv.env);
    expect(loud.stderr).toMatch(/created worker quiet/u);
    // Who it runs as, said where a person reads it (issue 29: the default www-data surprised).
    expect(loud.stderr).toMatch(new RegExp(`created worker quiet \\(1 process, running as ${ME}\\)`, "u"));
    const quiet = await cli(["worker", "rm", "quiet", "-q"], sv.env);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    const err = await cli(["worker", "rm", "quiet", "-q"], sv.env);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/no worker named quiet/u);
  });

  it("colour only when asked for on a terminal: never with --no-color, NO_COLOR or --json", async () => {
    const esc = "\u001b[";
    // Not a TTY here: no colour by default. FORCE_COLOR stands in for a terminal.
    const plain = await cli(["worker", "rm", "nothing-here"], { ...sv.env, NO_COLOR: undefined });
    expect(plain.stderr).not.toContain(esc);
    const forced = await cli(["worker", "rm", "nothing-here"], { ...sv.env, NO_COLOR: undefined, FORCE_COLOR: "1" });
    expect(forced.stderr).toContain(esc);
    const flag = await cli(["worker", "rm", "nothing-here", "--no-color"], { ...sv.env, NO_COLOR: undefined, FORCE_COLOR: "1" });
    expect(flag.stderr).not.toContain(esc);
    const env = await cli(["worker", "rm", "nothing-here"], { ...sv.env, NO_COLOR: "1", FORCE_COLOR: "1" });
    expect(env.stderr).not.toContain(esc);
    const json = await cli(["worker", "rm", "nothing-here", "--json"], { ...sv.env, NO_COLOR: undefined, FORCE_COLOR: "1" });
    expect(JSON.stringify(json.json)).not.toContain(esc);
    expect(json.stderr).toBe("");
  });

  it("--help and --version under --json are one JSON document too", async () => {
    const v = await cli(["--version", "--json"]);
    expect(v.code).toBe(0);
    expect(v.json).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/u) });
    // The launcher answers a bare --version from package.json; the program, from its build: one version.
    const plain = await cli(["--version"]);
    expect(plain.stdout.trim()).toBe((v.json as { version: string }).version);
    expect(plain.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version);
    const h = await cli(["worker", "add", "--help", "--json"]);
    expect(h.code).toBe(0);
    // Like git's and npm's: usage and options first, then the examples.
    expect(h.json.help).toMatch(/^Usage: vexo-sv worker add[\s\S]*\nExample:\n {2}vexo-sv worker add/u);
  });

  it("a command that does not exist says so, also before --help, with a near name; a flag typo points to its command's help (issue 29)", async () => {
    for (const [argv, message, hint] of [
      [["frobnicate", "--help"], "unknown command 'frobnicate'", "see `vexo-sv --help`"],
      [["statsu"], "unknown command 'statsu' (Did you mean status?)", "see `vexo-sv --help`"],
      [["worker", "frob", "--help"], "unknown command 'worker frob'", "see `vexo-sv worker --help`"],
      [["worker", "stpo", "x"], "unknown command 'worker stpo' (Did you mean worker stop?)", "see `vexo-sv worker --help`"],
    ] as const) {
      const r = await cli([...argv, "--json"]);
      expect([r.code, r.json.error.code, r.json.error.message, r.json.error.hint], argv.join(" ")).toEqual([2, "usage", message, hint]);
    }
    const typo = await cli(["worker", "add", "--name", "x", "--proc", "3", "--json"]);
    expect(typo.code).toBe(2);
    expect(typo.json.error.hint).toBe("see `vexo-sv worker add --help`");
    // What exists still gets its help.
    expect((await cli(["worker", "ls", "--help"])).code).toBe(0);
  });

  it("a group without its subcommand is a usage error, with one JSON document", async () => {
    const r = await cli(["worker", "--json"], sv.env);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, error: { code: "usage" } });
    const u = await cli(["worker", "add", "--name", "x", "--json"], sv.env);
    expect(u.code).toBe(2);
    expect(u.json.error.message).toMatch(/--path/u);
  });

  it("a mistyped option is named with a suggestion, even beside a missing required one (exit 2, nothing changed)", async () => {
    const before = snapshot(sv.confDir);
    // --nmae takes the place of the required --name: commander used to say only that --name was missing.
    const typo = ["worker", "add", "--nmae", "typo", "--path", "/tmp"];
    const json = await cli([...typo, "--json"], sv.env);
    expect(json.code).toBe(2);
    expect(json.json.error.code).toBe("usage");
    expect(json.json.error.message).toMatch(/--nmae[\s\S]*did you mean --name\?/iu);
    const human = await cli(typo, sv.env);
    expect(human.code).toBe(2);
    expect(human.stderr).toMatch(/unknown option '--nmae'[\s\S]*did you mean --name\?/iu);
    expect(human.stdout).toBe("");
    // --help still wins over a typo, as before.
    expect((await cli([...typo, "--help"], sv.env)).code).toBe(0);
    expect(snapshot(sv.confDir)).toEqual(before);
  });

  it("--log-dir (flag or env) cannot break out of the stdout_logfile= line", async () => {
    const before = snapshot(sv.confDir);
    const flag = await cli([...addArgs("logdir"), "--log-dir", "/tmp/x\n[program:evil]", "--json"], sv.env);
    expect(flag.code).toBe(2);
    expect(flag.json.error.message).toMatch(/^--log-dir: .*newline/u);
    const env = await cli([...addArgs("logdir"), "--json"], { ...sv.env, VEXO_SV_LOG_DIR: "/tmp/a ;comment" });
    expect(env.code).toBe(2);
    expect(env.json.error.message).toMatch(/^--log-dir:/u);
    expect(snapshot(sv.confDir)).toEqual(before);
  });

  it("shutdown refuses the system supervisord without --force, before reading any file (on any host)", async () => {
    // Whether or not the host has these files: the guard decides on the name alone, first.
    for (const args of [["--config", "/etc/supervisor/supervisord.conf"], ["--config", "/etc/supervisord.conf"], []]) {
      const r = await cli([...args, "shutdown", "--json"], { VEXO_SV_CONFIG: undefined });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.json.error.code).toBe("usage");
      expect(r.json.error.hint).toMatch(/--force/u);
    }
  });
});

describe("locking and isolation", () => {
  it("waits for a lock holder, and a holder killed with SIGKILL leaves no stale lock", async () => {
    // --close: the lock belongs to flock alone, not to the sleep it runs; detached: its own group.
    const holder = execa("flock", ["--exclusive", "--close", path.join(sv.confDir, ".vexo-sv.lock"), "sleep", "1000"], {
      reject: false,
      detached: true,
    });
    await waitFor(async () => fs.existsSync(`/proc/${holder.pid}`), 10, "holder");
    // Let flock take the lock before the CLI asks for it.
    await waitFor(
      async () => (await execa("flock", ["--nonblock", path.join(sv.confDir, ".vexo-sv.lock"), "true"], { reject: false })).exitCode === 1,
      10,
      "lock held",
    );
    let done = false;
    const add = cli([...addArgs("locked", ["--no-wait"]), "--json"], sv.env).then((r) => {
      done = true;
      return r;
    });
    // The run has reached the lock (a process besides the holder has the lock file open), and
    // while the lock is held nothing is written.
    const lockFile = path.join(sv.confDir, ".vexo-sv.lock");
    await waitFor(async () => vexoHasOpen(lockFile), 60, "the add waiting for the lock");
    expect(done).toBe(false);
    expect(fs.existsSync(path.join(sv.confDir, "locked.conf"))).toBe(false);
    process.kill(-(holder.pid as number), "SIGKILL");
    const r = await add;
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(sv.confDir, "locked.conf"))).toBe(true);
    await cli(["worker", "rm", "locked", "--json"], sv.env);
  });

  it("a pending hand edit in another program's file is not applied by our update", async () => {
    const other = path.join(sv.confDir, "handmade.conf");
    fs.writeFileSync(other, "[program:handmade]\ncommand=/bin/sleep 1000\n");
    await execa("supervisorctl", ["-c", sv.config, "update", "handmade"]);
    const pidOf = async () => Number(String((await execa("supervisorctl", ["-c", sv.config, "pid", "handmade"])).stdout).trim());
    await waitFor(async () => (await pidOf()) > 0, 20, "handmade running");
    const pid = await pidOf();
    fs.writeFileSync(other, "[program:handmade]\ncommand=/bin/sleep 2000\n");
    expect((await cli([...addArgs("isolated", ["--no-wait"]), "--json"], sv.env)).code).toBe(0);
    expect((await cli(["worker", "rm", "isolated", "--json"], sv.env)).code).toBe(0);
    expect(await pidOf()).toBe(pid);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")).toBe("/bin/sleep\u00001000\u0000");
  });

  it("a reader that closes stdout early ends the command quietly, exit 0 (issue 14.7)", async () => {
    expect((await cli([...addArgs("piped", ["--no-wait"]), "--json"], sv.env)).code).toBe(0);
    expect((await cli(["worker", "stop", "piped", "--json"], sv.env)).code).toBe(0);
    // Far more than a pipe holds: head has gone long before the last line is written.
    fs.writeFileSync(path.join(sv.logDir, "piped_00.log"), "a line of a log that is long enough to matter\n".repeat(50000));
    for (const args of [
      ["logs", "piped", "-n", "50000"],
      ["logs", "piped", "-n", "50000", "--json"],
    ]) {
      const r = await execa("bash", ["-c", 'node "$@" | head -1; echo "exit=${PIPESTATUS[0]}"', "_", BIN, ...args], {
        env: { ...process.env, ...sv.env },
        reject: false,
      });
      expect(r.stdout.split("\n").at(-1), args.join(" ")).toBe("exit=0");
      expect(r.stderr, args.join(" ")).toBe("");
    }
    expect((await cli(["worker", "rm", "piped", "--json"], sv.env)).code).toBe(0);
  });
});
