import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { apply, workersFile } from "../helpers/apply.js";
import { alertsOf, EXITS_AT_ONCE, listenerLogText, recorded, recorder, shAddArgs, shApp, waitLog } from "../helpers/alerts.js";
import { addArgs, cli, ROOT, snapshot, useSupervisor, waitFor, waitRunning } from "../helpers/cli.js";
import { groupInfo, processInfo } from "../helpers/rpc.js";

// Alerts against a real private supervisord: vexo-sv-alerts as its event listener, CMD a script
// that records each alert. A FATAL reaches CMD once with its log line; a worker that keeps dying
// flaps once; a CMD that fails, hangs or prints megabytes holds nothing up; names and log lines
// full of shell metacharacters reach CMD as data only; and no worker command takes the listener
// for a worker.

const sv = useSupervisor();
let rec: { exec: string; dir: string };
const ctl = (...args: string[]) => execa("supervisorctl", ["-c", sv.config, ...args], { reject: false });
const listenerPid = async () => (await groupInfo(sv.dir, "vexo-sv-alerts"))[0]?.pid ?? 0;
const enable = (args: string[]) => cli(["alerts", "enable", ...args, "--json", "--exec", rec.exec], sv.env);

/** Nothing in supervisord's log says the listener broke the protocol (it would stop getting events). */
function protocolKept(): void {
  const log = fs.readFileSync(path.join(sv.logDir, "supervisord.log"), "utf8");
  expect(log).not.toMatch(/UNKNOWN state|violated the eventlistener protocol|bad result line/u);
  // Each enable that replaced it, and the disable, stopped the listener with SIGTERM: it ended at
  // once (its stdin held it alive for supervisord's stopwaitsecs, 10 s, and a SIGKILL, before).
  expect(log).not.toMatch(/killing 'vexo-sv-alerts'/u);
  expect(log).toMatch(/stopped: vexo-sv-alerts \(exit status 0\)/u);
}

beforeAll(() => {
  rec = recorder(sv);
});

