import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { VexoError } from "../errors.js";
import { removeFile } from "./fsutil.js";
import { alive, onPath, SUPERVISORD_ENV, supervisordPid } from "./machine.js";
import { poll } from "./poll.js";
import { type SupervisordClient, calls, faultReason } from "./supervisorctl.js";
import type { Layout } from "./layout.js";
import type { ShutdownResult } from "./results.js";

// supervisord itself: is it up, start it, stop it. Its pid, uid and PATH are machine lookups
// (machine.ts), re-exported here for the modules that import them from here.
export { onPath, supervisordPid, supervisordUid } from "./machine.js";

/** True when supervisord answers within `seconds`. */
export async function waitReachable(sv: SupervisordClient, seconds: number): Promise<boolean> {
  return poll(sv.io, { timeoutMs: seconds * 1000, intervalMs: 100 }, async (timedOut) => {
    try {
      await sv.probe(1000);
      return true;
    } catch {
      return timedOut ? false : undefined;
    }
  });
}

/**
 * Removes the socket file a killed supervisord left behind (the probe failed: nothing listens,
 * and supervisord would refuse to bind). Only ever a socket, and with `within`, only inside it.
 */
function removeStaleSocket(layout: Layout, within?: string): void {
  if (layout.server.kind !== "unix") return;
  const sock = layout.server.path;
  if (within !== undefined && path.relative(within, sock).startsWith("..")) return;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(sock);
  } catch {
    return;
  }
  if (st.isSocket()) removeFile(sock);
}

/** Starts `supervisord -c CONFIG` (it daemonizes) with SUPERVISORD_ENV and waits until it answers; returns its pid. */
export async function startSupervisord(sv: SupervisordClient, opts: { socketWithin?: string } = {}): Promise<number | null> {
  const layout = sv.layout;
  const bin = onPath("supervisord");
  if (!bin) throw new VexoError("start_failed", "supervisord is not installed", { hint: "install Debian's supervisor package" });
  removeStaleSocket(layout, opts.socketWithin);
  const r = await execa(bin, ["-c", layout.config], {
    reject: false,
    all: true,
    stdin: "ignore",
    timeout: 30000,
    env: { ...SUPERVISORD_ENV },
    extendEnv: false,
    cwd: "/",
  });
  if (r.exitCode !== 0) {
    throw new VexoError("start_failed", `supervisord did not start: ${faultReason(String(r.all ?? "")) || `exit ${r.exitCode}`}`, {
      hint: `see ${layout.supervisordLog}`,
    });
  }
  if (!(await waitReachable(sv, 15))) {
    throw new VexoError("start_failed", `supervisord started but does not answer at ${layout.serverUrl}`, {
      hint: `see ${layout.supervisordLog}`,
    });
  }
  // The socket can answer a moment before the pidfile is written.
  return poll(sv.io, { timeoutMs: 5000, intervalMs: 50 }, (timedOut) => supervisordPid(layout) ?? (timedOut ? null : undefined));
}

/** Asks supervisord to shut down (stopping its programs) and returns once its pid is gone. */
export async function shutdownSupervisord(sv: SupervisordClient, onWait?: () => void): Promise<ShutdownResult> {
  const layout = sv.layout;
  const pid = supervisordPid(layout);
  try {
    await sv.probe();
  } catch {
    if (pid === null) return { changed: false, pid: null, config: layout.config };
  }
  const r = await sv.run(calls.shutdown());
  if (!/Shut down|no such file|refused/iu.test(r.output) && r.exitCode !== 0) {
    throw new VexoError("supervisorctl_failed", `shutdown failed: ${faultReason(r.output)}`);
  }
  if (pid !== null && alive(pid)) {
    // supervisord stops every program first, waiting up to each one's stopwaitsecs: no bound here.
    onWait?.();
    await poll(sv.io, { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 100 }, () => (alive(pid) ? undefined : true));
  }
  return { changed: true, pid, config: layout.config };
}
