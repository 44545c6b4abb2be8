import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addArgs, cli, freePort, waitFor } from "../helpers/cli.js";

// Issue 26, "No answer is not an answer": a Laravel Octane image's supervisord config, modelled on
// exaco/laravel-octane-dockerfile (deployment/octane/Swoole/supervisord.swoole.conf, started with
// `supervisord -c` on it, and the deployment/supervisord.conf it includes as /etc/supervisord.conf).
// The programs are in the main file; [supervisorctl] and [inet_http_server] are only in the file it
// includes. supervisord runs everything, but supervisorctl 4.2.5 reads [supervisorctl] only from the
// file it is given, so `supervisorctl -c MAIN` cannot ask it (this file shows that first). vexo-sv
// reads the merged configuration and asks supervisord where that says it listens.
//
// Changed for a test: paths under a private temp directory, programs that sleep, a free port on
// 127.0.0.1, and (in the first setup) a username and a password; a conf.d/ included beside it for
// vexo-sv's workers. The image's horizon and scheduler are programs of their own as there.

const SECRET = `oct-${crypto.randomBytes(6).toString("hex")}`;
/** As written in the config: supervisord and supervisorctl read `%%` as `%`. */
const WRITTEN_PASSWORD = `${SECRET}%%pw`;

const program = (name: string, priority: number) => `[program:${name}]
process_name = %(program_name)s_%(process_num)s
command = sleep 100000
user = root
priority = ${priority}
autostart = true
autorestart = true
stopasgroup = true
killasgroup = true
stdout_logfile = %(here)s/logs/${name}.log
stdout_logfile_maxbytes = 200MB
stderr_logfile = %(here)s/logs/${name}.log
stderr_logfile_maxbytes = 200MB
`;

const SUPERVISORD = `[supervisord]
nodaemon = false
logfile = %(here)s/logs/supervisord.log
pidfile = %(here)s/supervisord.pid
childlogdir = %(here)s/logs
`;

/** The main config: the image's programs, then the include (the image's `files = /etc/supervisord.conf`). */
function mainConfig(withSupervisord: boolean, include: string): string {
  return `${withSupervisord ? SUPERVISORD : ""}
${program("octane", 1)}
environment = LARAVEL_OCTANE = "1"

${program("horizon", 3)}
stopwaitsecs = 3600

${program("scheduler", 4)}
[include]
files = ${include}
`;
}

const RPC = `[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
`;

interface Booted {
  dir: string;
  main: string;
  port: number;
  /** How the test itself asks supervisord: a config of its own that names the server (and the password). */
  testCtl: string;
  env: Record<string, string>;
}

/** Writes the files, starts supervisord on the main config and waits until the programs run. */
async function boot(files: (dir: string, port: number) => Record<string, string>, testCtl: (port: number) => string): Promise<Booted> {
  const dir = fs.mkdtempSync("/tmp/oc-");
  const port = await freePort();
  for (const [name, text] of Object.entries(files(dir, port))) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  fs.mkdirSync(path.join(dir, "logs"), { recursive: true });
  fs.mkdirSync(path.join(dir, "conf.d"), { recursive: true });
  fs.writeFileSync(path.join(dir, "test-ctl.conf"), testCtl(port), { mode: 0o600 });
  const main = path.join(dir, "supervisord.swoole.conf");
  const b: Booted = { dir, main, port, testCtl: path.join(dir, "test-ctl.conf"), env: { VEXO_SV_CONFIG: main } };
  const r = await execa("supervisord", ["-c", main], { reject: false, all: true, cwd: dir });
  if (r.exitCode !== 0) throw new Error(`supervisord did not start: ${String(r.all)}`);
  await waitFor(
    async () => {
      const s = await supervisordView(b);
      return s.size === 3 && [...s.values()].every((p) => p.state === "RUNNING");
    },
    60,
    "octane, horizon and scheduler running",
  );
  return b;
}

