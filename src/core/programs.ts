import fs from "node:fs";
import path from "node:path";
import { VexoError } from "../errors.js";
import { shownPath } from "./trust.js";
import { type Layout } from "./layout.js";
import { hideEnv, isManaged, parseProgramFile } from "./program-file.js";
import { ALERTS_LISTENER } from "./rules.js";
import type { WorkerSpec } from "./spec.js";
import { type ProcessInfo, programsOf, type ProgramInfo } from "./supervisord/processes.js";
import { readSupervisorConfig, recordingReader, type SupervisorConfig } from "./supervisord/read-config.js";

// Everything supervisord runs, read from every file it reads, the way it reads them
// (supervisord/read-config.ts, supervisord/processes.ts): programs, groups, eventlisteners and fcgi-programs, from the main
// config and every include glob, same-named sections merged. One entry per process group, the
// unit supervisorctl acts on; a vexo-sv worker is always a group of its own.

/** One process group supervisord runs (or would run once it rereads). */
export interface ProcessGroup {
  /** The group name: what supervisorctl's start/stop/update take. */
  name: string;
  kind: ProgramInfo["kind"];
  /** The file that defines it first. */
  file: string;
  /** Every file that defines a part of it (same-named sections merge across files). */
  files: string[];
  /** Written by vexo-sv: its own file, with the marker, and defined nowhere else. */
  managed: boolean;
  numprocs: number;
  /** Its processes, as supervisord names them, with where each one's stdout goes. */
  processes: ProcessInfo[];
  /** For managed workers: the spec read back from the file; null if it was edited beyond recognition. */
  spec: WorkerSpec | null;
  parseError?: string;
  /** The log files of its processes (those that log to a file). */
  logs: string[];
}

/** Every file that holds a part of a section. */
function filesOf(cfg: SupervisorConfig, section: string): string[] {
  const files = new Set<string>([cfg.sectionToFile.get(section) ?? cfg.mainConfig]);
  for (const o of cfg.ini.sections.get(section)?.options.values() ?? []) files.add(o.file);
  return [...files];
}

/** The spec of a managed worker, read back from its own file (as vexo-sv wrote it). */
function managedSpec(file: string, text: string, name: string): { spec: WorkerSpec | null; parseError?: string } {
  const own = text === "" ? undefined : parseProgramFile(file, text).find((p) => p.name === name);
  if (!own) return { spec: null, parseError: "the program file could not be read back" };
  return own.parseError || !own.spec ? { spec: null, parseError: own.parseError ?? "no spec" } : { spec: hideEnv(own.spec) };
}

function toEntry(cfg: SupervisorConfig, layout: Layout, texts: ReadonlyMap<string, string>, info: ProgramInfo): ProcessGroup {
  const files = filesOf(cfg, info.section);
  const own = layout.confDir === null ? "" : path.join(layout.confDir, `${info.name}${layout.ext}`);
  // Our own file was read by the config reader just now; only a regular file counts (lstat: never a symlink).
  const ownText = files.length === 1 && files[0] === own ? (texts.get(own) ?? "") : "";
  const managed = info.kind === "program" && info.groups.length === 0 && isManaged(ownText) && isRegular(own);
  const processes = info.processes;
  const entry: ProcessGroup = {
    name: info.name,
    kind: info.kind,
    file: files[0] as string,
    files,
    managed,
    numprocs: processes.length,
    processes,
    spec: null,
    logs: processes.flatMap((p) => (p.stdoutLogfile?.kind === "file" ? [p.stdoutLogfile.path] : [])),
  };
  if (managed) Object.assign(entry, managedSpec(own, ownText, info.name));
  return entry;
}

/**
 * Reads what supervisord reads, from the main config on. A file its globs match that is not a
 * regular file (a FIFO, socket or device: never opened in a way that could hang) is refused,
 * every such file named. `texts`: what this command read already, by file (each file is opened
 * once: one read already there is taken from it); every file read is added to it.
 */
export function supervisorConfig(layout: Layout, texts = new Map<string, string>()): SupervisorConfig {
  const unreadable: { path: string; reason: string }[] = [];
  const onRefused = (file: string, reason: string) => unreadable.push({ path: file, reason });
  const read = recordingReader(texts, onRefused);
  const cfg = readSupervisorConfig(layout.config, process.env, (file) => texts.get(file) ?? read(file));
  if (unreadable.length === 0) return cfg;
  const lines = unreadable.map((u) => `\n  ${shownPath(u.path)} is ${u.reason}`).join("");
  throw new VexoError("unsafe_file", `supervisord cannot read these as config files:${lines}`, {
    hint: "remove them (a FIFO, socket or device there would hang or harm supervisord's reread), then run again",
    details: { file: unreadable[0]?.path, paths: unreadable.map((u) => u.path) },
  });
}

function isRegular(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * vexo-sv's own alerts listener (its own file, with the marker): vexo-sv's machinery, not a
 * program of the user's, so never one of the groups the worker commands list, count or act on.
 * Its name stays taken for workers (nameDefinedIn reads every section).
 */
function isOwnListener(layout: Layout, texts: ReadonlyMap<string, string>, g: ProcessGroup): boolean {
  const own = layout.confDir === null ? "" : path.join(layout.confDir, `${ALERTS_LISTENER}${layout.ext}`);
  return (
    g.kind === "eventlistener" && g.name === ALERTS_LISTENER && g.file === own && g.files.length === 1 && isManaged(texts.get(own) ?? "")
  );
}

/**
 * Every process group of every file supervisord reads, managed ones first, then by name (`only`:
 * just the group of that name, if there is one), vexo-sv's alerts listener left out. The managed
 * specs are parsed from `texts`, the files as the config reader read them (never read again).
 */
export function readPrograms(
  layout: Layout,
  texts = new Map<string, string>(),
  cfg = supervisorConfig(layout, texts),
  only?: string,
): ProcessGroup[] {
  const infos = programsOf(cfg, only);
  // A program listed by a [group:g] runs inside g: g is the entry (with its members' processes).
  const entries = infos
    .filter((i) => (i.kind === "group" || i.groups.length === 0) && (only === undefined || i.name === only))
    .map((i) => toEntry(cfg, layout, texts, i))
    .filter((g) => !isOwnListener(layout, texts, g));
  const groups = new Map(infos.filter((i) => i.kind === "group").map((i) => [i.name, i]));
  for (const g of entries) {
    const info = g.kind === "group" ? groups.get(g.name) : undefined;
    if (info) g.files = [...new Set([...g.files, ...info.programs.flatMap((section) => filesOf(cfg, section))])];
  }
  return entries.sort((a, b) => Number(b.managed) - Number(a.managed) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Where a name is defined as a program, group, eventlistener or fcgi-program (or listed in a group), other than `except`. */
export function nameDefinedIn(cfg: SupervisorConfig, name: string, except: string): string[] {
  const files = new Set<string>();
  for (const info of programsOf(cfg)) {
    if (info.name === name || info.programs.includes(`program:${name}`) || info.programs.includes(`fcgi-program:${name}`)) {
      for (const f of filesOf(cfg, info.section)) files.add(f);
    }
  }
  files.delete(except);
  return [...files];
}
