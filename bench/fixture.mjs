// The benches' private supervisord: set up with `vexo-sv install --prefix` in a temp dir, and
// grown to N stand-in workers (a "php" that execs sleep, the cheapest process there is), each
// written from the file `worker add --dry-run` would write, then loaded with one bare `update`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const root = path.resolve(import.meta.dirname, "..");
export const bin = path.join(root, "bin/vexo-sv.cjs");

const sh = (cmd, args, env = {}) => spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 28 });

/** A private supervisord under a fresh /tmp/PREFIX-XXXXXX, for workers of `procs` processes each. */
export function benchSupervisor(prefix, procs) {
  const dir = fs.mkdtempSync(`/tmp/${prefix}-`);
  const app = path.join(dir, "app");
  const fakePhp = path.join(dir, "fake-php");
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, "artisan"), "<?php\n");
  fs.writeFileSync(fakePhp, "#!/bin/sh\nexec sleep 2147483647\n", { mode: 0o755 });
  const inst = JSON.parse(sh("node", [bin, "install", "--prefix", path.join(dir, "sv"), "--json"]).stdout);
  const env = { VEXO_SV_CONFIG: inst.config };
  const spec = ["--path", app, "--php", fakePhp, "--procs", String(procs), "--user", "root", "--allow-root"];
  const template = JSON.parse(sh("node", [bin, "worker", "add", "--name", "w-template", ...spec, "--dry-run", "--json"], env).stdout).plan
    .writes[0].content;
  const fileOf = (name) => path.join(inst.confDir, `${name}.conf`);
  const writeWorker = (name) => fs.writeFileSync(fileOf(name), template.replaceAll("w-template", name));
  let count = 0;
  return {
    dir,
    app,
    fakePhp,
    config: inst.config,
    /** Where the workers' stdout logs go. */
    logDir: inst.logDir,
    env,
    /** The flags `worker add` takes for one more such worker. */
    spec,
    fileOf,
    writeWorker,
    /** Adds workers w0000... until there are n, and waits until all their processes run. */
    growTo(n) {
      while (count < n) writeWorker(`w${String(count++).padStart(4, "0")}`);
      sh("supervisorctl", ["-c", inst.config, "update"]); // the bench's own supervisord: a bare update loads them all at once
      while ((sh("supervisorctl", ["-c", inst.config, "status"]).stdout.match(/ RUNNING /gu) ?? []).length < n * procs) {
        spawnSync("sleep", ["0.5"]);
      }
    },
    stop() {
      sh("node", [bin, "shutdown", "--json"], env);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
