// `vexo-sv logs NAME -f` on a busy log for a long time: its RSS after the first 10 s and at the
// end, the lines it passed on against the lines written, and whether it warned (a listener
// leak shows as MaxListenersExceededWarning on stderr). The log is rotated every minute, as
// supervisord's own rotation does (rename, then a new file). Prints figures; asserts nothing.
// Run: npm run build && node bench/logs-follow-rss.mjs [minutes, default 10] [lines per second, default 2000]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const bin = path.join(root, "bin/vexo-sv.cjs");
const minutes = Number(process.argv[2] ?? 10);
const perSecond = Number(process.argv[3] ?? 2000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vexo-follow-"));

// `logs` only reads the config (no supervisord needed): one program whose stdout is our file.
fs.mkdirSync(path.join(dir, "conf.d"));
fs.writeFileSync(path.join(dir, "supervisord.conf"), `[supervisord]\nchildlogdir=${dir}\n[include]\nfiles = conf.d/*.conf\n`);
fs.writeFileSync(path.join(dir, "conf.d", "busy.conf"), `[program:busy]\ncommand=/bin/true\nstdout_logfile=${dir}/busy.log\n`);
const log = path.join(dir, "busy.log");
fs.writeFileSync(log, "");

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/u.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
const child = spawn("node", [bin, "--config", path.join(dir, "supervisord.conf"), "logs", "busy", "-f", "-n", "1", "--json"], {
  stdio: ["ignore", "pipe", "pipe"],
  env: { ...process.env, NODE_EXTRA_CA_CERTS: "" },
});
let received = 0;
let seen = 0;
let stderr = "";
let partial = "";
child.stdout.on("data", (d) => {
  const text = partial + d.toString("utf8");
  const lines = text.split("\n");
  partial = lines.pop() ?? "";
  seen += lines.length;
  received += lines.filter((l) => l.includes("Processing job")).length;
});
child.stderr.on("data", (d) => (stderr += d.toString("utf8")));

// Count from the moment the follow is under way: it starts at the end of the file (like
// tail -f), so lines written while node starts are not its to show.
while (seen === 0) {
  fs.appendFileSync(log, "ready\n");
  await new Promise((r) => setTimeout(r, 100));
}
let written = 0;
const tick = 100; // ms
const perTick = Math.max(1, Math.round((perSecond * tick) / 1000));
const writer = setInterval(() => {
  let chunk = "";
  for (let i = 0; i < perTick; i++) chunk += `${new Date().toISOString()} [busy] Processing job ${++written} ........ DONE\n`;
  fs.appendFileSync(log, chunk);
}, tick);
const rotator = setInterval(() => {
  fs.renameSync(log, `${log}.1`);
  fs.writeFileSync(log, "");
}, 60_000);

const start = await new Promise((r) => setTimeout(() => r(rssKb(child.pid)), 10_000));
console.log(`following a log written at ${perSecond} lines/s for ${minutes} min; RSS after 10 s: ${(start / 1024).toFixed(1)} MiB`);
const samples = [];
const sampler = setInterval(() => samples.push(rssKb(child.pid)), 30_000);
await new Promise((r) => setTimeout(r, minutes * 60_000));
const end = rssKb(child.pid);
clearInterval(writer);
clearInterval(rotator);
clearInterval(sampler);
// Let it pass on what is left before counting.
await new Promise((r) => setTimeout(r, 3000));
child.kill("SIGINT");
const code = await new Promise((r) => child.on("exit", (c) => r(c)));
console.log(
  `RSS at the end: ${(end / 1024).toFixed(1)} MiB (${(end / start).toFixed(2)}x the start); peak sample ${(Math.max(...samples, end) / 1024).toFixed(1)} MiB`,
);
console.log(`RSS every 30 s (MiB): ${samples.map((kb) => (kb / 1024).toFixed(1)).join(" ")}`);
console.log(`lines written ${written}, passed on ${received}`);
console.log(`exit ${code} on SIGINT; stderr: ${stderr.trim() === "" ? "(nothing: no listener warning)" : stderr.trim().slice(0, 400)}`);
fs.rmSync(dir, { recursive: true, force: true });
