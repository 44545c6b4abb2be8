import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { invalid, VexoError } from "../errors.js";
import { ensureDir, readIfExists, removeFile, writeAtomic } from "./fsutil.js";
import { type Layout, resolveLayout } from "./layout.js";
import { escapePercent } from "./render.js";
import { unsafeReason } from "./values.js";
import { ctl, faultReason, probe, runCtl } from "./supervisorctl.js";
import { supervisordPid } from "./system.js";
import type { PrefixInstallResult, ShutdownResult } from "./results.js";

/** Where a private supervisord keeps its pieces, all under one directory. */
export function prefixPaths(dir: string) {
  return {
    dir,
    config: path.join(dir, "supervisord.conf"),
    confDir: path.join(dir, "conf.d"),
    logDir: path.join(dir, "logs"),
    socket: path.join(dir, "supervisor.sock"),
    pidfile: path.join(dir, "supervisord.pid"),
  };
}

/** The main config of a private supervisord. Pure. */
export function renderPrivateConfig(dir: string): string {
  const p = prefixPaths(dir);
  const e = escapePercent;
  return `; managed-by: vexo-sv
; A private supervisord, made by \`vexo-sv install --prefix ${dir}\`.
[unix_http_server]
file=${e(p.socket)}
chmod=0700

[supervisord]
logfile=${e(path.join(p.logDir, "supervisord.log"))}
pidfile=${e(p.pidfile)}
childlogdir=${e(p.logDir)}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${e(p.socket)}

[include]
files = ${e(path.join(p.confDir, "*.conf"))}
`;
}

/** Finds an executable on PATH, without spawning `which`. */
export function onPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const f = path.join(dir || ".", cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // next
    }
  }
  return null;
}

/** Waits until supervisord answers on its socket, or its pid dies, or time runs out. */
async function waitReachable(layout: Layout, seconds: number): Promise<boolean> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    try {
      await probe(layout, 1000);
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

/** Starts `supervisord -c CONFIG` (it daemonizes) and waits until it answers. */
export async function startSupervisord(layout: Layout): Promise<number | null> {
  const bin = onPath("supervisord");
  if (!bin) {
    throw new VexoError("start_failed", "supervisord is not installed", {
      hint: process.getuid?.() === 0 ? "run `vexo-sv install`" : "run `sudo apt-get install supervisor` (or `sudo vexo-sv install`)",
    });
  }
  const unix = /^unix:\/\/(.*)$/u.exec(layout.serverUrl);
  // A socket file left by a killed supervisord: nothing listens (the probe failed), so
  // it is safe to remove, and supervisord would otherwise refuse to bind.
  if (unix) removeFile(unix[1] as string);
  const r = await execa(bin, ["-c", layout.config], { reject: false, all: true, stdin: "ignore", timeout: 30000 });
  if (r.exitCode !== 0) {
    throw new VexoError("start_failed", `supervisord did not start: ${faultReason(String(r.all ?? "")) || `exit ${r.exitCode}`}`, {
      hint: `see ${layout.supervisordLog}`,
    });
  }
  if (!(await waitReachable(layout, 15))) {
    throw new VexoError("start_failed", `supervisord started but does not answer at ${layout.serverUrl}`, {
      hint: `see ${layout.supervisordLog}`,
    });
  }
  // The socket can answer a moment before the pidfile is written.
  const until = Date.now() + 5000;
  let pid = supervisordPid(layout);
  while (pid === null && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    pid = supervisordPid(layout);
  }
  return pid;
}

/** Sets up (or finds) a private supervisord under DIR, started and answering. Idempotent. */
export async function installPrefix(dirIn: string, onOutput?: (line: string) => void): Promise<PrefixInstallResult> {
  if (dirIn.trim() === "") throw invalid("--prefix", "must not be empty");
  const dir = path.resolve(dirIn);
  const reason = unsafeReason(dir, { max: 200 });
  if (reason) throw invalid("--prefix", reason);
  const p = prefixPaths(dir);
  // sun_path holds 108 bytes including the NUL.
  if (Buffer.byteLength(p.socket) > 107) {
    throw invalid("--prefix", `is too long: the socket path ${p.socket} exceeds the 107-byte limit of unix sockets`);
  }
  const created: string[] = [];
  for (const d of [p.dir, p.confDir, p.logDir]) {
    if (!fs.existsSync(d)) {
      ensureDir(d);
      created.push(d);
    }
  }
  if (readIfExists(p.config) === null) {
    writeAtomic(p.config, renderPrivateConfig(dir));
    created.push(p.config);
  }
  // As root, a missing supervisord is installed first; otherwise startSupervisord says how.
  if (!onPath("supervisord") && process.getuid?.() === 0 && onPath("apt-get")) {
    const { installPackage } = await import("./install-system.js");
    if (await installPackage(onOutput)) created.push("the supervisor package");
  }
  const layout = resolveLayout({ config: p.config });
  let started = false;
  let pid = supervisordPid(layout);
  try {
    await probe(layout);
  } catch {
    pid = await startSupervisord(layout);
    started = true;
  }
  return {
    changed: started || created.length > 0,
    started,
    created,
    config: p.config,
    confDir: layout.confDir,
    logDir: layout.logDir,
    pid,
    export: `export VEXO_SV_CONFIG=${p.config}`,
  };
}

/** Asks supervisord to shut down (stopping its programs) and returns once its pid is gone. */
export async function shutdownSupervisord(layout: Layout, onWait?: () => void): Promise<ShutdownResult> {
  const pid = supervisordPid(layout);
  try {
    await probe(layout);
  } catch {
    if (pid === null) return { changed: false, pid: null, config: layout.config };
  }
  const r = await runCtl(layout, ctl.shutdown());
  if (!/Shut down|no such file|refused/iu.test(r.output) && r.exitCode !== 0) {
    throw new VexoError("supervisorctl_failed", `shutdown failed: ${faultReason(r.output)}`);
  }
  if (pid !== null) {
    let announced = false;
    // supervisord stops every program first, waiting up to each one's stopwaitsecs.
    for (;;) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      if (!announced) {
        onWait?.();
        announced = true;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  return { changed: true, pid, config: layout.config };
}

export type { PrefixInstallResult, ShutdownResult };
