import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type Attacker, attackerSkipReason, createAttacker, killFromPidfile } from "../helpers/attacker.js";
import {
  addArgs,
  BIN,
  cli,
  type CliResult,
  copyBuiltCli,
  ROOT,
  SAMPLE_APP,
  startSupervisor,
  stopSupervisor,
  type Sv,
  waitRunning,
} from "../helpers/cli.js";

// docs/security.md, held: a throw-away unprivileged user plays the attacker against private root
// supervisords; each test names the item of issue 13 it holds. Root only (CI runs as root).

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`tests/security skipped: ${skip}`);

let atk: Attacker;
let sv: Sv;
/** A directory the attacker can enter and read (not write), for their targets. */
let tmp: string;

beforeAll(async () => {
  if (skip) return;
  atk = await createAttacker();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-sec-"));
  fs.chmodSync(tmp, 0o755);
  sv = await startSupervisor();
}, 120_000);
afterAll(async () => {
  if (skip) return;
  await stopSupervisor(sv);
  await atk?.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The built CLI with a node --import hook, parsed like cli(). */
async function cliWith(hook: string, args: string[], env: Record<string, string> = {}): Promise<CliResult & { rssKiB: number }> {
  const r = await execa("node", ["--import", path.join(ROOT, "tests/helpers", hook), BIN, ...args], {
    reject: false,
    env: { ...env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  const rss = /vexo-sv-max-rss-kib (\d+)/u.exec(String(r.stderr));
  const out = String(r.stdout);
  return {
    code: r.exitCode ?? -1,
    stdout: out,
    stderr: String(r.stderr),
    json: args.includes("--json") ? JSON.parse(out.trim().split("\n")[0] ?? "{}") : {},
    rssKiB: Number(rss?.[1] ?? 0),
  };
}

const mode = (f: string) => fs.statSync(f).mode & 0o7777;

describe.skipIf(skip !== undefined)("vexo-sv as root against another local user", () => {
  it("1. install --prefix refuses a prefix the attacker planted (owner), and one under a directory others can write", async () => {
    const open = path.join(tmp, "open");
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777); // world-writable, no sticky bit
    const planted = path.join(open, "sv");
    const marker = path.join(tmp, "pwned");
    await atk.run("mkdir", [planted]);
    const conf = [
      "; managed-by: vexo-sv",
      "[unix_http_server]",
      `file=${planted}/supervisor.sock`,
      "chmod=0777",
      "[supervisord]",
      `logfile=${planted}/supervisord.log`,
      `pidfile=${planted}/supervisord.pid`,
      "[rpcinterface:supervisor]",
      "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
      "[supervisorctl]",
      `serverurl=unix://${planted}/supervisor.sock`,
      "[program:pwn]",
      `command=/usr/bin/touch ${marker}`,
      "[include]",
      `files = ${planted}/conf.d/*.conf`,
    ].join("\n");
    await atk.run("/bin/sh", ["-c", 'cat > "$1"', "_", path.join(planted, "supervisord.conf")], { input: conf });
    const r = await cli(["install", "--prefix", planted, "--json"]);
    expect(r.code).toBe(2);
    expect(r.json.error.details.flag).toBe("--prefix");
    expect(r.json.error.message).toMatch(new RegExp(`owned by uid ${atk.uid}|writable by others`, "u"));
    expect(fs.existsSync(path.join(planted, "supervisor.sock"))).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
    // Not yet there, but under a directory anyone can write: also refused, nothing created.
    const fresh = await cli(["install", "--prefix", path.join(open, "mine"), "--json"]);
    expect(fresh.code).toBe(2);
    expect(fresh.json.error.message).toMatch(/writable by others/u);
    expect(fs.existsSync(path.join(open, "mine"))).toBe(false);
  });

  it("1. install --prefix never starts a config vexo-sv did not write, and only ever removes a socket", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "p-"));
    fs.writeFileSync(path.join(dir, "supervisord.conf"), "[supervisord]\n");
    const r = await cli(["install", "--prefix", dir, "--json"]);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("not_managed");
    // A serverurl pointing at a file that is no socket, outside the prefix (as a planted one
    // would): the config is no longer what vexo-sv writes, so nothing starts, and that file is never removed.
    const ours = fs.mkdtempSync(path.join(tmp, "q-"));
    expect((await cli(["install", "--prefix", ours, "--json"])).code).toBe(0);
    const config = path.join(ours, "supervisord.conf");
    expect((await cli(["shutdown", "--json"], { VEXO_SV_CONFIG: config })).code).toBe(0);
    const target = path.join(tmp, "root-file");
    fs.writeFileSync(target, "keep me\n");
    fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace(/^serverurl=.*$/mu, `serverurl=unix://${target}`));
    onTestFinished(() => killFromPidfile(ours));
    const r2 = await cli(["install", "--prefix", ours, "--json"]);
    expect(r2.code).toBe(2);
    expect(r2.json.error.message).toMatch(/serverurl is not the value vexo-sv writes/u);
    expect(fs.readFileSync(target, "utf8")).toBe("keep me\n");
    expect(fs.existsSync(path.join(ours, "supervisord.pid"))).toBe(false);
  }, 120_000);

  it("2. a root supervisord's log directory that others can write is refused (exit 2, nothing written)", async () => {
    const logs = path.join(tmp, "shared-logs");
    fs.mkdirSync(logs);
    fs.chmodSync(logs, 0o777);
    const before = fs.readdirSync(sv.confDir);
    const r = await cli([...addArgs("lw"), "--log-dir", logs, "--json"], sv.env);
    expect(r.code).toBe(2);
    expect(r.json.error.details.flag).toBe("--log-dir");
    expect(r.json.error.message).toMatch(/writable by others/u);
    expect(fs.readdirSync(sv.confDir)).toEqual(before);
  });

  it("2. logs never follows a planted symlink or hangs on a FIFO; a failure report never carries another file", async () => {
    expect((await cli([...addArgs("victim"), "--json"], sv.env)).code).toBe(0);
    expect((await cli(["worker", "stop", "victim", "--json"], sv.env)).code).toBe(0);
    const secret = path.join(tmp, "root-only");
    fs.writeFileSync(secret, "TOP-SECRET\n", { mode: 0o600 });
    const log = path.join(sv.logDir, "victim_00.log");
    fs.rmSync(log, { force: true });
    fs.symlinkSync(secret, log);
    const r = await cli(["logs", "victim", "--json"], sv.env);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("unsafe_file");
    expect(r.stdout).not.toMatch(/TOP-SECRET/u);
    fs.rmSync(log);
    await execa("mkfifo", [log]);
    const fifo = await cli(["logs", "victim", "--json"], sv.env); // returns: no reader waits on a FIFO
    expect(fifo.json.error.code).toBe("unsafe_file");
    expect((await cli(["worker", "rm", "victim", "--json"], sv.env)).code).toBe(0);
    fs.rmSync(log, { force: true });
  });

  it("3. the name all is refused by every command, before supervisorctl runs", async () => {
    for (const args of [
      addArgs("all"),
      ["worker", "rm", "all"],
      ["worker", "start", "all"],
      ["worker", "restart", "all"],
      ["logs", "all"],
    ]) {
      const r = await cli([...args, "--json"], sv.env);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.json.error.message, args.join(" ")).toMatch(/reserved/u);
    }
  });

  it("4. with umask 000, every directory and file is created with its own mode", async () => {
    const prefix = fs.mkdtempSync(path.join(tmp, "u-"));
    fs.rmdirSync(prefix);
    const inst = await cliWith("umask0.mjs", ["install", "--prefix", prefix, "--json"]);
    expect(inst.code, inst.stdout).toBe(0);
    const env = { VEXO_SV_CONFIG: path.join(prefix, "supervisord.conf") };
    for (const d of [prefix, path.join(prefix, "conf.d")]) expect(mode(d), d).toBe(0o755);
    expect(mode(path.join(prefix, "logs"))).toBe(0o750); // worker logs: not for every local user
    expect(mode(path.join(prefix, "supervisord.conf"))).toBe(0o644);
    const logs = path.join(prefix, "new-logs");
    const add = await cliWith("umask0.mjs", [...addArgs("um", ["--no-wait", "--log-dir", logs, "--env", "K=v"]), "--json"], env);
    expect(add.code, add.stdout).toBe(0);
    expect(mode(logs)).toBe(0o750);
    expect(mode(path.join(prefix, "conf.d/um.conf"))).toBe(0o600);
    expect(mode(path.join(prefix, "conf.d/.vexo-sv.lock"))).toBe(0o600);
    await cli(["shutdown", "--json"], env);
  });

  it("6. a program file with --env is readable by root alone", async () => {
    expect((await cli([...addArgs("secret", ["--no-wait", "--env", "DB_PASSWORD=s3cret-pw"]), "--json"], sv.env)).code).toBe(0);
    expect((await cli([...addArgs("plain", ["--no-wait"]), "--json"], sv.env)).code).toBe(0);
    const file = path.join(sv.confDir, "secret.conf");
    expect(mode(file)).toBe(0o600);
    expect(mode(path.join(sv.confDir, "plain.conf"))).toBe(0o644);
    fs.chmodSync(sv.dir, 0o755); // let the attacker reach the directory: the file itself must stop them
    const r = await atk.run("cat", [file]);
    fs.chmodSync(sv.dir, 0o700);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toMatch(/s3cret/u);
    for (const n of ["secret", "plain"]) expect((await cli(["worker", "rm", n, "--json"], sv.env)).code).toBe(0);
  });

  it("7. a private supervisord started by root gives its workers none of root's environment", async () => {
    const prefix = fs.mkdtempSync(path.join(tmp, "e-"));
    const env = { VEXO_SV_CONFIG: path.join(prefix, "supervisord.conf"), CI_TOKEN: "ci-token-value", HOME: "/root" };
    expect((await cli(["install", "--prefix", prefix, "--json"], env)).code).toBe(0);
    try {
      expect((await cli([...addArgs("envw"), "--json"], env)).code).toBe(0);
      const sv2 = { ...sv, dir: prefix, env: { VEXO_SV_CONFIG: env.VEXO_SV_CONFIG } };
      const [pid] = await waitRunning(sv2, "envw", 1);
      const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      expect(environ.filter((v) => v.startsWith("CI_TOKEN="))).toEqual([]);
      expect(environ.filter((v) => v === "HOME=/root")).toEqual([]);
    } finally {
      // Whatever failed above, this supervisord is not left running after the test.
      await cli(["shutdown", "--json"], env);
    }
  });

  it("8. a root worker needs --allow-root, and never runs code another user can write", async () => {
    const noFlag = await cli(["worker", "add", "--name", "r1", "--path", SAMPLE_APP, "--user", "root", "--json"], sv.env);
    expect(noFlag.code).toBe(2);
    expect(noFlag.json.error.details.flag).toBe("--allow-root");
    const app = fs.mkdtempSync(path.join(tmp, "app-"));
    fs.chmodSync(app, 0o755);
    fs.copyFileSync(path.join(SAMPLE_APP, "artisan"), path.join(app, "artisan"));
    fs.chownSync(path.join(app, "artisan"), atk.uid, atk.gid); // the attacker can rewrite artisan
    const r = await cli(["worker", "add", "--name", "r2", "--path", app, "--user", "root", "--allow-root", "--json"], sv.env);
    expect(r.code).toBe(2);
    expect(r.json.error.details.flag).toBe("--path");
    expect(r.json.error.message).toMatch(new RegExp(`owned by uid ${atk.uid}`, "u"));
    // Run as another user, the same app is allowed, with a warning that names who can change it.
    const w = await cli(["worker", "add", "--name", "r3", "--path", app, "--user", "nobody", "--no-wait", "--dry-run", "--json"], sv.env);
    expect(w.code, w.stdout).toBe(0);
    expect(w.json.warnings.join("\n")).toMatch(new RegExp(`owned by uid ${atk.uid}`, "u"));
  });

  it("9. a value that lands as a positional argument may not start with '-'", async () => {
    for (const args of [["--connection=--force"], ["--php", "-x"]]) {
      const r = await cli([...addArgs("dash"), ...args, "--json"], sv.env);
      expect(r.code, args.join(" ")).toBe(2);
    }
  });

  it("10. values supervisord or Python would read differently are refused", async () => {
    for (const [flag, value] of [
      ["--env", "A='quoted'"],
      ["--env", "B=x'"],
      ["--path", `${SAMPLE_APP}\u0085`],
      ["--path", `/srv/a\u2028b`],
      ["--queue", "a\u2029b"],
    ] as const) {
      const r = await cli([...addArgs("rt"), flag, value, "--json"], sv.env);
      expect(r.code, `${flag} ${JSON.stringify(value)}`).toBe(2);
      expect(r.json.error.details.flag).toBe(flag);
    }
  });

  it("11. logs -n 1 on a 600 MB log with no newline keeps its memory bounded", async () => {
    expect((await cli([...addArgs("big"), "--json"], sv.env)).code).toBe(0);
    expect((await cli(["worker", "stop", "big", "--json"], sv.env)).code).toBe(0);
    const log = path.join(sv.logDir, "big_00.log");
    const fd = fs.openSync(log, "w");
    fs.ftruncateSync(fd, 600 * 1024 * 1024); // 600 MB of NUL bytes: one line
    fs.writeSync(fd, "THE-END", 600 * 1024 * 1024 - 7);
    fs.closeSync(fd);
    const r = await cliWith("report-rss.mjs", ["logs", "big", "-n", "1", "--json"], sv.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.lines).toHaveLength(1);
    expect(r.json.lines[0].line.endsWith("THE-END")).toBe(true);
    expect(Buffer.byteLength(r.json.lines[0].line)).toBeLessThanOrEqual(64 * 1024);
    expect(r.rssKiB).toBeGreaterThan(0);
    expect(r.rssKiB).toBeLessThan(200 * 1024);
    fs.rmSync(log);
    expect((await cli(["worker", "rm", "big", "--json"], sv.env)).code).toBe(0);
  });

  it("12. a lock file planted as a symlink is refused; its target is untouched", async () => {
    const target = path.join(tmp, "lock-target");
    fs.writeFileSync(target, "untouched\n", { mode: 0o644 });
    const lock = path.join(sv.confDir, ".vexo-sv.lock");
    fs.rmSync(lock, { force: true });
    fs.symlinkSync(target, lock);
    const r = await cli([...addArgs("locked"), "--json"], sv.env);
    fs.rmSync(lock);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("unsafe_file");
    expect(fs.readFileSync(target, "utf8")).toBe("untouched\n");
    expect(mode(target)).toBe(0o644);
    expect(fs.existsSync(path.join(sv.confDir, "locked.conf"))).toBe(false);
  });

  it("review: a pidfile another user wrote (or a FIFO there) is not believed, and never hangs a command", async () => {
    const pidfile = path.join(sv.dir, "supervisord.pid");
    const real = fs.readFileSync(pidfile, "utf8");
    const sleeper = execa("setpriv", ["--reuid", String(atk.uid), "--regid", String(atk.gid), "--clear-groups", "sleep", "300"], {
      reject: false,
    });
    try {
      // The attacker's process in an attacker-owned pidfile would say "supervisord runs as them".
      fs.writeFileSync(pidfile, `${sleeper.pid}\n`);
      fs.chownSync(pidfile, atk.uid, atk.gid);
      const r = await cli([...addArgs("pf", ["--no-wait", "--dry-run"]), "--user", "nobody", "--json"], sv.env);
      expect(r.code, r.stdout).toBe(0);
      expect(r.json.worker.user).toBe("nobody");
      expect(r.json.warnings.join(" ")).not.toMatch(/left out/u);
      fs.rmSync(pidfile);
      await execa("mkfifo", [pidfile]);
      const st = await execa("node", [BIN, "status", "--json"], { env: { ...sv.env }, reject: false, timeout: 60_000 });
      expect(st.timedOut).toBe(false);
      expect(JSON.parse(st.stdout).supervisord.running).toBe(true);
    } finally {
      sleeper.kill("SIGKILL");
      fs.rmSync(pidfile, { force: true });
      fs.writeFileSync(pidfile, real);
    }
  });

  it("review 2 (7d): a root-owned pidfile whose pid is now another user's process is not believed (a reused pid)", async () => {
    const pidfile = path.join(sv.dir, "supervisord.pid");
    const real = fs.readFileSync(pidfile, "utf8");
    const sleeper = execa("setpriv", ["--reuid", String(atk.uid), "--regid", String(atk.gid), "--clear-groups", "sleep", "300"], {
      reject: false,
    });
    try {
      // supervisord's own pid file, root's as it should be, but naming the attacker's process: the
      // pid it held was reused. Believed, it would say supervisord runs as them and drop user=.
      fs.writeFileSync(pidfile, `${sleeper.pid}\n`);
      const r = await cli([...addArgs("pr", ["--no-wait", "--dry-run"]), "--user", "nobody", "--json"], sv.env);
      expect(r.code, r.stdout).toBe(0);
      expect(r.json.worker.user).toBe("nobody");
      expect(r.json.warnings.join(" ")).not.toMatch(/left out/u);
      // The real supervisord's pid is believed (it holds its socket), root's or not.
      fs.writeFileSync(pidfile, real);
      const st = await cli(["status", "--json"], sv.env);
      expect(st.json.supervisord.pid).toBe(Number(real.trim()));
    } finally {
      sleeper.kill("SIGKILL");
      fs.writeFileSync(pidfile, real);
    }
  });

  it("review: --env values never appear in any output (they stay in the 0600 file)", async () => {
    const r = await cli([...addArgs("sec2", ["--no-wait", "--env", "DB_PASSWORD=s3cret-value"]), "--json"], sv.env);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json.worker.env).toEqual({ DB_PASSWORD: "(hidden)" });
    const dry = await cli([...addArgs("sec2", ["--no-wait", "--env", "DB_PASSWORD=other-secret", "--replace", "--dry-run"])], sv.env);
    for (const out of [
      r.stdout,
      dry.stdout,
      (await cli(["worker", "ls", "--json"], sv.env)).stdout,
      (await cli(["status", "--json"], sv.env)).stdout,
    ]) {
      expect(out).not.toMatch(/s3cret-value|other-secret/u);
    }
    expect(fs.readFileSync(path.join(sv.confDir, "sec2.conf"), "utf8")).toContain('DB_PASSWORD="s3cret-value"');
    expect((await cli(["worker", "rm", "sec2", "--json"], sv.env)).code).toBe(0);
  });

  it("review: a root worker is refused when anything in its app (bootstrap/cache, vendor, storage) is another user's", async () => {
    const app = fs.mkdtempSync(path.join(tmp, "tree-"));
    fs.chmodSync(app, 0o755);
    fs.copyFileSync(path.join(SAMPLE_APP, "artisan"), path.join(app, "artisan"));
    fs.mkdirSync(path.join(app, "bootstrap/cache"), { recursive: true });
    fs.chownSync(path.join(app, "bootstrap/cache"), atk.uid, atk.gid);
    const r = await cli(
      ["worker", "add", "--name", "tree", "--path", app, "--user", "root", "--allow-root", "--dry-run", "--json"],
      sv.env,
    );
    expect(r.code).toBe(2);
    expect(r.json.error.message).toMatch(/bootstrap\/cache is owned by uid/u);
  });

  it("issue 24: install --prefix on a tree another user set up lists every path it must not trust at once; nothing they planted runs as root", async () => {
    // The attacker sets up their own private supervisord (as them), stops it, and plants a program
    // and a log symlink; root then runs install --prefix on the same directory.
    const home = fs.mkdtempSync(path.join(tmp, "atk-home-"));
    fs.chmodSync(home, 0o755);
    fs.chownSync(home, atk.uid, atk.gid);
    const entry = copyBuiltCli(fs.mkdtempSync(path.join(tmp, "atk-cli-")));
    fs.chmodSync(path.dirname(path.dirname(entry)), 0o755);
    const prefix = path.join(home, "sv");
    const config = path.join(prefix, "supervisord.conf");
    const marker = path.join(tmp, "evil-ran-as-root");
    const victim = path.join(tmp, "root-victim");
    fs.writeFileSync(victim, "keep me\n", { mode: 0o644 });
    const asAtk = (args: string[]) => atk.run("node", [entry, ...args], { env: { VEXO_SV_CONFIG: config } });
    const inst = await asAtk(["install", "--prefix", prefix, "--json"]);
    expect(inst.code, inst.stdout + inst.stderr).toBe(0);
    expect((await asAtk(["shutdown", "--json"])).code).toBe(0);
    const evil = path.join(prefix, "conf.d/evil.conf");
    await atk.run("/bin/sh", ["-c", 'cat > "$1"', "_", evil], {
      input: `[program:evil]\ncommand=/bin/sh -c "id > ${marker}"\nautostart=true\nstartsecs=0\n`,
    });
    const log = path.join(prefix, "logs/supervisord.log");
    await atk.run("/bin/sh", ["-c", 'rm -f "$1" && ln -s "$2" "$1"', "_", log, victim]);
    try {
      const r = await cli(["install", "--prefix", prefix, "--json"]);
      expect(r.code).toBe(2);
      expect(r.json.error.details.flag).toBe("--prefix");
      const named: string[] = r.json.error.details.paths;
      // Every path of theirs at once, not one per run.
      for (const p of [prefix, config, path.join(prefix, "conf.d"), evil, path.join(prefix, "logs"), log]) expect(named).toContain(p);
      expect(r.json.error.details.unmanaged).toEqual([evil]);
      expect(r.json.error.message).toMatch(/evil\.conf.*not written by vexo-sv/u);
      expect(r.json.error.message).toMatch(/supervisord\.log.*symbolic link/u);
      // Never chown: that keeps what they planted and the files they hold open. Move it aside, set it up anew.
      expect(r.json.error.hint).not.toMatch(/chown|chmod/u);
      expect(r.json.error.hint).toContain(`mv -T ${prefix} ${prefix}.untrusted`);
      expect(r.json.error.hint).toMatch(new RegExp(`\`vexo-sv install --prefix ${prefix}\`$`, "u"));
      // Their home, above the prefix: another location.
      expect(r.json.error.hint).toContain(`use another location: ${home} is not root's alone`);
      expect(fs.existsSync(path.join(prefix, "supervisor.sock"))).toBe(false);
      // Root does what the hint says: their tree moved aside, and still refused where they own a directory above.
      fs.renameSync(prefix, `${prefix}.untrusted`);
      const there = await cli(["install", "--prefix", prefix, "--json"]);
      expect(there.code).toBe(2);
      expect(there.json.error.details.paths).toEqual([home]);
      const elsewhere = fs.mkdtempSync(path.join(tmp, "anew-"));
      onTestFinished(() => killFromPidfile(elsewhere));
      const again = await cli(["install", "--prefix", elsewhere, "--json"]);
      expect(again.code, again.stdout).toBe(0);
      expect(fs.statSync(`/proc/${again.json.pid}`).uid).toBe(0);
      expect((await cli(["shutdown", "--json"], { VEXO_SV_CONFIG: again.json.config })).code).toBe(0);
      expect(fs.readFileSync(victim, "utf8")).toBe("keep me\n");
      expect(fs.existsSync(marker)).toBe(false);
    } finally {
      killFromPidfile(prefix);
    }
  }, 120_000);

  it("issue 24: a root-owned program file vexo-sv did not write is named in a warning; a root-owned symlink to another user's file is refused", async () => {
    const prefix = fs.mkdtempSync(path.join(tmp, "own-"));
    const config = path.join(prefix, "supervisord.conf");
    expect((await cli(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    expect((await cli(["shutdown", "--json"], { VEXO_SV_CONFIG: config })).code).toBe(0);
    onTestFinished(() => killFromPidfile(prefix));
    const mine = path.join(prefix, "conf.d/by-hand.conf");
    fs.writeFileSync(mine, "[program:by-hand]\ncommand=/bin/sleep 600\nautostart=false\n", { mode: 0o644 });
    const ok = await cli(["install", "--prefix", prefix, "--json"]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.json.warnings.join(" ")).toContain(`${mine} was not written by vexo-sv`);
    expect((await cli(["shutdown", "--json"], { VEXO_SV_CONFIG: config })).code).toBe(0);
    // Root's own symlink, to a file the attacker owns: their program would run as root.
    const theirs = path.join(tmp, "atk-program.conf");
    fs.writeFileSync(theirs, "[program:linked]\ncommand=/bin/sleep 600\nautostart=false\n");
    fs.chownSync(theirs, atk.uid, atk.gid);
    const link = path.join(prefix, "conf.d/linked.conf");
    fs.symlinkSync(theirs, link);
    const r = await cli(["install", "--prefix", prefix, "--json"]);
    expect(r.code).toBe(2);
    expect(r.json.error.details.paths).toContain(link);
    expect(r.json.error.message).toMatch(new RegExp(`linked\\.conf.*owned by uid ${atk.uid}`, "u"));
    expect(fs.existsSync(path.join(prefix, "supervisor.sock"))).toBe(false);
  }, 120_000);

  it("issue 24: as root, a change in a config tree another user can write is refused (unsafe_file), and nothing goes through their symlinks; ls warns", async () => {
    const prefix = fs.mkdtempSync(path.join(tmp, "cfg-"));
    fs.chmodSync(prefix, 0o755); // the attacker may enter it, not write it
    onTestFinished(() => killFromPidfile(prefix));
    const env = { VEXO_SV_CONFIG: path.join(prefix, "supervisord.conf") };
    const confDir = path.join(prefix, "conf.d");
    expect((await cli(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    expect((await cli([...addArgs("held", ["--no-wait"]), "--json"], env)).code).toBe(0);
    // The state directory, planted as the attacker's link to a directory of theirs.
    const theirs = fs.mkdtempSync(path.join(tmp, "atk-state-"));
    fs.chmodSync(theirs, 0o755);
    fs.chownSync(theirs, atk.uid, atk.gid);
    const state = path.join(confDir, ".vexo-sv-state");
    fs.rmSync(state, { recursive: true, force: true });
    fs.symlinkSync(theirs, state);
    fs.lchownSync(state, atk.uid, atk.gid);
    const pause = await cli(["worker", "pause", "held", "--json"], env);
    expect(pause.code).toBe(1);
    expect(pause.json.error.code).toBe("unsafe_file");
    expect(pause.json.error.details.paths).toEqual([state]);
    expect(pause.json.error.hint).not.toMatch(/chown|chmod/u);
    expect(pause.json.error.hint).toContain(`mv -T ${prefix} ${prefix}.untrusted`);
    expect(fs.readdirSync(theirs)).toEqual([]);
    fs.rmSync(state);
    // The program directory is theirs, with a program file planted as a link to a file of root's.
    const target = path.join(tmp, "cfg-target");
    fs.writeFileSync(target, "untouched\n", { mode: 0o644 });
    fs.chownSync(confDir, atk.uid, atk.gid);
    await atk.run("ln", ["-s", target, path.join(confDir, "planted.conf")]);
    const before = fs.readdirSync(confDir).sort();
    const planted = await cli([...addArgs("planted", ["--no-wait"]), "--json"], env);
    expect(planted.code).toBe(1);
    expect(planted.json.error.code).toBe("unsafe_file");
    for (const args of [addArgs("other", ["--no-wait"]), ["worker", "rm", "held"], ["worker", "stop", "held"]]) {
      const r = await cli([...args, "--json"], env);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.json.error.code).toBe("unsafe_file");
      expect(r.json.error.message).toContain(`${confDir} is owned by uid ${atk.uid}`);
      expect(r.json.error.hint).toContain(`mv -T ${prefix} ${prefix}.untrusted`);
      expect(r.json.error.hint).toMatch(new RegExp(`\`vexo-sv install --prefix ${prefix}\`$`, "u"));
    }
    expect(fs.readdirSync(confDir).sort()).toEqual(before);
    expect(fs.readFileSync(target, "utf8")).toBe("untouched\n");
    expect(mode(target)).toBe(0o644);
    // Reading is allowed, with a warning that names the directory.
    const ls = await cli(["worker", "ls", "--json"], env);
    expect(ls.code).toBe(0);
    expect(ls.json.warnings.join(" ")).toContain(`${confDir} is owned by uid ${atk.uid}`);
    // An ancestor of it all (the prefix) is theirs: refused too, the hint names the prefix.
    fs.rmSync(path.join(confDir, "planted.conf"));
    fs.chownSync(confDir, 0, 0);
    fs.chownSync(prefix, atk.uid, atk.gid);
    const rm = await cli(["worker", "rm", "held", "--json"], env);
    expect(rm.code).toBe(1);
    expect(rm.json.error.hint).toContain(`mv -T ${prefix} ${prefix}.untrusted`);
    expect(rm.json.error.hint).not.toMatch(/chown|chmod/u);
    expect(fs.existsSync(path.join(confDir, "held.conf"))).toBe(true);
    fs.chownSync(prefix, 0, 0);
    expect((await cli(["worker", "rm", "held", "--json"], env)).code).toBe(0);
    expect((await cli(["shutdown", "--json"], env)).code).toBe(0);
  }, 120_000);
});
