// `node bench/profile-ls.mjs [N...]`: where `worker ls --json` spends its own CPU, from V8 CPU
// profiles (node --cpu-prof), at N workers on a private supervisord (default 200 and 1000).
// Prints self time per function, summed over 5 runs, top 15, and the share spent idle (waiting
// for supervisorctl). Asserts nothing. Run without NODE_EXTRA_CA_CERTS to see a server's figures.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { benchSupervisor, bin } from "./fixture.mjs";

const sizes = process.argv.slice(2).map(Number);
const fx = benchSupervisor("vxp", 1);
const { dir, env, growTo } = fx;
const sh = (cmd, args, extra = {}) => spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...extra }, maxBuffer: 1 << 28 });

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
  fx.stop();
}
