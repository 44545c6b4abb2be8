// `npm run bench`: vexo-sv against the work it wraps, on a private supervisord with many
// workers. Prints medians of several repetitions side by side and their ratios; asserts nothing.
// Usage: npm run bench [-- REPS]   (after npm run build; npm run bench builds first)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { benchSupervisor, bin, root } from "./fixture.mjs";

const reps = Number(process.argv[2] ?? 11);
const fx = benchSupervisor("vxb", 2);
// Stopped however the bench ends, a failed run included (fx.stop is synchronous).
process.once("exit", () => fx.stop());
const { config, fileOf, writeWorker, growTo } = fx;

function run(cmd, args, env = {}) {
  const full = { ...process.env, ...env };
  for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: full, encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !(cmd === "supervisorctl" && r.status === 3)) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stdout}${r.stderr}`);
  }
  return { ms, stdout: r.stdout, stderr: r.stderr };
}
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const median = (xs) => quantile(xs, 0.5);
/**
 * Two commands run in ABBA order (a b, b a, a b, ...) after one warm-up each, so neither side
 * always goes first: their medians, and the median and quartiles of the ratios b/a of each
 * adjacent pair (this machine's load comes in bursts, and two runs next to each other share them).
 */
function pair(fa, fb) {
  fa();
  fb();
  const a = [];
  const b = [];
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) {
      a.push(fa());
      b.push(fb());
    } else {
      b.push(fb());
      a.push(fa());
    }
  }
  const ratios = a.map((x, i) => b[i] / x);
  return [median(a), median(b), median(ratios), quantile(ratios, 0.25), quantile(ratios, 0.75)];
}
const vexoWith =
  (env) =>
  (...args) =>
    run("node", [bin, ...args], { VEXO_SV_CONFIG: config, ...env });
// This kind of machine sets NODE_EXTRA_CA_CERTS, which makes every Node start read and parse
// ~140 certificates before any JavaScript runs (about 35 ms here); a server does not. Targets are
// judged without it (as on a server); a row with it is printed for information.
const caCerts = process.env.NODE_EXTRA_CA_CERTS;
const vexo = vexoWith({ NODE_EXTRA_CA_CERTS: undefined });
const vexoWithCa = vexoWith({});
const nodeNoCa = () => run("node", ["-e", "0"], { NODE_EXTRA_CA_CERTS: undefined }).ms;
const ctl = (...args) => run("supervisorctl", ["-c", config, ...args]);

const rows = [];
const row = (what, a, b, target) => rows.push({ what, a, b, ratio: b / a, target });
/** A row from pair(): judged on the paired ratio. */
const pairRow = (what, [a, b, ratio, q1, q3], target) => rows.push({ what, a, b, ratio, q1, q3, target });

growTo(100);
/** Median CPU time of vexo-sv's own process (children excluded) over the runs. */
function ownCpu(...args) {
  // One warm-up run (page cache, supervisord's first answer), left out.
  run("node", [bin, ...args], { VEXO_SV_CONFIG: config, NODE_EXTRA_CA_CERTS: undefined });
  const xs = Array.from({ length: reps }, () => {
    const { stderr } = run("node", ["--import", path.join(root, "bench/cpu-hook.mjs"), bin, ...args], {
      VEXO_SV_CONFIG: config,
      NODE_EXTRA_CA_CERTS: undefined,
    });
    return Number(/vexo-sv-cpu-ms ([\d.]+)/u.exec(stderr)?.[1]);
  });
  return median(xs);
}

const [st100, ls100] = pair(
  () => ctl("status").ms,
  () => vexo("worker", "ls", "--json").ms,
);
const cpu100 = ownCpu("worker", "ls", "--json");

growTo(200);
pairRow(
  "node -e 0 | vexo-sv --version",
  pair(nodeNoCa, () => vexo("--version").ms),
  1.3,
);
pairRow(
  "supervisorctl status | vexo-sv worker ls --json (200 workers)",
  pair(
    () => ctl("status").ms,
    () => vexo("worker", "ls", "--json").ms,
  ),
  1.4,
);
// The floor under these targets, on this machine at this moment: an ESM program that does
// nothing but run one supervisorctl call, once through node:child_process, once through execa
// bundled and minified as scripts/build.mjs bundles vexo-sv. What vexo-sv costs above the execa
// floor is its own; the rest is Node's start and exit, and loading execa (docs/performance.md,
// "The floor under the targets").
const floorOf = async (name, contents) => {
  const outfile = path.join(fx.dir, `${name}.mjs`);
  await build({
    stdin: { contents, resolveDir: root },
    bundle: true,
    minify: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    logLevel: "warning",
    // As scripts/build.mjs does: bundled CommonJS (cross-spawn) calls require().
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return (...args) => run("node", [outfile, "-c", config, ...args], { NODE_EXTRA_CA_CERTS: undefined }).ms;
};
const floorSpawn = await floorOf(
  "floor-spawn",
  `import { spawnSync } from "node:child_process"; spawnSync("supervisorctl", process.argv.slice(2), { stdio: "ignore" });`,
);
const floorExeca = await floorOf(
  "floor-execa",
  `import { execa } from "execa"; await execa("supervisorctl", process.argv.slice(2), { reject: false });`,
);
if (caCerts) {
  pairRow(
    "  the same with this machine's NODE_EXTRA_CA_CERTS (for information)",
    pair(
      () => ctl("status").ms,
      () => vexoWithCa("worker", "ls", "--json").ms,
    ),
    null,
  );
}
pairRow(
  "  floor: node spawning supervisorctl status, nothing else (for information)",
  pair(
    () => ctl("status").ms,
    () => floorSpawn("status"),
  ),
  null,
);
pairRow(
  "  floor: the same through execa (for information)",
  pair(
    () => ctl("status").ms,
    () => floorExeca("status"),
  ),
  null,
);
pairRow(
  "floor through execa | vexo-sv worker ls --json (200 workers): what vexo-sv adds",
  pair(
    () => floorExeca("status"),
    () => vexo("worker", "ls", "--json").ms,
  ),
  1.1,
);
pairRow(
  "vexo-sv worker ls --json | status --format prometheus (200 workers)",
  pair(
    () => vexo("worker", "ls", "--json").ms,
    () => vexo("status", "--format", "prometheus").ms,
  ),
  1.2,
);
let k = 0;
/** `supervisorctl update NAME` of one more worker, through `update` (a function that runs it and returns its ms). */
const addThrough = (update) => () => {
  const name = `ctl-${k++}`;
  writeWorker(name);
  const ms = update(name);
  fs.rmSync(fileOf(name));
  ctl("update", name);
  return ms;
};
const ctlAdd = addThrough((name) => ctl("update", name).ms);
const vexoAdd = () => {
  const name = `vx-${k++}`;
  const { ms } = vexo("worker", "add", "--name", name, ...fx.spec, "--no-wait", "--json");
  vexo("worker", "rm", name, "--json");
  return ms;
};
pairRow("supervisorctl update NAME | vexo-sv worker add --no-wait (one more)", pair(ctlAdd, vexoAdd), 1.4);
pairRow(
  "  floor: node running supervisorctl update NAME through execa (for information)",
  pair(
    ctlAdd,
    addThrough((name) => floorExeca("update", name)),
  ),
  null,
);

growTo(1000);
const [st1000, ls1000] = pair(
  () => ctl("status").ms,
  () => vexo("worker", "ls", "--json").ms,
);
const cpu1000 = ownCpu("worker", "ls", "--json");
pairRow(
  "floor through execa | vexo-sv worker ls --json (1,000 workers)",
  pair(
    () => floorExeca("status"),
    () => vexo("worker", "ls", "--json").ms,
  ),
  1.1,
);
// One worker's log among a thousand, with 1,000 lines in it (appended as supervisord appends).
fs.appendFileSync(
  path.join(fx.logDir, "w0500_00.log"),
  Array.from({ length: 1000 }, (_, i) => `[2026-12-07 03:00:00] Processing job ${i}\n`).join(""),
);
pairRow(
  "supervisorctl tail w0500:w0500_00 | vexo-sv logs w0500 -n 100 (1,000 workers)",
  pair(
    () => ctl("tail", "w0500:w0500_00").ms,
    () => vexo("logs", "w0500", "-n", "100").ms,
  ),
  1.0,
);
row("worker ls --json: 100 | 1000 workers", ls100, ls1000, null);
row("supervisorctl status: 100 | 1000 workers", st100, st1000, null);
row("  vexo-sv's own CPU time (its process alone): 100 | 1000 workers", cpu100, cpu1000, null);

console.log(
  `vexo-sv bench: medians of ${reps} runs each, the two sides in ABBA order; ratio: median [quartiles] of the paired ratios; ms; vexo-sv runs without NODE_EXTRA_CA_CERTS unless a row says otherwise (${new Date().toISOString()}, node ${process.version})`,
);
const w = Math.max(...rows.map((r) => r.what.length));
for (const r of rows) {
  // Met when even the upper quartile of the paired ratios is within the target; missed when even the lower one is not.
  const verdict =
    r.q3 === undefined ? "" : r.q3 <= r.target ? "met" : r.q1 > r.target ? "MISSED" : "unclear (the target lies within the spread)";
  const t = r.target ? `target <= ${r.target}x: ${verdict}` : "";
  const spread = r.q1 === undefined ? "" : ` [${r.q1.toFixed(2)}-${r.q3.toFixed(2)}]`;
  console.log(`${r.what.padEnd(w)}  ${r.a.toFixed(1).padStart(8)}  ${r.b.toFixed(1).padStart(8)}  ${r.ratio.toFixed(2)}x${spread}  ${t}`);
}
console.log(
  `worker ls: 10x the workers costs ${(ls1000 / ls100).toFixed(2)}x the time (supervisorctl status itself ${(st1000 / st100).toFixed(2)}x); vexo-sv's own CPU ${(cpu1000 / cpu100).toFixed(2)}x`,
);
