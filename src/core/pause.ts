import type { PauseRecord } from "./records.js";
import type { ProcessStatus } from "./results.js";
import { ACTIVE } from "./states.js";

// A pause is a graceful stop that is remembered. `worker pause` stops the worker's processes the
// way supervisorctl stop does (SIGTERM: Laravel finishes the job in hand, then exits; supervisord
// waits up to stopwaitsecs), and writes a pause record (records.ts). ls and status show the
// worker paused (healthy) while the record holds and none of its processes runs; resume starts
// it again. Unlike SIGUSR2, this holds whatever --max-time is (laravel/framework#56505) and in
// any program, with or without a signal handler.

// config-trust.ts reads the state directory from here (records.ts holds it now).
export { stateDir } from "./records.js";

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
