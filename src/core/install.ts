import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { invalid, VexoError } from "../errors.js";
import { ensureDir, LOG_DIR_MODE, readIfExists, writeAtomic } from "./fsutil.js";
import { requireConfDir, resolveLayout } from "./layout.js";
import { isManaged } from "./program-file.js";
import { prefixPaths, renderPrivateConfig } from "./private-config.js";
import { unsafeReason } from "./rules.js";
import { realIO, type SupervisorIO } from "./ctl-io.js";
import { SupervisordClient } from "./supervisorctl.js";
import { onPath, startSupervisord, supervisordPid, waitReachable } from "./supervisord.js";
import { prefixProblems, prefixRefusal } from "./config-trust.js";
import type { PrefixInstallResult, SystemInstallResult } from "./results.js";

// Getting a supervisord: the system's (Debian's package, started by its init system) or a
// private one under a directory of the caller's (its own config, socket, programs and logs).

/** A directory for a private supervisord: absolute, safe in a config line, short enough for a socket. */
function checkPrefix(dirIn: string): string {
  if (dirIn.trim() === "") throw invalid("prefix", "must not be empty");
  const dir = path.resolve(dirIn);
  const reason = unsafeReason(dir, { max: 200 });
  if (reason) throw invalid("prefix", reason);
  // sun_path holds 108 bytes including the NUL.
  const socket = prefixPaths(dir).socket;
  if (Buffer.byteLength(socket) > 107) {
    throw invalid("prefix", `is too long: the socket path ${socket} exceeds the 107-byte limit of unix sockets`);
  }
  return dir;
}

/**
 * A prefix must be the caller's or root's, and writable by nobody else, all the way up (a
 * root-owned sticky directory such as /tmp aside) and all the way down: whoever can write there
 * decides what a supervisord started from it runs, and reaches it through its socket. Every
 * untrusted path is named at once (config-trust.ts). Program files vexo-sv did not write but
 * root owns are root's own: named in a warning, since a root supervisord runs them as root.
 */
function assertTrustedPrefix(p: ReturnType<typeof prefixPaths>, self: readonly string[] | null, onWarning?: (w: string) => void): void {
  const asRoot = process.geteuid?.() === 0;
  const problems = prefixProblems(p, [...new Set([0, process.geteuid?.() ?? 0])], self);
  if (problems.findings.size > 0) throw prefixRefusal(p.dir, problems, asRoot);
  const text = readIfExists(p.config);
  if (text !== null && !isManaged(text)) {
    throw new VexoError("not_managed", `${p.config} exists and was not written by vexo-sv; no supervisord is started from it`, {
      details: { file: p.config },
    });
  }
  if (!asRoot || !onWarning) return;
  for (const f of problems.unmanaged) {
    onWarning(`${f} was not written by vexo-sv: supervisord runs what it defines as root; remove it unless you wrote it`);
  }
}

/** How installPrefix reports: progress lines, warnings, and the IO seam. */
export interface PrefixInstallOptions {
  onOutput?: (line: string) => void;
  onWarning?: (warning: string) => void;
  io?: SupervisorIO;
  /** How this vexo-sv runs (node and its script): an alerts listener that runs anything else is not vexo-sv's. */
  self?: readonly string[];
}

/** Sets up (or finds) a private supervisord under DIR, started and answering. Idempotent. */
export async function installPrefix(dirIn: string, opts: PrefixInstallOptions = {}): Promise<PrefixInstallResult> {
  const p = prefixPaths(checkPrefix(dirIn));
  const self = opts.self ?? null;
  assertTrustedPrefix(p, self);
  const created: string[] = [];
  for (const d of [p.dir, p.confDir, p.logDir]) {
    if (!fs.existsSync(d)) {
      ensureDir(d, d === p.logDir ? LOG_DIR_MODE : 0o755);
      created.push(d);
    }
  }
  // Again now that the directories exist: a parent another user created meanwhile is refused before anything is written into it.
  assertTrustedPrefix(p, self);
  if (readIfExists(p.config) === null) {
    writeAtomic(p.config, renderPrivateConfig(p.dir), 0o644);
    created.push(p.config);
  }
  // And once more with the config in place, right before supervisord is started or reused.
  assertTrustedPrefix(p, self, opts.onWarning);
  // As root, a missing supervisord is installed first; otherwise startSupervisord says how.
  if (!onPath("supervisord") && process.getuid?.() === 0 && onPath("apt-get")) {
    if (await installPackage(opts.onOutput)) created.push("the supervisor package");
  }
  const sv = new SupervisordClient(resolveLayout({ config: p.config }), opts.io ?? realIO);
  let started = false;
  let pid = supervisordPid(sv.layout);
  try {
    await sv.probe();
  } catch {
    pid = await startSupervisord(sv, { socketWithin: p.dir });
    started = true;
  }
  return {
    changed: started || created.length > 0,
    started,
    created,
    config: p.config,
    confDir: requireConfDir(sv.layout),
    logDir: sv.layout.logDir,
    pid,
    export: `export VEXO_SV_CONFIG=${p.config}`,
  };
}

