import fs from "node:fs";
import path from "node:path";
import { VexoError } from "../errors.js";
import { readIfExists } from "./fsutil.js";
import { globMatch, type Layout, type LayoutOptions, resolveLayout } from "./layout.js";
import { type ProgramEntry, parseProgramFile } from "./parse.js";
import { isPaused, pauseState } from "./pause.js";
import { groupState, type ProcessStatus, parseStatus } from "./status.js";
import { ctl, runCtl, unreachableReason } from "./supervisorctl.js";
import { supervisordPid } from "./system.js";
import type { ListResult, StatusResult, WorkerInfo } from "./results.js";

// Reading only: kept apart from workers.ts (add/rm, zod validation) so that `ls` and `status`
// load less and start supervisorctl sooner.

/** Program files in the include directory that supervisord would read. */
export function programFiles(layout: Layout): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(layout.confDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new VexoError("io_error", `cannot read ${layout.confDir}: ${(e as Error).message}`);
  }
  return names
    .map((n) => path.join(layout.confDir, n))
    .filter((f) => (layout.includeGlobs.length ? layout.includeGlobs.some((g) => globMatch(g, f)) : f.endsWith(layout.ext)))
    .sort();
}

/** Reads every program of the include directory; pure apart from reading files. */
export function readPrograms(layout: Layout): ProgramEntry[] {
  const out: ProgramEntry[] = [];
  for (const f of programFiles(layout)) {
    const text = readIfExists(f);
    if (text !== null) out.push(...parseProgramFile(f, text));
  }
  return out;
}

/** Joins program files and `supervisorctl status`; pure, so it is unit-tested. */
export function joinStatus(
  entries: ProgramEntry[],
  statuses: ProcessStatus[] | null,
  paused: Map<string, number[]> = new Map(),
): WorkerInfo[] {
  return entries
    .map((e) => {
      const procs = statuses?.filter((s) => s.group === e.name) ?? [];
      const running = procs.filter((p) => p.state === "RUNNING").length;
      const info: WorkerInfo = {
        name: e.name,
        managed: e.managed,
        file: e.file,
        state:
          statuses === null
            ? "unknown"
            : isPaused(paused.get(e.name) ?? null, procs) && procs.every((p) => p.state === "RUNNING")
              ? "paused"
              : groupState(
                  procs.map((p) => p.state),
                  e.numprocs,
                ),
        loaded: statuses === null ? null : procs.length > 0,
        running,
        total: e.numprocs,
        processes: procs,
        spec: e.spec,
        logs: e.logs,
      };
      if (e.parseError) info.parseError = e.parseError;
      return info;
    })
    .sort((a, b) => Number(b.managed) - Number(a.managed) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Lists every program in the include directory with its live state, in one status call. */
export async function listWorkers(opts: LayoutOptions, layout = resolveLayout(opts)): Promise<ListResult> {
  // Start supervisorctl first so its start-up overlaps with reading the files.
  const statusP = runCtl(layout, ctl.status());
  let entries: ProgramEntry[];
  try {
    entries = readPrograms(layout);
  } catch (e) {
    statusP.catch(() => undefined); // this error is the one to report
    throw e;
  }
  const st = await statusP;
  const warnings: string[] = [];
  const why = unreachableReason(st.output);
  let statuses: ProcessStatus[] | null = null;
  if (why) {
    warnings.push(`supervisord is not reachable (${why}); states are unknown`);
  } else {
    statuses = parseStatus(st.output);
  }
  return {
    config: layout.config,
    confDir: layout.confDir,
    reachable: statuses !== null,
    workers: joinStatus(entries, statuses, pauseState(layout)),
    warnings,
  };
}

/** Health of one managed worker's processes, as lines naming what is wrong. */
export function problemsOf(w: WorkerInfo): string[] {
  if (!w.managed || w.state === "paused") return [];
  if (w.loaded === false) return [`${w.name}: not loaded by supervisord (run \`vexo-sv worker add\` again)`];
  const out = w.processes
    .filter((p) => p.state !== "RUNNING")
    .map((p) => `${p.fullName}: ${p.state}${p.description ? ` (${p.description})` : ""}`);
  if (w.processes.length > 0 && w.processes.length < w.total) out.push(`${w.name}: ${w.processes.length} of ${w.total} processes exist`);
  return out;
}

/** supervisord itself, then every program with every process, and an overall health verdict. */
export async function statusReport(opts: LayoutOptions): Promise<StatusResult> {
  const layout = resolveLayout(opts);
  // If supervisorctl cannot run at all, listWorkers says so; the version is only a detail.
  const versionP = runCtl(layout, ctl.version()).catch(() => null);
  const list = await listWorkers(opts, layout);
  const v = (await versionP)?.output.trim() ?? "";
  const version = list.reachable && /^\d+\.\d+/u.test(v) ? v : null;
  const problems = list.reachable ? list.workers.flatMap(problemsOf) : [`supervisord is not reachable at ${layout.serverUrl}`];
  return {
    ...list,
    supervisord: { running: list.reachable, pid: list.reachable ? supervisordPid(layout) : null, version },
    healthy: problems.length === 0,
    problems,
  };
}

export type { WorkerInfo, ListResult, StatusResult };
