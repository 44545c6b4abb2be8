// Measures `vexo-sv logs NAME -n 100` on a 1 GiB log against a 1 KiB log: the median wall time
// of several runs each, their ratio, and each run's peak memory (VmHWM). Prints figures; asserts
// nothing. Run: npm run build && node bench/logs-size.mjs [runs]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const bin = path.join(root, "bin/vexo-sv.cjs");
const runs = Number(process.argv[2] ?? 11);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vexo-bench-"));

// A supervisord config is only read, never contacted, by `logs`: no supervisord needed.
fs.mkdirSync(path.join(dir, "conf.d"));
fs.writeFileSync(path.join(dir, "supervisord.conf"), `[supervisord]\nchildlogdir=${dir}\n[include]\nfiles = conf.d/*.conf\n`);
for (const name of ["small", "big"]) {
  fs.writeFileSync(path.join(dir, "conf.d", `${name}.conf`), `[program:${name}]\ncommand=/bin/true\nstdout_logfile=${dir}/${name}.log\n`);
}
const line = "2026-11-24 10:00:00 [worker] Processing: App\\Jobs\\SendInvoice ........ 12ms DONE\n";
fs.writeFileSync(path.join(dir, "small.log"), line.repeat(Math.ceil(1024 / line.length)));
const bigFd = fs.openSync(path.join(dir, "big.log"), "w");
const block = Buffer.from(line.repeat(Math.ceil((8 << 20) / line.length)));
for (let written = 0; written < 1 << 30; written += block.length) fs.writeSync(bigFd, block);
fs.closeSync(bigFd);

function once(name) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn("node", [bin, "--config", path.join(dir, "supervisord.conf"), "logs", name, "-n", "100", "--json"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/u.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {}
    }, 2);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code) => {
      clearInterval(poll);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0 || JSON.parse(out).lines.length === 0) reject(new Error(`bad run: ${code} ${out.slice(0, 200)}`));
      else resolve({ ms, peakKb });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const res = { small: [], big: [] };
for (const n of ["small", "big"]) await once(n); // warm-up
// Alternating, so that each pair of runs shares the machine's load; the time ratio is the
// median of the paired ratios.
for (let i = 0; i < runs; i++) for (const n of ["small", "big"]) res[n].push(await once(n));
const m = (n, k) => median(res[n].map((r) => r[k]));
const timeRatio = median(res.big.map((r, i) => r.ms / res.small[i].ms));
console.log(`vexo-sv logs NAME -n 100, ${runs} runs each, alternating (medians)`);
console.log(`  1 KiB log: ${m("small", "ms").toFixed(1)} ms, peak RSS ${m("small", "peakKb")} KiB`);
console.log(`  1 GiB log: ${m("big", "ms").toFixed(1)} ms, peak RSS ${m("big", "peakKb")} KiB`);
console.log(`  ratio time 1GiB/1KiB: ${timeRatio.toFixed(3)}x (target <= 1.1x${timeRatio <= 1.1 ? "" : "  MISSED"})`);
console.log(`  ratio peak memory:    ${(m("big", "peakKb") / m("small", "peakKb")).toFixed(3)}x`);
fs.rmSync(dir, { recursive: true, force: true });