async function shutdown(b: Booted | undefined): Promise<void> {
  if (!b) return;
  const pid = supervisordPid(b);
  await execa("supervisorctl", ["-c", b.testCtl, "shutdown"], { reject: false });
  await waitFor(async () => pid === null || !alive(pid), 60, "supervisord gone").catch(() => undefined);
  fs.rmSync(b.dir, { recursive: true, force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function supervisordPid(b: Booted): number | null {
  for (const f of [path.join(b.dir, "supervisord.pid"), path.join(b.dir, "etc/supervisord.pid")]) {
    if (fs.existsSync(f)) return Number(fs.readFileSync(f, "utf8").trim());
  }
  return null;
}

async function ctl(b: Booted, args: string[]): Promise<string> {
  return String((await execa("supervisorctl", ["-c", b.testCtl, ...args], { reject: false })).stdout);
}

/** supervisord's own view, asked by the test through its own config: each process's state and pid. */
async function supervisordView(b: Booted): Promise<Map<string, { state: string; pid: number | null }>> {
  const out = new Map<string, { state: string; pid: number | null }>();
  for (const l of (await ctl(b, ["status"])).split("\n")) {
    const m = /^(\S+)\s+([A-Z]+)\b(.*)$/u.exec(l);
    if (m && m[2] !== "ERROR")
      out.set(m[1] as string, { state: m[2] as string, pid: Number(/pid (\d+)/u.exec(m[3] as string)?.[1] ?? "") || null });
  }
  return out;
}

/** Every process `worker ls --json` or `status --json` shows, with its state and pid. */
function vexoView(workers: { processes: { fullName: string; state: string; pid: number | null }[] }[]) {
  return new Map(workers.flatMap((w) => w.processes.map((p) => [p.fullName, { state: p.state, pid: p.pid }] as const)));
}

/** What vexo-sv runs as supervisorctl, MAIN's refusal shown by the real one. */
async function mainRefused(b: Booted): Promise<void> {
  const r = await execa("supervisorctl", ["-c", b.main, "status"], { reject: false, all: true });
  expect(r.exitCode).toBe(2);
  expect(String(r.all)).toContain("Error: .ini file does not include supervisorctl section");
}

interface Recorded {
  argv: string[];
  env: string;
  config?: { path: string; mode: string; dirMode: string; text: string };
}

/** A `supervisorctl` first on PATH that records each call (argv, environment, the config it is given), then runs the real one. */
function recordingPath(dir: string): { env: Record<string, string>; calls: () => Recorded[] } {
  const bin = fs.mkdtempSync(path.join(dir, "bin-"));
  const log = fs.mkdtempSync(path.join(dir, "calls-"));
  fs.writeFileSync(
    path.join(bin, "supervisorctl"),
    `#!/bin/sh
d=$(mktemp -d ${log}/call-XXXXXX)
printf '%s\\n' "$@" > "$d/argv"
env > "$d/env"
if [ "$1" = "-c" ] && [ -f "$2" ]; then
  printf '%s' "$2" > "$d/config-path"
  stat -c '%a %u' "$2" > "$d/config-mode"
  stat -c '%a %u' "$(dirname "$2")" > "$d/dir-mode"
  cat "$2" > "$d/config"
fi
exec /usr/bin/supervisorctl "$@"
`,
    { mode: 0o755 },
  );
  const read = (d: string, f: string) => fs.readFileSync(path.join(log, d, f), "utf8");
  return {
    env: { PATH: `${bin}:${process.env.PATH}` },
    calls: () =>
      fs.readdirSync(log).map((d) => ({
        argv: read(d, "argv").split("\n").slice(0, -1),
        env: read(d, "env"),
        ...(fs.existsSync(path.join(log, d, "config"))
          ? {
              config: {
                path: read(d, "config-path"),
                mode: read(d, "config-mode").trim(),
                dirMode: read(d, "dir-mode").trim(),
                text: read(d, "config"),
              },
            }
          : {}),
      })),
  };
}

describe("an Octane image's config: [supervisorctl] and [inet_http_server] only in the file the main config includes", () => {
  let b: Booted;
  const url = () => `http://127.0.0.1:${b.port}`;

  beforeAll(async () => {
    b = await boot(
      (dir, port) => ({
        "supervisord.swoole.conf": mainConfig(true, `${dir}/etc/supervisord.conf ${dir}/conf.d/*.conf`),
        "etc/supervisord.conf": `[supervisorctl]
serverurl = http://127.0.0.1:${port}
username = octane
password = ${WRITTEN_PASSWORD}

[inet_http_server]
port = 127.0.0.1:${port}
username = octane
password = ${WRITTEN_PASSWORD}

${RPC}`,
      }),
      (port) => `[supervisorctl]\nserverurl = http://127.0.0.1:${port}\nusername = octane\npassword = ${WRITTEN_PASSWORD}\n`,
    );
  });
  afterAll(() => shutdown(b));

  it("supervisorctl -c MAIN fails, yet worker ls --json lists the programs with supervisord's own states and pids; the password is never in argv or the environment, and its private config is gone", async () => {
    // What vexo-sv must get past: supervisorctl given the main config cannot ask supervisord at all.
    await mainRefused(b);
    const rec = recordingPath(b.dir);
    const r = await cli(["worker", "ls", "--json"], { ...b.env, ...rec.env });
    expect(r.code, r.stdout).toBe(0);
    expect(r.json.reachable).toBe(true);
    expect(r.json.warnings).toEqual([]);
    const truth = await supervisordView(b);
    expect(vexoView(r.json.workers)).toEqual(truth);
    for (const w of r.json.workers) expect(w.state, w.name).toBe("running");

    const sent = rec.calls().filter((c) => c.argv.includes("-s"));
    expect(sent.length).toBeGreaterThan(0);
    for (const c of sent) {
      expect(c.argv).toEqual(["-c", c.config?.path, "-s", url(), "-u", "octane", "status"]);
      expect(c.config?.path).toMatch(/^\/tmp\/vexo-sv-ctl-[^/]+\/supervisorctl\.conf$/u);
      expect(c.config?.mode).toBe(`600 ${process.geteuid?.()}`);
      expect(c.config?.dirMode).toBe(`700 ${process.geteuid?.()}`);
      expect(c.config?.text).toBe(`[supervisorctl]\npassword = ${WRITTEN_PASSWORD}\n`);
      expect(fs.existsSync(c.config?.path as string), "removed after the call").toBe(false);
      expect(fs.existsSync(path.dirname(c.config?.path as string))).toBe(false);
    }
    for (const c of rec.calls()) {
      expect(c.argv.join(" ")).not.toContain(SECRET);
      expect(c.env).not.toContain(SECRET);
    }
    expect(r.stdout).not.toContain(SECRET);
  });

  it("status and status --check are right: supervisord's pid and version, every state; a stopped worker fails the check", async () => {
    const ok = await cli(["status", "--check", "--json"], b.env);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.json).toMatchObject({ healthy: true, problems: [], supervisord: { running: true, pid: supervisordPid(b) } });
    expect(ok.json.supervisord.version).toMatch(/^4\./u);
    expect(vexoView(ok.json.workers)).toEqual(await supervisordView(b));

    // The check judges vexo-sv's workers: one added, then stopped and started through vexo-sv.
    expect((await cli([...addArgs("vx-check"), "--json"], b.env)).code).toBe(0);
    try {
      expect((await cli(["status", "--check"], b.env)).code).toBe(0);
      const stop = await cli(["worker", "stop", "vx-check", "--json"], b.env);
      expect(stop.code, stop.stdout).toBe(0);
      expect((await supervisordView(b)).get("vx-check:vx-check_00")?.state).toBe("STOPPED");
      const bad = await cli(["status", "--check"], b.env);
      expect(bad.code, bad.stdout + bad.stderr).toBe(3);
      expect(bad.stdout.trim().split("\n")).toEqual([expect.stringMatching(/^vx-check:vx-check_00: STOPPED/u)]);
      const start = await cli(["worker", "start", "vx-check", "--json"], b.env);
      expect(start.code, start.stdout).toBe(0);
      expect((await cli(["status", "--check"], b.env)).code).toBe(0);
    } finally {
      expect((await cli(["worker", "rm", "vx-check", "--json"], b.env)).code).toBe(0);
    }
  });

  it("worker add puts a vexo-sv worker into the conf.d it includes, supervisord runs it, and worker rm takes it away", async () => {
    const before = await supervisordView(b);
    const add = await cli([...addArgs("vx-octane"), "--json"], b.env);
    expect(add.code, add.stdout).toBe(0);
    expect(add.stdout).not.toContain(SECRET);
    expect(fs.existsSync(path.join(b.dir, "conf.d/vx-octane.conf"))).toBe(true);
    expect((await supervisordView(b)).get("vx-octane:vx-octane_00")?.state).toBe("RUNNING");
    const ls = await cli(["worker", "ls", "--json"], b.env);
    expect(ls.json.workers.find((w: { name: string }) => w.name === "vx-octane")).toMatchObject({ managed: true, state: "running" });

    const rm = await cli(["worker", "rm", "vx-octane", "--json"], b.env);
    expect(rm.code, rm.stdout).toBe(0);
    expect((await supervisordView(b)).has("vx-octane:vx-octane_00")).toBe(false);
    // The image's own programs kept running throughout, with the same pids.
    expect(await supervisordView(b)).toEqual(before);
  });

  it("when supervisorctl still cannot ask (a wrong password): its reason and the config, never a list of states", async () => {
    // The same setup read through another main config, whose include has the wrong password.
    fs.writeFileSync(path.join(b.dir, "etc/wrong.conf"), `[supervisorctl]\nserverurl = ${url()}\nusername = octane\npassword = wrong\n`);
    const wrong = path.join(b.dir, "wrong.conf");
    fs.writeFileSync(wrong, mainConfig(true, `${b.dir}/etc/wrong.conf ${b.dir}/conf.d/*.conf`));
    const env = { VEXO_SV_CONFIG: wrong };
    const ls = await cli(["worker", "ls", "--json"], env);
    expect(ls.code).toBe(1);
    expect(ls.json.ok).toBe(false);
    expect(ls.json.error.code).toBe("supervisorctl_failed");
    expect(ls.json.error.message).toContain("401 Unauthorized");
    expect(ls.json.error.message).toContain(wrong);
    expect(ls.json.error.message).toContain(url());
    expect(ls.json.workers).toBeUndefined();
    const check = await cli(["status", "--check"], env);
    expect(check.code).toBe(1);
    expect(check.stdout).toBe("");
    expect(check.stderr).toContain("401 Unauthorized");
  });
});

describe("exaco's image as it is: an empty [supervisorctl] beside [inet_http_server] and [supervisord] in the included file", () => {
  let b: Booted;

  beforeAll(async () => {
    b = await boot(
      (dir, port) => ({
        "supervisord.swoole.conf": mainConfig(false, `${dir}/etc/supervisord.conf`),
        // supervisorctl given this file would try its default, localhost:9001: not where supervisord listens.
        "etc/supervisord.conf": `${SUPERVISORD.replaceAll("%(here)s/logs", "%(here)s/../logs")}
[supervisorctl]

[inet_http_server]
port = 127.0.0.1:${port}

${RPC}`,
      }),
      (port) => `[supervisorctl]\nserverurl = http://127.0.0.1:${port}\n`,
    );
  });
  afterAll(() => shutdown(b));

  it("worker ls and status --check ask supervisord where [inet_http_server] listens", async () => {
    await mainRefused(b);
    const ls = await cli(["worker", "ls", "--json"], b.env);
    expect(ls.code, ls.stdout).toBe(0);
    expect(vexoView(ls.json.workers)).toEqual(await supervisordView(b));
    const check = await cli(["status", "--check", "--json"], b.env);
    expect(check.code, check.stdout).toBe(0);
    expect(check.json).toMatchObject({ healthy: true, supervisord: { running: true } });
  });
});
