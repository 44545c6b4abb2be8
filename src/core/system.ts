import fs from "node:fs";
import { execa } from "execa";
import type { Layout } from "./layout.js";

/** True when NAME is a user on this machine (/etc/passwd first, then NSS via getent). */
export async function userExists(name: string): Promise<boolean> {
  try {
    const passwd = fs.readFileSync("/etc/passwd", "utf8");
    if (passwd.split("\n").some((l) => l.split(":", 1)[0] === name)) return true;
  } catch {
    // fall through to getent
  }
  const r = await execa("getent", ["passwd", name], { reject: false, stdin: "ignore" });
  return r.exitCode === 0;
}

/** The pid in supervisord's pidfile if that process is alive, else null. */
export function supervisordPid(layout: Layout): number | null {
  try {
    const pid = Number(fs.readFileSync(layout.pidfile, "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: alive, owned by someone else.
    if ((e as NodeJS.ErrnoException).code === "EPERM") {
      return Number(fs.readFileSync(layout.pidfile, "utf8").trim());
    }
    return null;
  }
}

/**
 * The uid supervisord runs as: from /proc of its pid, else the owner of its unix socket,
 * else null (unknown; callers assume root, the usual system setup).
 */
export function supervisordUid(layout: Layout): number | null {
  const pid = supervisordPid(layout);
  if (pid !== null) {
    try {
      const m = /^Uid:\s+\d+\s+(\d+)/mu.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) return Number(m[1]);
    } catch {
      // not Linux, or gone
    }
  }
  const unix = /^unix:\/\/(.*)$/u.exec(layout.serverUrl);
  if (unix) {
    try {
      return fs.statSync(unix[1] as string).uid;
    } catch {
      return null;
    }
  }
  return null;
}

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
