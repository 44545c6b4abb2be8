// `node bench/profile-ls.mjs [N...]`: where `worker ls --json` spends its own CPU, from V8 CPU
// profiles (node --cpu-prof), at N workers on a private supervisord (default 200 and 1000).
// Prints self time per function, summed over 5 runs, top 15, and the share spent idle (waiting
// for supervisorctl). Asserts nothing. Run without NODE_EXTRA_CA_CERTS to see a server's figures.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const bin = path.join(root, "bin/vexo-sv.js");
const sizes = process.argv.slice(2).map(Number);
const dir = fs.mkdtempSync("/tmp/vxp-");
const app = path.join(dir, "app");
const fakePhp = path.join(dir, "fake-php");
fs.mkdirSync(app);
fs.writeFileSync(path.join(app, "artisan"), "<?php\n");
fs.writeFileSync(fakePhp, "#!/bin/sh\nexec sleep 2147483647\n", { mode: 0o755 });
const sh = (cmd, args, env = {}) => spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
const inst = JSON.parse(sh("node", [bin, "install", "--prefix", path.join(dir, "sv"), "--json"]).stdout);
const env = { VEXO_SV_CONFIG: inst.config };
const template = JSON.parse(
  sh(
    "node",
    [bin, "worker", "add", "--name", "w-t", "--path", app, "--php", fakePhp, "--user", "root", "--allow-root", "--dry-run", "--json"],
    env,
  ).stdout,
).plan.writes[0].content;

let count = 0;
function growTo(n) {
  while (count < n) {
    const name = `w${String(count++).padStart(4, "0")}`;
    fs.writeFileSync(path.join(inst.confDir, `${name}.conf`), template.replaceAll("w-t", name));
  }
  sh("supervisorctl", ["-c", inst.config, "update"]);
  while ((sh("supervisorctl", ["-c", inst.config, "status"]).stdout.match(/ RUNNING /gu) ?? []).length < n) spawnSync("sleep", ["0.5"]);
}

function profile(n) {
  growTo(n);
  const out = fs.mkdtempSync(path.join(dir, "prof-"));
  for (let i = 0; i < 6; i++) sh("node", ["--cpu-prof", `--cpu-prof-dir=${out}`, bin, "worker", "ls", "--json"], env);
  const self = new Map();
  let total = 0;
  // The first run warms the page cache and is left out.
  for (const f of fs.readdirSync(out).sort().slice(1)) {
    const p = JSON.parse(fs.readFileSync(path.join(out, f), "utf8"));
    const byId = new Map(p.nodes.map((node) => [node.id, node]));
    p.samples.forEach((id, i) => {
      const node = byId.get(id);
      const cf = node.callFrame;
      const where = cf.url ? `${cf.functionName || "(anonymous)"} ${path.basename(cf.url)}:${cf.lineNumber + 1}` : cf.functionName;
      const us = p.timeDeltas[i] ?? 0;
      self.set(where, (self.get(where) ?? 0) + us);
      total += us;
    });
  }
  const idle = self.get("(idle)") ?? 0;
  console.log(
    `\nworker ls --json at ${n} workers: ${(total / 5 / 1000).toFixed(1)} ms profiled a run, ${((idle / total) * 100).toFixed(0)}% idle (waiting for supervisorctl)`,
  );
  for (const [where, us] of [...self]
    .filter(([w]) => w !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)) {
    console.log(`  ${(us / 5 / 1000).toFixed(1).padStart(7)} ms  ${((us / (total - idle)) * 100).toFixed(1).padStart(5)}%  ${where}`);
  }
}

try {
  for (const n of sizes.length ? sizes : [200, 1000]) profile(n);
} finally {
  sh("node", [bin, "shutdown", "--json"], env);
  fs.rmSync(dir, { recursive: true, force: true });
}
