import fs from "node:fs";
import { execa } from "execa";
import { VexoError } from "../errors.js";
import { onPath, startSupervisord } from "./install.js";
import { resolveLayout } from "./layout.js";
import { probe } from "./supervisorctl.js";
import { supervisordPid } from "./system.js";
import type { SystemInstallResult } from "./results.js";

const DEBIAN_CONFIG = "/etc/supervisor/supervisord.conf";

export interface SystemInstallOptions {
  /** Each line apt-get or the init system prints (shown as progress on a terminal). */
  onOutput?: (line: string) => void;
}

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

async function reachable(config: string): Promise<boolean> {
  try {
    await probe(resolveLayout({ config }), 2000);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(config: string, seconds: number): Promise<boolean> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (await reachable(config)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
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
    throw new VexoError(
      "install_failed",
      `apt-get install supervisor failed (exit ${r.exitCode}): ${r.output.trim().split("\n").slice(-3).join(" / ")}`,
      {
        hint: "run `apt-get update`, check the network and dpkg's state (`dpkg --configure -a`), then run again",
      },
    );
  }
  return true;
}

/**
 * Installs Debian's supervisor package when missing and makes sure supervisord runs and
 * starts at boot: systemd where PID 1 is systemd, else the init script, else supervisord
 * itself (containers, or a policy-rc.d that forbids starting services). Idempotent.
 */
export async function installSystem(opts: SystemInstallOptions = {}): Promise<SystemInstallResult> {
  if (process.getuid?.() !== 0) {
    throw new VexoError("not_root", "installing supervisor needs root", {
      hint: "run `sudo vexo-sv install`, or `vexo-sv install --prefix DIR` for a private supervisord without root",
    });
  }
  const actions: string[] = [];
  if (!onPath("apt-get")) {
    if (!onPath("supervisord")) {
      throw new VexoError("unsupported_system", "no apt-get here: vexo-sv installs supervisor on Debian and Ubuntu only", {
        hint: "on RHEL and friends: `dnf install epel-release && dnf install supervisor && systemctl enable --now supervisord`; programs live in /etc/supervisord.d/*.ini, which `--config /etc/supervisord.conf` handles",
      });
    }
  } else {
    if (await installPackage(opts.onOutput)) actions.push("installed the supervisor package");
  }
  const config = fs.existsSync(DEBIAN_CONFIG) ? DEBIAN_CONFIG : "/etc/supervisord.conf";
  const layout = resolveLayout({ config });
  let startedBy: SystemInstallResult["startedBy"] = "already-running";
  if (!(await reachable(config))) {
    const systemd = fs.existsSync("/run/systemd/system");
    const service = config === DEBIAN_CONFIG ? "supervisor" : "supervisord";
    if (systemd) {
      await run("systemctl", ["enable", "--now", service], opts.onOutput);
      if (await waitFor(config, 15)) startedBy = "systemd";
    } else if (onPath("service")) {
      await run("service", [service, "start"], opts.onOutput);
      if (await waitFor(config, 15)) startedBy = "init-script";
    }
    if (startedBy === "already-running") {
      await startSupervisord(layout);
      startedBy = "vexo-sv";
      actions.push("started supervisord directly (no init system could start it here; it will not start at boot)");
    } else {
      actions.push(`started supervisord with ${startedBy}`);
    }
  }
  const v = await execa("supervisord", ["--version"], { reject: false, stdin: "ignore" });
  return {
    changed: actions.length > 0,
    actions,
    version: String(v.stdout).trim(),
    service: "running",
    startedBy,
    config,
    confDir: layout.confDir,
    pid: supervisordPid(layout),
  };
}

export type { SystemInstallResult };
