import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, type ExpectStatic, it } from "vitest";
import { addArgs, cli, ROOT, waitFor } from "../helpers/cli.js";

// Issue 14: vexo-sv beside the Supervisor setups people already have. Each configuration of
// tests/fixtures/real-configs (real files from Laravel's docs, Sail, Laradock, Supervisor's own
// samples and fixtures, Ansible and puppet output, RHEL and Debian layouts: see its README) runs
// on a private supervisord; vexo-sv's view must equal supervisord's own (`avail`, `status`), and
// nothing vexo-sv does may touch a program it did not write.

const CORPUS = path.join(ROOT, "tests/fixtures/real-configs");
const fixtures = fs.readdirSync(CORPUS).filter((d) => fs.statSync(path.join(CORPUS, d)).isDirectory());

interface Running {
  dir: string;
  config: string;
  env: Record<string, string>;
}

/** The fixture copied to a short temp dir (socket paths max 107 bytes) and its supervisord started. */
async function boot(name: string): Promise<Running> {
  const dir = fs.mkdtempSync("/tmp/rc-");
  fs.cpSync(path.join(CORPUS, name), dir, { recursive: true });
  fs.mkdirSync(path.join(dir, "logs"), { recursive: true });
  const env: Record<string, string> = {};
  const envFile = path.join(dir, "fixture.env");
  if (fs.existsSync(envFile)) {
    for (const line of fs.readFileSync(envFile, "utf8").split("\n")) {
      const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/u.exec(line);
      if (m) env[m[1] as string] = (m[2] as string).replaceAll("$DIR", dir);
    }
  }
  const config = path.join(dir, "supervisord.conf");
  const sv = { dir, config, env: { ...env, VEXO_SV_CONFIG: config } };
  const r = await execa("supervisord", ["-c", config], { reject: false, env: { ...process.env, ...env }, all: true });
  if (r.exitCode !== 0) throw new Error(`supervisord did not start for ${name}: ${String(r.all)}`);
  await waitFor(
    async () => /^\d+$/u.test((await ctl(sv, ["pid"])).trim()) && !/ STARTING /u.test(await ctl(sv, ["status"])),
    60,
    `${name} up and settled`,
  );
  return sv;
}

async function shutdown(sv: Running): Promise<void> {
  await execa("supervisorctl", ["-c", sv.config, "shutdown"], { reject: false });
  const pidfile = path.join(sv.dir, "supervisord.pid");
  await waitFor(async () => !fs.existsSync(pidfile), 60, "supervisord gone").catch(() => undefined);
  fs.rmSync(sv.dir, { recursive: true, force: true });
}

async function ctl(sv: Running, args: string[]): Promise<string> {
  return String((await execa("supervisorctl", ["-c", sv.config, ...args], { reject: false })).stdout);
}

/** supervisord's own view: every process (avail) with its state and pid (status). */
async function supervisordView(sv: Running): Promise<Map<string, { state: string; pid: number | null }>> {
  const avail = (await ctl(sv, ["avail"]))
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(/\s+/u)[0] as string);
  const view = new Map(avail.map((n) => [n, { state: "?", pid: null as number | null }]));
  for (const l of (await ctl(sv, ["status"])).split("\n").filter(Boolean)) {
    const [n, state] = l.split(/\s+/u) as [string, string];
    view.set(n, { state, pid: Number(/pid (\d+)/u.exec(l)?.[1] ?? "") || null });
  }
  return view;
}

/** Every process vexo-sv shows, with the worker it shows it under. */
function vexoView(workers: { name: string; processes: { fullName: string; state: string; pid: number | null }[] }[]) {
  return new Map(workers.flatMap((w) => w.processes.map((p) => [p.fullName, { worker: w.name, state: p.state, pid: p.pid }] as const)));
}

// Each configuration has its own supervisord and directory, so they run side by side.
describe.concurrent("real configurations", () => {
  it.for(fixtures)(
    "%s: ls and status show what supervisord runs, once each; logs and every mutation leave hand-written programs alone",
    { timeout: 300_000 },
    async (name, { expect }) => {
      const sv = await boot(name);
      try {
        await checkConfiguration(sv, expect);
      } finally {
        await shutdown(sv);
      }
    },
  );
});

async function checkConfiguration(sv: Running, expect: ExpectStatic): Promise<void> {
  const before = await supervisordView(sv);
  const ls = await cli(["worker", "ls", "--json"], sv.env);
  expect(ls.code, ls.stdout).toBe(0);
  const names: string[] = ls.json.workers.map((w: { name: string }) => w.name);
  expect(new Set(names).size, "each program listed once").toBe(names.length);
  const shown = vexoView(ls.json.workers);
  expect([...shown.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [proc, s] of before) expect({ state: shown.get(proc)?.state, pid: shown.get(proc)?.pid }, proc).toEqual(s);
  // The process count of each program is supervisord's.
  for (const w of ls.json.workers) expect(w.total, w.name).toBe(w.processes.length);
  const status = await cli(["status", "--json"], sv.env);
  expect([...vexoView(status.json.workers).keys()].sort()).toEqual([...before.keys()].sort());

  for (const w of names) {
    const logs = await cli(["logs", w, "-n", "2", "--json"], sv.env);
    expect([0, 1], `${w}: ${logs.stdout}`).toContain(logs.code);
    if (logs.code === 1) expect(logs.json.error.code, w).toBe("not_found");
  }

  // Every name supervisord knows is refused by add and rm, and changes nothing.
  for (const w of names.filter((n) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/u.test(n))) {
    for (const args of [addArgs(w, ["--no-wait"]), [...addArgs(w, ["--no-wait"]), "--replace"], ["worker", "rm", w]]) {
      const r = await cli([...args, "--json"], sv.env);
      expect(r.code, `${args.join(" ")}: ${r.stdout}`).toBe(1);
      expect(["name_taken", "not_managed"], `${args.join(" ")}`).toContain(r.json.error.code);
    }
  }

  // A worker of our own beside them: added, restarted with --all, removed.
  const add = await cli([...addArgs("vx-corpus"), "--json"], sv.env);
  if (add.code !== 0) {
    // Only a config with no program directory may refuse it.
    expect(add.json.error.code, add.stdout).toBe("config_not_found");
  } else {
    expect((await cli(["worker", "restart", "--all", "--json"], sv.env)).json.workers).toEqual(["vx-corpus"]);
    expect((await cli(["worker", "rm", "vx-corpus", "--json"], sv.env)).code).toBe(0);
  }
  const after = await supervisordView(sv);
  for (const [proc, s] of before) expect(after.get(proc), `${proc} kept its pid through every vexo-sv command`).toEqual(s);
}
