import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runningPids } from "../helpers/apply.js";
import { ME, ROOT, SAMPLE_APP, startSupervisor, stopSupervisor, type Sv } from "../helpers/cli.js";
import { packTarball } from "../helpers/pack.js";

// docs/ansible run by Debian's ansible-core against three hosts on this machine: each a local
// connection with its own private supervisord, its own npm prefix (the role installs the packed
// tarball there) and its own application with releases/N and a `current` link.

const HOSTS = ["h1", "h2", "h3"] as const;
type Host = (typeof HOSTS)[number];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-ansible-"));
const svs = {} as Record<Host, Sv>;
let tarball = "";

const hostDir = (h: Host) => path.join(tmp, h);
const current = (h: Host) => path.join(hostDir(h), "current");
const workers = (h: Host, mailProcs = 1) => [
  { name: `${h}-mail`, path: current(h), user: ME, queue: "mail", procs: mailProcs },
  { name: `${h}-default`, path: current(h), user: ME },
];

/** The inventory: every host local, each with its own supervisord, prefix and workers. */
function inventory(overrides: Partial<Record<Host, Record<string, unknown>>> = {}): string {
  const hosts = Object.fromEntries(
    HOSTS.map((h) => [
      h,
      {
        ansible_connection: "local",
        ansible_python_interpreter: "/usr/bin/python3",
        // Already root here: no sudo (which a fresh machine may not have).
        ansible_become: false,
        vexo_sv_package: tarball,
        vexo_sv_npm_prefix: path.join(hostDir(h), "prefix"),
        vexo_sv_bin: path.join(hostDir(h), "prefix/bin/vexo-sv"),
        vexo_sv_install_supervisor: false,
        vexo_sv_config: svs[h].config,
        vexo_sv_workers_file: path.join(hostDir(h), "etc/workers.json"),
        vexo_sv_workers: workers(h),
        vexo_sv_allow_root: process.getuid?.() === 0,
        app_current: current(h),
        ...overrides[h],
      },
    ]),
  );
  const file = path.join(tmp, `inventory-${Math.random().toString(16).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify({ all: { hosts } }));
  return file;
}

/** What tests/fixtures/ansible/callback_plugins/events_json.py prints: each task result in order, and the recap. */
interface Run {
  events: { task: string; host: Host; status: string; changed: boolean; stdout: string; msg: string; start: number; end: number }[];
  stats: Record<Host, { changed: number; failures: number; unreachable: number }>;
}

async function playbook(book: string, inv: string): Promise<Run> {
  const r = await execa("ansible-playbook", ["-i", inv, path.join(ROOT, "docs/ansible", book)], {
    cwd: tmp,
    reject: false,
    env: {
      ANSIBLE_ROLES_PATH: path.join(ROOT, "docs/ansible/roles"),
      ANSIBLE_STDOUT_CALLBACK: "events_json",
      ANSIBLE_CALLBACK_PLUGINS: path.join(ROOT, "tests/fixtures/ansible/callback_plugins"),
      ANSIBLE_LOCAL_TEMP: path.join(tmp, ".ansible-local"),
      ANSIBLE_HOME: path.join(tmp, ".ansible"),
      ANSIBLE_NOCOLOR: "1",
      ANSIBLE_RETRY_FILES_ENABLED: "0",
      ANSIBLE_FORKS: "3",
    },
  });
  expect(r.exitCode, `${r.stdout.slice(-4000)}\n${r.stderr}`).toBe(0);
  return JSON.parse(String(r.stdout)) as Run;
}

const changedOn = (run: Run) => Object.fromEntries(HOSTS.map((h) => [h, run.stats[h].changed]));
/** The JSON vexo-sv printed for a host in the role's apply task. */
const applyDoc = (run: Run, h: Host) =>
  JSON.parse(run.events.find((e) => e.task.endsWith("Apply the workers file") && e.host === h)?.stdout ?? "{}");
const allPids = async () => Object.fromEntries(await Promise.all(HOSTS.map(async (h) => [h, await runningPids(svs[h])])));

beforeAll(async () => {
  for (const h of HOSTS) {
    for (const n of ["1", "2"]) fs.cpSync(SAMPLE_APP, path.join(hostDir(h), "releases", n), { recursive: true });
    fs.symlinkSync(path.join(hostDir(h), "releases/1"), current(h));
  }
  const [packed, ...started] = await Promise.all([packTarball(tmp), ...HOSTS.map(() => startSupervisor())]);
  tarball = packed.tarball;
  HOSTS.forEach((h, i) => {
    svs[h] = started[i] as Sv;
  });
}, 300_000);

afterAll(async () => {
  await Promise.all(HOSTS.map((h) => stopSupervisor(svs[h])));
  fs.rmSync(tmp, { recursive: true, force: true });
});

// One scenario, in the order a fleet lives it: each step starts from the state the last one left.
describe("the Ansible role and deploy playbook (docs/ansible)", () => {
  it("installs and creates, then changes nothing, then one worker on one host, then deploys host by host", async () => {
    // 1. The first run installs vexo-sv and creates every worker on every host.
    const run = await playbook("site.yml", inventory());
    for (const h of HOSTS) {
      expect(run.stats[h].failures).toBe(0);
      expect(applyDoc(run, h)).toMatchObject({ ok: true, changed: true });
      expect(applyDoc(run, h).workers.map((w: { action: string }) => w.action)).toEqual(["created", "created"]);
      expect(fs.existsSync(path.join(hostDir(h), "prefix/bin/vexo-sv"))).toBe(true);
    }
    let pids = await allPids();
    for (const h of HOSTS) expect(Object.keys(pids[h]).sort()).toEqual([`${h}-default:${h}-default_00`, `${h}-mail:${h}-mail_00`]);

    // 2. The second run reports changed=0 on every host and restarts nothing.
    const second = await playbook("site.yml", inventory());
    expect(changedOn(second)).toEqual({ h1: 0, h2: 0, h3: 0 });
    expect(await allPids()).toEqual(pids);

    // 3. A spec change for one host changes that one worker on that host only.
    const third = await playbook("site.yml", inventory({ h2: { vexo_sv_workers: workers("h2", 2) } }));
    expect(changedOn(third)).toMatchObject({ h1: 0, h3: 0 });
    expect(third.stats.h2.changed).toBeGreaterThan(0);
    expect(applyDoc(third, "h2").workers).toEqual([
      expect.objectContaining({ name: "h2-mail", action: "replaced", changes: [{ field: "procs", from: 1, to: 2 }] }),
      expect.objectContaining({ name: "h2-default", action: "unchanged" }),
    ]);
    const now = await allPids();
    expect(now.h1).toEqual(pids.h1);
    expect(now.h3).toEqual(pids.h3);
    expect(now.h2["h2-default:h2-default_00"]).toBe(pids.h2["h2-default:h2-default_00"]);
    expect(Object.keys(now.h2).filter((k) => k.startsWith("h2-mail:"))).toHaveLength(2);
    pids = now;

    // 4. The deploy playbook switches each host to the release and restarts it gracefully, one host after the other.
    const inv = inventory({
      ...Object.fromEntries(HOSTS.map((h) => [h, { release: path.join(hostDir(h), "releases/2") }])),
      h2: { vexo_sv_workers: workers("h2", 2), release: path.join(hostDir("h2"), "releases/2") },
    });
    const deploy = await playbook("deploy.yml", inv);
    // serial: 1 runs the play once per host, in inventory order, each batch after the last ended.
    const restarts = deploy.events.filter((e) => e.task.startsWith("Restart the workers"));
    expect(restarts.map((e) => [e.host, e.status])).toEqual([
      ["h1", "ok"],
      ["h2", "ok"],
      ["h3", "ok"],
    ]);
    // Each host's link switch comes after the previous host's restart ended.
    const switches = deploy.events.filter((e) => e.task === "Point current at the release");
    for (let i = 1; i < HOSTS.length; i++) expect(switches[i]?.start).toBeGreaterThanOrEqual(restarts[i - 1]?.end as number);
    const deployed = await allPids();
    for (const h of HOSTS) {
      expect(fs.readlinkSync(current(h))).toBe(path.join(hostDir(h), "releases/2"));
      expect(Object.keys(deployed[h]).sort()).toEqual(Object.keys(pids[h]).sort());
      for (const [proc, pid] of Object.entries(pids[h])) expect(deployed[h][proc], `${h} ${proc}`).not.toBe(pid);
    }
  }, 900_000);
});
