// Issue 28: fifty workers at once. On a private supervisord with 50 one-process workers (a
// stand-in "php" that execs sleep, which exits at once on SIGTERM), each batch command against
// its baseline, one run each, and their ratio. Prints; asserts nothing.
// Usage: npm run build && env -u NODE_EXTRA_CA_CERTS node bench/batch.mjs [N]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { benchSupervisor, bin } from "./fixture.mjs";

const N = Number(process.argv[2] ?? 50);
const fx = benchSupervisor("vxbatch", 1);
process.once("exit", () => fx.stop());
const names = Array.from({ length: N }, (_, i) => `b${String(i).padStart(4, "0")}`);

/** Runs a command; its wall time in ms. Exit 0 (or 3 for supervisorctl status) is required. */
function timed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...fx.env }, encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return ms;
}
const vexo = (...args) => timed("node", [bin, ...args]);
const ctl = (...args) => timed("supervisorctl", ["-c", fx.config, ...args]);

/** Waits until `n` processes run (the bench's own supervisord). */
function waitRunning(n) {
  for (let i = 0; i < 600; i++) {
    const out = spawnSync("supervisorctl", ["-c", fx.config, "status"], { encoding: "utf8" }).stdout;
    if ((out.match(/ RUNNING /gu) ?? []).length >= n) return;
    spawnSync("sleep", ["0.2"]);
  }
  throw new Error(`${n} processes never ran`);
}

// A workers file of N workers; `sleep` is the field a "changed" run changes.
const fileOf = (sleep, list = names) => {
  const file = path.join(fx.dir, `workers-${sleep}-${list.length}.json`);
  const workers = list.map((name) => ({ name, path: fx.app, php: fx.fakePhp, procs: 1, user: "root", sleep }));
  fs.writeFileSync(file, JSON.stringify({ workers }), { mode: 0o644 });
  return file;
};
const apply = (file, ...extra) => vexo("apply", file, "--allow-root", "--json", ...extra);
/** The program files `apply FILE` would write, written by hand (for the supervisorctl baselines). */
function writePlanned(file) {
  const r = spawnSync("node", [bin, "apply", file, "--allow-root", "--dry-run", "--json"], {
    env: { ...process.env, ...fx.env },
    encoding: "utf8",
  });
  for (const w of JSON.parse(r.stdout).plan.writes) fs.writeFileSync(w.path, w.content);
}
/** Removes every worker the bench made, untimed (files and groups). */
function clear() {
  for (const n of names) fs.rmSync(path.join(path.dirname(fx.fileOf("x")), `${n}.conf`), { force: true });
  spawnSync("supervisorctl", ["-c", fx.config, "update"]);
}

const rows = [];
const row = (what, ms, baseline, baseMs, target) => rows.push({ what, ms, baseline, baseMs, ratio: ms / baseMs, target });

// 1. N new: one `supervisorctl update` naming all N (the files written by hand), against apply.
writePlanned(fileOf(3));
const t0 = process.hrtime.bigint();
const update = ctl("update", ...names);
// What a script does after it: ask until every process runs (past startsecs, 1 s).
waitRunning(N);
const updateAndWait = Number(process.hrtime.bigint() - t0) / 1e6;
clear();
const applyNewNoWait = apply(fileOf(3), "--no-wait");
waitRunning(N);
clear();
const applyNew = apply(fileOf(3));
row(`apply of ${N} new (--no-wait)`, applyNewNoWait, `supervisorctl update naming all ${N}`, update, 2);
row(`apply of ${N} new (waits for health)`, applyNew, `supervisorctl update naming all ${N}`, update, 2);
row(`apply of ${N} new (waits for health)`, applyNew, `the same update, then status until all run`, updateAndWait, 2);

// 2. N changed: the same update naming all N changed files, against apply of N changed.
writePlanned(fileOf(4));
const updateChanged = ctl("update", ...names);
waitRunning(N);
const applyChanged = apply(fileOf(5));
row(`apply of ${N} changed`, applyChanged, `supervisorctl update naming all ${N} changed`, updateChanged, 1.2);

// 3. Control: the same command on one worker, then on all N.
for (const action of ["restart", "pause", "resume"]) {
  const one = vexo("worker", action, names[0], "--json");
  const all = vexo("worker", action, "--all", "--json");
  row(`worker ${action} --all`, all, `worker ${action} ${names[0]}`, one, 6);
}

// 4. rm: one worker, then the other N-1 named at once (the first put back untimed between).
const rmOne = vexo("worker", "rm", names[0], "--json");
const rmAll = vexo("worker", "rm", ...names.slice(1), "--json");
row(`worker rm of ${N - 1} names`, rmAll, `worker rm ${names[0]}`, rmOne, 6);

const pad = (s, n) => String(s).padEnd(n);
console.log(`${N} one-process workers, one run each (NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? "set" : "unset"})`);
for (const r of rows) {
  const ok = r.ratio <= r.target ? "ok" : "MISSED";
  console.log(
    `${pad(r.what, 38)} ${pad(`${(r.ms / 1000).toFixed(2)} s`, 9)} vs ${pad(r.baseline, 42)} ${pad(`${(r.baseMs / 1000).toFixed(2)} s`, 9)} ratio ${r.ratio.toFixed(2)} (target ${r.target}x: ${ok})`,
  );
}
