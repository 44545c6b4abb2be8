import fs from "node:fs";
import path from "node:path";
import { readIfExists } from "./fsutil.js";
import type { Layout } from "./layout.js";
import type { ProcessStatus } from "./status.js";

/** Directory for state that must not be read by supervisord's glob (leading dot). */
export function stateDir(layout: Layout): string {
  return path.join(layout.confDir, ".vexo-sv-state");
}

export function pauseFile(layout: Layout, name: string): string {
  return path.join(stateDir(layout), `${name}.paused`);
}

/** Pids recorded when NAME was paused, or null when it is not paused. */
export function pausedPids(layout: Layout, name: string): number[] | null {
  const text = readIfExists(pauseFile(layout, name));
  if (text === null) return null;
  try {
    const doc = JSON.parse(text) as { pids?: unknown };
    return Array.isArray(doc.pids) ? doc.pids.filter((p): p is number => typeof p === "number") : null;
  } catch {
    return null;
  }
}

/**
 * A worker is paused when a pause was recorded and every running process is one that got the
 * signal: a process started since (max-time, a crash, a restart) works again, and so does the
 * worker as soon as any of its processes does.
 */
export function isPaused(recorded: number[] | null, procs: ProcessStatus[]): boolean {
  if (!recorded) return false;
  const running = procs.filter((p) => p.state === "RUNNING");
  return running.length > 0 && running.every((p) => p.pid !== null && recorded.includes(p.pid));
}

/** The paused-marker files vexo-sv keeps, read for ls and status. */
export function pauseState(layout: Layout): Map<string, number[]> {
  const m = new Map<string, number[]>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(stateDir(layout));
  } catch {
    return m;
  }
  for (const f of names) {
    if (!f.endsWith(".paused")) continue;
    const n = f.slice(0, -".paused".length);
    const p = pausedPids(layout, n);
    if (p) m.set(n, p);
  }
  return m;
}
