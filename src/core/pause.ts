import fs from "node:fs";
import path from "node:path";
import { readIfExists } from "./fsutil.js";
import type { Layout } from "./layout.js";
import type { ProcessStatus } from "./results.js";
import { ACTIVE } from "./states.js";

// A pause is a graceful stop that is remembered. `worker pause` stops the worker's processes the
// way supervisorctl stop does (SIGTERM: Laravel finishes the job in hand, then exits; supervisord
// waits up to stopwaitsecs), and records the pause beside the program files, in a dot-directory
// no include glob reads. ls and status show the worker paused (healthy) while the record holds
// and none of its processes runs; resume starts it again. Unlike SIGUSR2, this holds whatever
// --max-time is (laravel/framework#56505) and in any program, with or without a signal handler.

/** Directory for state that must not be read by supervisord's glob (leading dot): in the program directory, else beside the config. */
export function stateDir(layout: Layout): string {
  return path.join(layout.confDir ?? path.dirname(layout.config), ".vexo-sv-state");
}

export function pauseFile(layout: Layout, name: string): string {
  return path.join(stateDir(layout), `${name}.paused`);
}

/** The record of a removal under way (see removeLocked in workers.ts). */
export function removalFile(layout: Layout, name: string): string {
  return path.join(stateDir(layout), `${name}.removing`);
}

/** What a pause record holds: when, and under which supervisord (a restarted one starts every autostart program again). */
export interface PauseRecord {
  at: string;
  supervisordPid: number | null;
}

/** The pause record of NAME, or null when it is not paused. */
export function readPause(layout: Layout, name: string): PauseRecord | null {
  const text = readIfExists(pauseFile(layout, name));
  if (text === null) return null;
  try {
    const doc = JSON.parse(text) as Partial<PauseRecord>;
    return typeof doc.at === "string"
      ? { at: doc.at, supervisordPid: typeof doc.supervisordPid === "number" ? doc.supervisordPid : null }
      : null;
  } catch {
    return null;
  }
}

/**
 * A worker is paused when a pause was recorded under the supervisord that runs now and none of
 * its processes is active: a process started since (by hand, or a restarted supervisord's
 * autostart) works again, and so does the worker.
 */
export function isPaused(record: PauseRecord | null, procs: ProcessStatus[], supervisordPid: number | null): boolean {
  if (!record) return false;
  if (record.supervisordPid !== null && supervisordPid !== null && record.supervisordPid !== supervisordPid) return false;
  return procs.length > 0 && procs.every((p) => !ACTIVE.has(p.state));
}

/** The pause records vexo-sv keeps, read for ls and status. */
export function pauseState(layout: Layout): Map<string, PauseRecord> {
  const m = new Map<string, PauseRecord>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(stateDir(layout));
  } catch {
    return m;
  }
  for (const f of names) {
    if (!f.endsWith(".paused")) continue;
    const n = f.slice(0, -".paused".length);
    const p = readPause(layout, n);
    if (p) m.set(n, p);
  }
  return m;
}
