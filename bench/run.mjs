// `npm run bench`: vexo-sv against the work it wraps, on a private supervisord with many
// workers. Prints medians of several repetitions side by side and their ratios; asserts nothing.
// Usage: npm run bench [-- REPS]   (after npm run build; npm run bench builds first)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const bin = path.join(root, "bin/vexo-sv.js");
const reps = Number(process.argv[2] ?? 7);
const dir = fs.mkdtempSync("/tmp/vxb-");
const app = path.join(dir, "app");
const fakePhp = path.join(dir, "fake-php");
fs.mkdirSync(app);
fs.writeFileSync(path.join(app, "artisan"), "<?php\n");
// The cheapest stand-in worker: a process that sleeps.
fs.writeFileSync(fakePhp, "#!/bin/sh\nexec sleep 2147483647\n", { mode: 0o755 });

function run(cmd, args, env = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !(cmd === "supervisorctl" && r.status === 3)) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stdout}${r.stderr}`);
  }
  return { ms, stdout: r.stdout };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function timeIt(fn) {
  fn(); // warm the page cache
  return median(Array.from({ length: reps }, () => fn()));
}
const vexo = (...args) => run("node", [bin, ...args], { VEXO_SV_CONFIG: config });
const ctl = (...args) => run("supervisorctl", ["-c", config, ...args]);

const inst = JSON.parse(run("node", [bin, "install", "--prefix", path.join(dir, "sv"), "--json"]).stdout);
const config = inst.config;
const template = JSON.parse(
  vexo("worker", "add", "--name", "w-template", "--path", app, "--php", fakePhp, "--procs", "2", "--user", "root", "--dry-run", "--json")
    .stdout,
).plan.writes[0].content;
const fileOf = (name) => path.join(inst.confDir, `${name}.conf`);
const writeWorker = (name) => fs.writeFileSync(fileOf(name), template.replaceAll("w-template", name));

let count = 0;
function growTo(n) {
  while (count < n) writeWorker(`w${String(count++).padStart(4, "0")}`);
  ctl("update"); // the bench's own supervisord: a bare update loads them all at once
  for (;;) {
    const out = ctl("status").stdout;
    const running = out.split("\n").filter((l) => / RUNNING /u.test(l)).length;
    if (running >= n * 2) break;
    spawnSync("sleep", ["0.5"]);
  }
}

const rows = [];
const row = (what, a, b, target) => rows.push({ what, a, b, ratio: b / a, target });

growTo(100);
const ls100 = timeIt(() => vexo("worker", "ls", "--json").ms);
const st100 = timeIt(() => ctl("status").ms);

growTo(200);
row(
  "node -e 0 | vexo-sv --version",
  timeIt(() => run("node", ["-e", "0"]).ms),
  timeIt(() => vexo("--version").ms),
  1.3,
);
row(
  "supervisorctl status | vexo-sv worker ls --json (200 workers)",
  timeIt(() => ctl("status").ms),
  timeIt(() => vexo("worker", "ls", "--json").ms),
  1.4,
);
let k = 0;
const ctlAdd = timeIt(() => {
  const name = `ctl-${k++}`;
  writeWorker(name);
  const { ms } = ctl("update", name);
  fs.rmSync(fileOf(name));
  ctl("update", name);
  return ms;
});
const vexoAdd = timeIt(() => {
  const name = `vx-${k++}`;
  const { ms } = vexo(
    "worker",
    "add",
    "--name",
    name,
    "--path",
    app,
    "--php",
    fakePhp,
    "--procs",
    "2",
    "--user",
    "root",
    "--no-wait",
    "--json",
  );
  vexo("worker", "rm", name, "--json");
  return ms;
});
row("supervisorctl update NAME | vexo-sv worker add --no-wait (one more)", ctlAdd, vexoAdd, 1.4);

growTo(1000);
const ls1000 = timeIt(() => vexo("worker", "ls", "--json").ms);
const st1000 = timeIt(() => ctl("status").ms);
row("worker ls --json: 100 | 1000 workers", ls100, ls1000, null);
row("supervisorctl status: 100 | 1000 workers", st100, st1000, null);

console.log(`vexo-sv bench: median of ${reps} runs, ms (${new Date().toISOString()}, node ${process.version})`);
const w = Math.max(...rows.map((r) => r.what.length));
for (const r of rows) {
  const t = r.target ? `target <= ${r.target}x${r.ratio <= r.target ? "" : "  MISSED"}` : "";
  console.log(`${r.what.padEnd(w)}  ${r.a.toFixed(1).padStart(8)}  ${r.b.toFixed(1).padStart(8)}  ${r.ratio.toFixed(2)}x  ${t}`);
}
console.log(
  `worker ls: 10x the workers costs ${(ls1000 / ls100).toFixed(2)}x the time; supervisorctl status itself ${(st1000 / st100).toFixed(2)}x`,
);
vexo("shutdown", "--json");
fs.rmSync(dir, { recursive: true, force: true });
