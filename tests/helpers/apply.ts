import fs from "node:fs";
import path from "node:path";
import { ALLOW_ROOT, cli, type CliResult, ME, SAMPLE_APP, type Sv } from "./cli.js";
import { processInfo } from "./rpc.js";

/** A worker entry of a workers file: the sample app, run as the test's user. */
export const entry = (name: string, extra: Record<string, unknown> = {}) => ({ name, path: SAMPLE_APP, user: ME, ...extra });

/** Writes a workers file (mode 0644, in the supervisord's own folder) and returns its path. */
export function workersFile(sv: Sv, workers: unknown[], name = "workers.json"): string {
  const file = path.join(sv.dir, name);
  fs.writeFileSync(file, `${JSON.stringify({ workers }, null, 2)}\n`, { mode: 0o644 });
  fs.chmodSync(file, 0o644);
  return file;
}

/** `vexo-sv apply FILE --json` with the flags a root test needs. */
export const apply = (sv: Sv, file: string, extra: string[] = []): Promise<CliResult> =>
  cli(["apply", file, ...ALLOW_ROOT, ...extra, "--json"], sv.env);

/** pids by process name ("a:a_00" -> pid) of every RUNNING process supervisord has, straight from supervisord. */
export async function runningPids(sv: Sv): Promise<Record<string, number>> {
  return Object.fromEntries((await processInfo(sv.dir)).filter((p) => p.statename === "RUNNING").map((p) => [p.namespec, p.pid]));
}

/** Every group supervisord has loaded (whatever its state). */
export async function loadedGroups(sv: Sv): Promise<string[]> {
  return [...new Set((await processInfo(sv.dir)).map((p) => p.group))].sort();
}
