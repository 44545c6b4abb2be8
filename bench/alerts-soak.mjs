// The alerts listener under a crash-looping program for several minutes: its RSS after the first
// 30 s, every 30 s and at the end, the events it answered (from its own tick
// lines), the rate, whether supervisord's event buffer overflowed (events dropped because the
// listener fell behind) and whether supervisord had to restart it. Prints figures; asserts nothing.
// Run: npm run build && node bench/alerts-soak.mjs [minutes, default 5] [processes, default 10]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const bin = path.join(root, "bin/vexo-sv.cjs");
const minutes = Number(process.argv[2] ?? 5);
const procs = Number(process.argv[3] ?? 10);
const dir = fs.mkdtempSync("/tmp/vxsoak-");
const sh = (cmd, args, env = {}) => spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
const sleep = (s) => spawnSync("sleep", [String(s)]);

const inst = JSON.parse(sh("node", [bin, "install", "--prefix", path.join(dir, "sv"), "--json"]).stdout);
const env = { VEXO_SV_CONFIG: inst.config };
const cleanup = () => {
  sh("node", [bin, "shutdown", "--json"], env);
  fs.rmSync(dir, { recursive: true, force: true });
};
process.once("exit", cleanup);

// The alert command: counts its runs, nothing more.
const counter = path.join(dir, "alerts");
const cmd = path.join(dir, "count-alert.sh");
fs.writeFileSync(cmd, `#!/bin/sh\ncat > /dev/null\necho x >> ${counter}\n`, { mode: 0o755 });
const enabled = sh("node", [bin, "alerts", "enable", "--all-programs", "--on-exit", "--heal", "--json", "--exec", cmd], env);
if (enabled.status !== 0) throw new Error(`alerts enable failed: ${enabled.stdout}${enabled.stderr}`);
const listenerPid = () =>
  Number(/vexo-sv-alerts\s+RUNNING\s+pid (\d+)/u.exec(sh("supervisorctl", ["-c", inst.config, "status"]).stdout)?.[1] ?? 0);
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/u.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

// The crash loop: N processes that run 0.1 s and exit 1, started again at once (startsecs=0:
// RUNNING at spawn, so each cycle is a RUNNING and an unexpected EXITED event).
fs.writeFileSync(
  path.join(inst.confDir, "crashloop.conf"),
  `[program:crashloop]\ncommand=/bin/sh -c "sleep 0.1; exit 1"\nprocess_name=%(program_name)s_%(process_num)02d\nnumprocs=${procs}\nstartsecs=0\nautorestart=true\nstdout_logfile=NONE\n`,
);
sh("supervisorctl", ["-c", inst.config, "update", "crashloop"]);

const pid = listenerPid();
const started = Date.now();
sleep(30);
const first = rssKb(pid);
const samples = [first];
const log = path.join(inst.logDir, "vexo-sv-alerts_00.log");
while (Date.now() - started < minutes * 60_000) {
  sleep(30);
  if (listenerPid() !== pid) break;
  samples.push(rssKb(pid));
}
const last = rssKb(pid);
const mib = (kb) => Math.round(kb / 102.4) / 10;
const ticks = fs
  .readFileSync(log, "utf8")
  .split("\n")
  .filter((l) => l.includes(" tick: "));
const answered = (l) => Number(/tick: (\d+) events/u.exec(l ?? "")?.[1] ?? 0);
const firstTick = ticks[0];
const lastTick = ticks.at(-1);
const span = (Date.parse(lastTick?.slice(0, 24) ?? "") - Date.parse(firstTick?.slice(0, 24) ?? "")) / 1000;
const svLog = fs.readFileSync(path.join(inst.logDir, "supervisord.log"), "utf8");
const figures = {
  minutes: Math.round((Date.now() - started) / 6000) / 10,
  crashingProcesses: procs,
  eventsAnswered: answered(lastTick),
  eventsPerSecond: span > 0 ? Math.round((answered(lastTick) - answered(firstTick)) / span) : null,
  rssAfter30sMiB: mib(first),
  rssEndMiB: mib(last),
  rssEvery30sMiB: samples.map(mib).join(" "),
  bufferOverflows: (svLog.match(/overflowed/gu) ?? []).length,
  listenerRestarted: listenerPid() !== pid,
  alertsSent: fs.existsSync(counter) ? fs.readFileSync(counter, "utf8").split("\n").filter(Boolean).length : 0,
  lastTick: lastTick?.slice(25),
};
process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
