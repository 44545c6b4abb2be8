// How fast the alerts listener answers events, with supervisord taken out of the loop: this script
// plays supervisord's part of the protocol through a pipe (an event, then wait for RESULT and
// READY, the next event), as fast as the listener answers, for a few seconds. Every event is an
// unexpected exit of a watched program, so each one goes through the whole path (the engine, the
// window, the dispatcher). Prints round trips per second; asserts nothing.
// Run: npm run build && node bench/alerts-rate.mjs [seconds, default 10]
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const bin = path.join(root, "bin/vexo-sv.cjs");
const seconds = Number(process.argv[2] ?? 10);
const dir = fs.mkdtempSync("/tmp/vxrate-");
const sh = (args, env = {}) => spawnSync("node", [bin, ...args], { encoding: "utf8", env: { ...process.env, ...env } });

const inst = JSON.parse(sh(["install", "--prefix", path.join(dir, "sv"), "--json"]).stdout);
const env = { VEXO_SV_CONFIG: inst.config };
process.once("exit", () => {
  sh(["shutdown", "--json"], env);
  fs.rmSync(dir, { recursive: true, force: true });
});
const cmd = path.join(dir, "alert.sh");
fs.writeFileSync(cmd, "#!/bin/sh\ncat > /dev/null\n", { mode: 0o755 });
sh(["alerts", "enable", "--all-programs", "--on-exit", "--json", "--exec", cmd], env);
fs.writeFileSync(path.join(inst.confDir, "crash.conf"), "[program:crash]\ncommand=/bin/false\nautostart=false\n");

const listener = spawn("node", [bin, "alerts", "listen", "--config", inst.config, "--conf-dir", inst.confDir, "--revision", "bench"], {
  stdio: ["pipe", "pipe", "ignore"],
});
const ACK = "RESULT 2\nOKREADY\n";
let pending = "";
let n = 0;
let started = 0;
const send = () => {
  const payload = `processname:crash groupname:crash from_state:RUNNING expected:0 pid:${n}`;
  listener.stdin.write(
    `ver:3.0 server:supervisor serial:${n} pool:vexo-sv-alerts poolserial:${n} eventname:PROCESS_STATE_EXITED len:${payload.length}\n${payload}`,
  );
};
listener.stdout.on("data", (d) => {
  pending += d.toString();
  if (started === 0 && pending.startsWith("READY\n")) {
    pending = pending.slice(6);
    started = Date.now();
    return send();
  }
  while (pending.startsWith(ACK)) {
    pending = pending.slice(ACK.length);
    n++;
    if (Date.now() - started < seconds * 1000) send();
    else {
      const s = (Date.now() - started) / 1000;
      process.stdout.write(`${JSON.stringify({ seconds: s, events: n, roundTripsPerSecond: Math.round(n / s) })}\n`);
      listener.stdin.end();
      return;
    }
  }
  if (pending.length > 0 && !ACK.startsWith(pending)) throw new Error(`not the protocol: ${JSON.stringify(pending)}`);
});