const DEBIAN_CONFIG = "/etc/supervisor/supervisord.conf";

/** Runs apt-get or the init system, streaming its lines to onOutput. */
async function run(cmd: string, args: string[], onOutput?: (l: string) => void) {
  const child = execa(cmd, args, {
    reject: false,
    all: true,
    stdin: "ignore",
    env: { DEBIAN_FRONTEND: "noninteractive", NEEDRESTART_MODE: "a" },
    timeout: 15 * 60 * 1000,
  });
  if (onOutput) {
    child.all?.setEncoding("utf8");
    let buf = "";
    child.all?.on("data", (d: string) => {
      buf += d;
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const l of lines) if (l.trim()) onOutput(l);
    });
  }
  const r = await child;
  return { exitCode: r.exitCode ?? 1, output: String(r.all ?? "") };
}

/** apt-get installs Debian's supervisor package unless dpkg has it; true when it did. */
export async function installPackage(onOutput?: (line: string) => void): Promise<boolean> {
  const q = await execa("dpkg-query", ["-W", "-f=${Status}", "supervisor"], { reject: false, stdin: "ignore" });
  if (String(q.stdout).includes("install ok installed")) return false;
  let r = await run("apt-get", ["install", "-y", "-q", "supervisor"], onOutput);
  if (r.exitCode !== 0 && /Unable to locate package|has no installation candidate/u.test(r.output)) {
    await run("apt-get", ["update", "-q"], onOutput);
    r = await run("apt-get", ["install", "-y", "-q", "supervisor"], onOutput);
  }
  if (r.exitCode !== 0) {
    const tail = r.output.trim().split("\n").slice(-3).join(" / ");
    throw new VexoError("install_failed", `apt-get install supervisor failed (exit ${r.exitCode}): ${tail}`, {
      hint: "run `apt-get update`, check the network and dpkg's state (`dpkg --configure -a`), then run again",
    });
  }
  return true;
}

/** Starts the system supervisord with whatever can: systemd, the init script, else supervisord itself. */
async function startSystemSupervisord(sv: SupervisordClient, onOutput?: (l: string) => void): Promise<SystemInstallResult["startedBy"]> {
  const service = sv.layout.config === DEBIAN_CONFIG ? "supervisor" : "supervisord";
  if (fs.existsSync("/run/systemd/system")) {
    await run("systemctl", ["enable", "--now", service], onOutput);
    if (await waitReachable(sv, 15)) return "systemd";
  } else if (onPath("service")) {
    await run("service", [service, "start"], onOutput);
    if (await waitReachable(sv, 15)) return "init-script";
  }
  await startSupervisord(sv);
  return "vexo-sv";
}

/**
 * Installs Debian's supervisor package when missing and makes sure supervisord runs and
 * starts at boot: systemd where PID 1 is systemd, else the init script, else supervisord
 * itself (containers, or a policy-rc.d that forbids starting services). Idempotent.
 */
export async function installSystem(opts: { onOutput?: (line: string) => void; io?: SupervisorIO } = {}): Promise<SystemInstallResult> {
  if (process.getuid?.() !== 0) throw new VexoError("not_root", "installing supervisor needs root");
  const actions: string[] = [];
  if (!onPath("apt-get")) {
    if (!onPath("supervisord")) {
      throw new VexoError("unsupported_system", "no apt-get here: vexo-sv installs supervisor on Debian and Ubuntu only", {
        hint: "on RHEL and friends: `dnf install epel-release && dnf install supervisor && systemctl enable --now supervisord`; programs then live in /etc/supervisord.d/*.ini",
      });
    }
  } else if (await installPackage(opts.onOutput)) {
    actions.push("installed the supervisor package");
  }
  const config = fs.existsSync(DEBIAN_CONFIG) ? DEBIAN_CONFIG : "/etc/supervisord.conf";
  const sv = new SupervisordClient(resolveLayout({ config }), opts.io);
  let startedBy: SystemInstallResult["startedBy"] = "already-running";
  if (!(await waitReachable(sv, 0))) {
    startedBy = await startSystemSupervisord(sv, opts.onOutput);
    actions.push(
      startedBy === "vexo-sv"
        ? "started supervisord directly (no init system could start it here; it will not start at boot)"
        : `started supervisord with ${startedBy}`,
    );
  }
  const v = await execa("supervisord", ["--version"], { reject: false, stdin: "ignore" });
  return {
    changed: actions.length > 0,
    actions,
    version: String(v.stdout).trim(),
    service: "running",
    startedBy,
    config,
    confDir: sv.layout.confDir,
    pid: supervisordPid(sv.layout),
  };
}