describe("alerts enable, refused", () => {
  it("bad input exits 2 naming the flag, and nothing is written", async () => {
    const before = snapshot(sv.confDir);
    for (const [args, flag] of [
      [["alerts", "enable"], "--exec"],
      [["alerts", "enable", "--exec"], "--exec"],
      [["alerts", "enable", "--exec", "./relative.sh"], "--exec"],
      [["alerts", "enable", "--exec", "no-such-command-anywhere"], "--exec"],
      [["alerts", "enable", "--flap", "0/10", "--exec", "true"], "--flap"],
      [["alerts", "enable", "--flap", "5", "--exec", "true"], "--flap"],
      [["alerts", "enable", "--window", "1s", "--exec", "true"], "--window"],
      [["alerts", "enable", "--timeout", "2h", "--exec", "true"], "--timeout"],
      [["alerts", "enable", "--heal-delay", "5s", "--exec", "true"], "--heal-delay"],
      [["alerts", "enable", "--heal", "--heal-delay", "5m", "--heal-max-delay", "1m", "--exec", "true"], "--heal-max-delay"],
      [["alerts", "enable", "--log-lines", "500", "--exec", "true"], "--log-lines"],
    ] as const) {
      // --json first: after --exec, it would be CMD's.
      const r = await cli(["--json", ...args], sv.env);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.json.error.details?.flag, args.join(" ")).toBe(flag);
    }
    expect(snapshot(sv.confDir)).toEqual(before);
  });

  it("a CMD another user can change is refused (it would run as root), naming --exec", async () => {
    // Outside the prefix: a directory others can write there would (rightly) make install --prefix refuse it later.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vx-other-"));
    try {
      fs.chmodSync(dir, 0o777);
      const script = path.join(dir, "alert.sh");
      fs.writeFileSync(script, "#!/bin/sh\n", { mode: 0o755 });
      const r = await cli(["alerts", "enable", "--json", "--exec", script], sv.env);
      expect(r.code).toBe(2);
      expect(r.json.error.message).toMatch(/^--exec: .*writable by others/u);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("everything after --exec is CMD's, never vexo-sv's (--json and --config there are CMD's own)", async () => {
    const r = await cli(
      ["alerts", "enable", "--dry-run", "--json", "--exec", "/bin/sh", "-c", "curl --config /etc/x --json", "--config", "/nope"],
      sv.env,
    );
    expect(r.code, r.stdout).toBe(0);
    expect(r.json.settings.exec).toEqual(["/bin/sh", "-c", "curl --config /etc/x --json", "--config", "/nope"]);
    expect(r.json.dryRun).toBe(true);
    expect(r.json.plan.writes.map((w: { path: string }) => path.basename(w.path))).toEqual(["vexo-sv-alerts.json", "vexo-sv-alerts.conf"]);
    expect(r.json.plan.supervisorctl).toEqual([["supervisorctl", "-c", sv.config, "update", "vexo-sv-alerts"]]);
    expect(fs.existsSync(path.join(sv.confDir, "vexo-sv-alerts.conf"))).toBe(false);
  });

  it("a hand-written vexo-sv-alerts program is never overwritten", async () => {
    const file = path.join(sv.confDir, "vexo-sv-alerts.conf");
    fs.writeFileSync(file, "[program:vexo-sv-alerts]\ncommand=/bin/sleep 1000\n");
    try {
      const r = await cli(["alerts", "enable", "--json", "--exec", rec.exec], sv.env);
      expect(r.code).toBe(1);
      expect(r.json.error.code).toBe("not_managed");
      expect(fs.readFileSync(file, "utf8")).toBe("[program:vexo-sv-alerts]\ncommand=/bin/sleep 1000\n");
    } finally {
      fs.rmSync(file);
    }
  });
});

describe("alerts on a real supervisord", () => {
  let steady: number[];

  beforeAll(async () => {
    // A worker that runs throughout: no alert change may ever restart it.
    expect((await cli([...addArgs("steady"), "--json"], sv.env)).code).toBe(0);
    steady = await waitRunning(sv, "steady", 1);
    const r = await enable([]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toMatchObject({ action: "created", changed: true, listener: { state: "RUNNING" } });
    expect(fs.statSync(r.json.settingsFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(r.json.file).mode & 0o777).toBe(0o644);
  }, 120_000);

  it("a worker whose app exits at once: its FATAL reaches CMD once, with the log line; a second FATAL in the window is not sent", async () => {
    const app = shApp(sv, "dies", 'echo "dies: SQLSTATE[HY000] [2002] Connection refused"; exit 3');
    expect((await cli([...shAddArgs("dies", app, EXITS_AT_ONCE), "--json"], sv.env)).code).toBe(0);
    const [fatal] = await waitFor(
      async () => alertsOf(rec.dir, "fatal", "dies").at(0) && alertsOf(rec.dir, "fatal", "dies"),
      120,
      "the fatal alert",
    );
    expect(fatal?.doc).toMatchObject({
      event: "fatal",
      worker: "dies",
      process: "dies:dies_00",
      managed: true,
      state: "FATAL",
      reason: "FATAL: Exited too quickly (process log may have details)",
      exit: { status: 3, signal: null, expected: false, reason: "crashed" },
      suppressed: 0,
      log: { file: path.join(sv.logDir, "dies_00.log") },
    });
    expect(fatal?.doc.log.lines.at(-1)).toBe("dies: SQLSTATE[HY000] [2002] Connection refused");
    expect(fatal?.env).toEqual(expect.arrayContaining(["VEXO_SV_EVENT=fatal", "VEXO_SV_WORKER=dies", "VEXO_SV_PROCESS=dies:dies_00"]));
    // Started again by hand, FATAL again inside the window: decided against, and not sent.
    await ctl("start", "dies:*");
    await waitLog(sv, /fatal alert for dies:dies_00 held back/u);
    expect(alertsOf(rec.dir, "fatal", "dies")).toHaveLength(1);
    expect((await cli(["worker", "rm", "dies", "--json"], sv.env)).code).toBe(0);
  }, 240_000);

  it("a worker exiting every second: one flapping alert", async () => {
    const app = shApp(sv, "flaps", 'echo "flaps: up"; sleep 1.2; echo "flaps: memory exhausted"; exit 12');
    expect((await cli([...shAddArgs("flaps", app), "--json"], sv.env)).code).toBe(0);
    const [flap] = await waitFor(
      async () => alertsOf(rec.dir, "flapping", "flaps").at(0) && alertsOf(rec.dir, "flapping", "flaps"),
      120,
      "flapping",
    );
    expect(flap?.doc).toMatchObject({ event: "flapping", worker: "flaps", exits: { count: 6, windowMinutes: 10 } });
    expect(flap?.doc.exit).toMatchObject({ status: 12, reason: "memory" });
    // It goes on exiting: the next decision is logged as held back, the later ones counted; none is sent.
    await waitLog(sv, /flapping alert for flaps:flaps_00 held back/u);
    // Four more runs (each one's start follows the exit before it): a second alert would have been sent by then.
    const starts = () => (fs.readFileSync(path.join(sv.logDir, "flaps_00.log"), "utf8").match(/flaps: up/gu) ?? []).length;
    await waitFor(async () => starts() >= 10, 120, "four more runs");
    expect(alertsOf(rec.dir, "flapping", "flaps")).toHaveLength(1);
    expect(listenerLogText(sv).match(/alert flapping flaps:flaps_00\n/gu)).toHaveLength(1);
    expect((await cli(["worker", "rm", "flaps", "--json"], sv.env)).code).toBe(0);
  }, 240_000);

  it("no worker command takes the listener for a worker", async () => {
    const ls = await cli(["worker", "ls", "--json"], sv.env);
    expect(ls.json.workers.map((w: { name: string }) => w.name)).not.toContain("vexo-sv-alerts");
    const status = await cli(["status", "--json"], sv.env);
    expect(status.json.workers.map((w: { name: string }) => w.name)).not.toContain("vexo-sv-alerts");
    for (const args of [
      ["worker", "rm", "vexo-sv-alerts"],
      addArgs("vexo-sv-alerts"),
      ["worker", "stop", "vexo-sv-alerts"],
      ["logs", "vexo-sv-alerts"],
    ]) {
      const r = await cli([...args, "--json"], sv.env);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.json.error.message).toMatch(/reserved: it is vexo-sv's alerts listener/u);
    }
    const pid = await listenerPid();
    expect((await cli(["worker", "stop", "--all", "--json"], sv.env)).json.workers).not.toContain("vexo-sv-alerts");
    expect((await cli(["worker", "start", "--all", "--json"], sv.env)).code).toBe(0);
    const pruned = await apply(sv, workersFile(sv, [], "none.json"), ["--prune"]);
    expect(pruned.code, pruned.stdout).toBe(0);
    expect(pruned.json.workers.map((w: { name: string }) => w.name)).toEqual(["steady"]);
    expect(await listenerPid()).toBe(pid);
    expect(fs.existsSync(path.join(sv.confDir, "vexo-sv-alerts.conf"))).toBe(true);
    // Nor does install --prefix take the listener's file (with vexo-sv's marker) for a forged worker file.
    const again = await cli(["install", "--prefix", sv.dir, "--json"]);
    expect([again.code, again.json.changed], again.stdout + again.stderr).toEqual([0, false]);
    // Put back for the tests after this one.
    expect((await cli([...addArgs("steady"), "--json"], sv.env)).code).toBe(0);
    steady = await waitRunning(sv, "steady", 1);
  }, 240_000);

  it("CMD that fails, hangs past its timeout or prints megabytes: the listener carries on and the next alert arrives", async () => {
    const before = await listenerPid();
    const changed = await enable(["--timeout", "3s"]);
    expect(changed.json).toMatchObject({ action: "replaced", settings: { timeoutSeconds: 3 } });
    // A new revision restarted the listener, and nothing else.
    expect(await listenerPid()).not.toBe(before);
    expect((await groupInfo(sv.dir, "steady")).map((p) => p.pid)).toEqual(steady);
    const pid = await listenerPid();
    const app = shApp(sv, "cmd-app", 'echo "cmd-app: exits"; exit 1');
    for (const name of ["cmd-fails", "cmd-hangs", "cmd-spams"])
      expect((await cli([...shAddArgs(name, app, EXITS_AT_ONCE), "--json"], sv.env)).code).toBe(0);
    await waitLog(sv, /alert fatal cmd-fails:cmd-fails_00: command exited 1 in \d+ ms; output \(19 bytes\): "failing on purpose\\n"/u);
    await waitLog(sv, /alert fatal cmd-hangs:cmd-hangs_00: command killed after its timeout/u);
    await waitLog(sv, /alert fatal cmd-spams:cmd-spams_00: command exited 0 in \d+ ms; output \(5000000 bytes\): "xxx/u);
    expect((await cli([...shAddArgs("after", app, EXITS_AT_ONCE), "--json"], sv.env)).code).toBe(0);
    await waitFor(async () => alertsOf(rec.dir, "fatal", "after").length === 1, 120, "the next alert");
    expect(await listenerPid()).toBe(pid);
    protocolKept();
    for (const name of ["cmd-fails", "cmd-hangs", "cmd-spams", "after"]) await cli(["worker", "rm", name, "--json"], sv.env);
  }, 300_000);

  it("a program name and a log line full of shell metacharacters reach CMD as data only", async () => {
    expect((await enable(["--all-programs"])).json.action).toBe("replaced");
    const name = "x$(touch${IFS}pwned-by-name)`touch${IFS}pwned2`;|&<>'\"!*?";
    const line = "log $(touch /tmp/vx-pwned-by-log) `touch /tmp/vx-pwned2`; rm -rf /nothing | & > < ' \" \\ %s %(x)s";
    const script = path.join(sv.dir, "evil.sh");
    fs.writeFileSync(script, `printf '%s\\n' '${line.replaceAll("'", "'\\''")}'\nexit 3\n`, { mode: 0o755 });
    fs.writeFileSync(
      path.join(sv.confDir, "evil.conf"),
      `[program:${name}]\ncommand=/bin/sh ${script}\nstartsecs=3\nstdout_logfile=${sv.logDir}/evil.log\n`,
    );
    expect((await ctl("update", name)).stdout).toContain("added process group");
    const [alert] = await waitFor(async () => alertsOf(rec.dir, "fatal", name).at(0) && alertsOf(rec.dir, "fatal", name), 120, "the alert");
    expect(alert?.doc).toMatchObject({ worker: name, process: name, managed: false });
    expect(alert?.doc.log.lines).toContain(line);
    expect(alert?.doc.summary).toContain(name);
    // Not a plain word: in no environment variable.
    expect(alert?.env.filter((e) => /^VEXO_SV_(WORKER|PROCESS)=/u.test(e))).toEqual([]);
    for (const f of ["/pwned-by-name", "/pwned2", "/tmp/vx-pwned-by-log", "/tmp/vx-pwned2"]) expect(fs.existsSync(f), f).toBe(false);
    await ctl("stop", name);
    fs.rmSync(path.join(sv.confDir, "evil.conf"));
    await ctl("update", name);
  }, 240_000);

  it("the README's Slack recipe posts {text: summary} to the webhook, its URL read from a root-only file", async () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const recipe = /vexo-sv alerts enable --heal --exec sh -c \\\n {2}'([^'\n]+)'/u.exec(readme)?.[1] ?? "";
    expect(recipe).toContain("-K /etc/vexo-sv-slack.curl");
    const posts: string[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        posts.push(`${req.method} ${req.url} ${req.headers["content-type"]} ${body}`);
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const conf = path.join(sv.dir, "slack.curl");
      fs.writeFileSync(conf, `url = "http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXX"\n`, {
        mode: 0o600,
      });
      const on = await cli(
        ["alerts", "enable", "--all-programs", "--json", "--exec", "sh", "-c", recipe.replace("/etc/vexo-sv-slack.curl", conf)],
        sv.env,
      );
      expect(on.code, on.stdout).toBe(0);
      const test = await cli(["alerts", "test", "--json"], sv.env);
      expect(test.code, test.stdout).toBe(0);
      expect(posts).toHaveLength(1);
      expect(posts[0]).toMatch(
        /^POST \/services\/T000\/B000\/XXXX application\/json \{"text":".+: a test alert from vexo-sv: the alert command works"\}\n$/u,
      );
    } finally {
      server.close();
      expect((await enable(["--all-programs"])).code).toBe(0);
    }
  }, 120_000);

  it("status, test, then disable: the listener and its settings gone, no other program touched", async () => {
    const st = await cli(["alerts", "status", "--json"], sv.env);
    expect(st.json).toMatchObject({ enabled: true, upToDate: true, listener: { state: "RUNNING" }, settings: { allPrograms: true } });
    expect(st.json.recent.length).toBeGreaterThan(0);
    const count = recorded(rec.dir).length;
    const test = await cli(["alerts", "test", "--json"], sv.env);
    expect(test.code, test.stdout).toBe(0);
    expect(recorded(rec.dir).at(-1)?.doc).toMatchObject({ event: "test", worker: null });
    expect(recorded(rec.dir)).toHaveLength(count + 1);
    const dis = await cli(["alerts", "disable", "--json"], sv.env);
    expect(dis.json).toMatchObject({ changed: true, action: "removed", listener: null });
    expect(fs.existsSync(dis.json.file)).toBe(false);
    expect(fs.existsSync(dis.json.settingsFile)).toBe(false);
    expect((await processInfo(sv.dir)).map((p) => p.group)).not.toContain("vexo-sv-alerts");
    expect((await groupInfo(sv.dir, "steady")).map((p) => p.pid)).toEqual(steady);
    expect((await cli(["alerts", "disable", "--json"], sv.env)).json).toMatchObject({ changed: false, action: "unchanged" });
    expect((await cli(["alerts", "status", "--json"], sv.env)).json).toMatchObject({ enabled: false, listener: null });
    const failed = await cli(["alerts", "test", "--json"], sv.env);
    expect([failed.code, failed.json.error.code]).toEqual([1, "not_found"]);
    protocolKept();
  }, 120_000);
});
