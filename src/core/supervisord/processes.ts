/**
 * What supervisord will run, from the merged configuration: process groups, process names and
 * where each process's stdout goes, as supervisord 4.2.5's process_groups_from_parser and
 * _processes_from_section derive them (supervisor/options.py, supervisor/datatypes.py).
 */
import { type Expanded, type Expansions, expandValue, pyInt, pyRepr } from "../python/format.js";
import { expandUser, pySplitPath } from "../python/path.js";
import { dictOfKeyValuePairs } from "../python/shlex.js";
import { comparePy, pyStrip } from "../python/str.js";
import { getOption } from "./configparser.js";
import type { SupervisorConfig } from "./read-config.js";

/** Where a process's stdout goes, as logfile_name() classifies the expanded value. */
export type LogTarget =
  | { kind: "auto" }
  | { kind: "none" }
  | { kind: "syslog" }
  /** /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: not a file to read back. */
  | { kind: "stream"; path: string }
  | { kind: "file"; path: string };

/** One process supervisord would create. */
export interface ProcessInfo {
  /** The process group (the program itself, or the `[group:g]` that lists it). */
  group: string;
  name: string;
  /** How supervisorctl shows it: `name` when group == name, else `group:name` (make_namespec). */
  namespec: string;
  processNum: number;
  stdoutLogfile: LogTarget | null;
}

/** One `[program:x]`, `[fcgi-program:x]`, `[eventlistener:x]` or `[group:g]` section. */
export interface ProgramInfo {
  kind: "program" | "fcgi-program" | "eventlistener" | "group";
  section: string;
  name: string;
  file: string;
  priority: number | null;
  numprocs: number | null;
  numprocsStart: number | null;
  /** For a group: the programs it lists. For a program: the groups that list it. */
  programs: string[];
  groups: string[];
  /** In supervisord's order: by (priority, name) within each group. */
  processes: ProcessInfo[];
  /** Reasons supervisord would reject this section. */
  errors: string[];
}

interface SectionProcs {
  priority: number | null;
  numprocs: number | null;
  numprocsStart: number | null;
  processes: ProcessInfo[];
  errors: string[];
}

const KINDS = ["program", "fcgi-program", "eventlistener", "group"] as const;

/**
 * Every program-like section of the merged config, with its processes as supervisord names them.
 * `only`: just what a group of that name needs (every [group:x] section, whose memberships decide
 * which programs are groups of their own, and the program-like sections named `only`), for a
 * command about one worker at a thousand (`logs NAME`).
 */
export function programsOf(cfg: SupervisorConfig, only?: string): ProgramInfo[] {
  const out: ProgramInfo[] = [];
  const grouped = new Map<string, string[]>();
  for (const sectionName of cfg.ini.sections.keys()) {
    const kind = KINDS.find((k) => sectionName.startsWith(`${k}:`));
    if (kind !== "group") continue;
    const info = groupInfo(cfg, sectionName);
    for (const member of info.programs) grouped.set(member, [...(grouped.get(member) ?? []), info.name]);
    out.push(info);
  }
  for (const sectionName of cfg.ini.sections.keys()) {
    const kind = KINDS.find((k) => sectionName.startsWith(`${k}:`));
    if (kind === undefined || kind === "group") continue;
    const raw = sectionName.slice(kind.length + 1);
    if (only !== undefined && pyStrip(raw) !== only && raw.trim() !== only) continue;
    out.push(programInfo(cfg, kind, sectionName, grouped.get(sectionName) ?? []));
  }
  const position = new Map([...cfg.ini.sections.keys()].map((section, i) => [section, i]));
  const at = (p: ProgramInfo) => position.get(p.section) ?? 0;
  return out.sort((a, b) => at(a) - at(b));
}

function programInfo(cfg: SupervisorConfig, kind: ProgramInfo["kind"], section: string, groups: string[]): ProgramInfo {
  const rawName = section.slice(section.indexOf(":") + 1);
  const base = { kind, section, file: cfg.sectionToFile.get(section) ?? cfg.mainConfig, programs: [], groups };
  const checked = processOrGroupName(rawName);
  // An eventlistener pool keeps its raw name as group name (process_groups_from_parser does not strip it).
  const groupName = kind === "eventlistener" ? rawName : (checked.name ?? rawName);
  const errors = checked.error ? [checked.error] : [];
  // A program listed by [group:x] sections belongs to those groups only; supervisord builds it once per group.
  const asGroups = groups.length > 0 && kind !== "eventlistener" ? groups : [groupName];
  const runs = asGroups.map((g) => processesFromSection(cfg, section, g));
  const first = runs[0] as SectionProcs;
  return {
    ...base,
    name: checked.name ?? rawName.trim(),
    priority: first.priority,
    numprocs: first.numprocs,
    numprocsStart: first.numprocsStart,
    processes: runs.flatMap((r) => r.processes),
    errors: [...errors, ...new Set(runs.flatMap((r) => r.errors))],
  };
}

function groupInfo(cfg: SupervisorConfig, section: string): ProgramInfo {
  const checked = processOrGroupName(section.slice(section.indexOf(":") + 1));
  const name = checked.name ?? section.slice(6);
  const errors = checked.error ? [checked.error] : [];
  const get = sectionGetter(cfg, section, new Map([["here", cfg.here]]));
  const programsRaw = get("programs", null);
  const priority = toInt(get("priority", 999), "priority", errors);
  const programs = programsRaw.ok && programsRaw.value ? String(programsRaw.value).split(",").map(pyStrip) : [];
  if (!programsRaw.ok) errors.push(programsRaw.error);
  const members: string[] = [];
  const keyed: { p: ProcessInfo; prio: number }[] = [];
  for (const program of programs) {
    const member = memberSection(cfg, section, program, errors);
    if (member === null) continue;
    members.push(member);
    const run = processesFromSection(cfg, member, name);
    for (const p of run.processes) keyed.push({ p, prio: run.priority ?? 999 });
  }
  const file = cfg.sectionToFile.get(section) ?? cfg.mainConfig;
  const sorted = sortProcesses(keyed);
  return {
    kind: "group",
    section,
    name,
    file,
    priority,
    numprocs: null,
    numprocsStart: null,
    programs: members,
    groups: [],
    processes: sorted,
    errors,
  };
}

function memberSection(cfg: SupervisorConfig, group: string, program: string, errors: string[]): string | null {
  const asProgram = cfg.ini.sections.has(`program:${program}`);
  const asFcgi = cfg.ini.sections.has(`fcgi-program:${program}`);
  if (asProgram && asFcgi) errors.push(`[${group}] name ${program} is ambiguous (exists as program and fcgi-program)`);
  else if (!asProgram && !asFcgi) errors.push(`[${group}] names unknown program or fcgi-program ${program}`);
  else return asProgram ? `program:${program}` : `fcgi-program:${program}`;
  return null;
}

/** ProcessConfig.__lt__: by priority, then name; Python's sort is stable. */
function sortProcesses(keyed: { p: ProcessInfo; prio: number }[]): ProcessInfo[] {
  keyed.sort((a, b) => (a.prio !== b.prio ? a.prio - b.prio : comparePy(a.p.name, b.p.name)));
  return keyed.map((k) => k.p);
}

/** datatypes.process_or_group_name: stripped; space, ':' and '/' refused. */
function processOrGroupName(raw: string): { name: string | null; error?: string } {
  const s = pyStrip(raw);
  for (const ch of " :/")
    if (s.includes(ch)) return { name: null, error: `Invalid name: ${pyRepr(raw)} because of character: ${pyRepr(ch)}` };
  return { name: s };
}

type Got = { ok: true; value: string | number | null } | { ok: false; error: string };
type Getter = (key: string, dflt: string | number | null, doExpand?: boolean) => Got;

/** UnhosedConfigParser.saneget: the section's value (or DEFAULT's), %-expanded with ENV_* plus `extra`. */
function sectionGetter(cfg: SupervisorConfig, section: string, extra: Expansions): Getter {
  return (key, dflt, doExpand = true) => {
    const opt = getOption(cfg.ini, section, key);
    if (!opt) return typeof dflt === "string" && doExpand ? expandLazily(cfg, dflt, extra, `${section}.${key}`) : { ok: true, value: dflt };
    if (!doExpand) return { ok: true, value: opt.value };
    return expandLazily(cfg, opt.value, extra, `${section}.${key}`);
  };
}

/** expandValue, without building the expansion map for the many values that hold no `%` (their expansion is themselves). */
function expandLazily(cfg: SupervisorConfig, value: string, extra: Expansions, name: string): Expanded {
  return value.includes("%") ? expandValue(value, withEnv(cfg, extra), name) : { ok: true, value };
}

/**
 * supervisord's `expansions.update(environ_expansions)` then `update(extra)`, as a view: `extra`
 * first, then the ENV_* names. Copying the environment per value was a fifth of `worker ls`'s
 * own time at 200 workers (bench/profile-ls.mjs).
 */
function withEnv(cfg: SupervisorConfig, extra: Expansions): Expansions {
  const env = cfg.envExpansions;
  return {
    get: (key) => extra.get(key) ?? env.get(key),
    keys: () => new Set([...env.keys(), ...extra.keys()]),
  };
}

function toInt(r: Got, key: string, errors: string[]): number | null {
  if (!r.ok) return (errors.push(r.error), null);
  if (typeof r.value === "number" || r.value === null) return r.value;
  const n = pyInt(r.value);
  if (n === null) errors.push(`invalid literal for int() with base 10: ${pyRepr(r.value)} (${key})`);
  return n;
}

/** _processes_from_section, limited to what names processes and places their stdout log. */
function processesFromSection(cfg: SupervisorConfig, section: string, groupName: string): SectionProcs {
  const errors: string[] = [];
  const programName = processOrGroupName(section.slice(section.indexOf(":") + 1));
  if (programName.name === null)
    return { priority: null, numprocs: null, numprocsStart: null, processes: [], errors: [programName.error ?? ""] };
  // supervisord mutates this one dict in the loop below: later lookups see process_num and ENV_*.
  const common = new Map<string, string | number>([
    ["here", cfg.here],
    ["program_name", programName.name],
    ["host_node_name", cfg.hostNodeName],
    ["group_name", groupName],
  ]);
  const get = sectionGetter(cfg, section, common);
  const priority = toInt(get("priority", section.startsWith("eventlistener:") ? -1 : 999), "priority", errors);
  const numprocs = toInt(get("numprocs", 1), "numprocs", errors);
  const numprocsStart = toInt(get("numprocs_start", 0), "numprocs_start", errors);
  const envGot = get("environment", "", false);
  const envStr = envGot.ok ? String(envGot.value) : "";
  const template = processNameTemplate(get("process_name", "%(program_name)s", false), numprocs, errors);
  const processes: ProcessInfo[] = [];
  if (numprocs === null || numprocsStart === null || template === null || errors.length > 0)
    return { priority, numprocs, numprocsStart, processes, errors };
  for (let num = numprocsStart; num < numprocs + numprocsStart; num++) {
    const p = oneProcess(cfg, section, common, { num, numprocs, envStr, template, groupName }, errors);
    if (p) processes.push(p);
  }
  processes.sort((a, b) => comparePy(a.name, b.name));
  return { priority, numprocs, numprocsStart, processes, errors };
}

function processNameTemplate(r: Got, numprocs: number | null, errors: string[]): string | null {
  const checked = processOrGroupName(r.ok ? String(r.value) : "");
  if (checked.name === null) return (errors.push(checked.error ?? ""), null);
  if ((numprocs ?? 1) > 1 && !checked.name.includes("%(process_num)")) {
    errors.push("%(process_num) must be present within process_name when numprocs > 1");
    return null;
  }
  return checked.name;
}

interface ProcessArgs {
  num: number;
  numprocs: number;
  envStr: string;
  template: string;
  groupName: string;
}

function oneProcess(
  cfg: SupervisorConfig,
  section: string,
  common: Map<string, string | number>,
  a: ProcessArgs,
  errors: string[],
): ProcessInfo | null {
  common.set("process_num", a.num);
  common.set("numprocs", a.numprocs);
  // supervisord updates the dict with the environment again for each process: an ENV_x that the
  // last process's environment= set goes back to the environment's own value.
  for (const k of [...common.keys()]) if (cfg.envExpansions.has(k)) common.delete(k);
  const env = expandValue(a.envStr, withEnv(cfg, common), "environment");
  if (!env.ok) return (errors.push(env.error), null);
  try {
    // [program:x] environment= adds ENV_* for this program's later expansions.
    for (const [k, v] of dictOfKeyValuePairs(env.value)) common.set(`ENV_${k}`, v);
  } catch (e) {
    return (errors.push((e as Error).message), null);
  }
  const stdout = stdoutLogfile(cfg, section, common, errors);
  const command = sectionGetter(cfg, section, common)("command", null);
  if (!command.ok) return (errors.push(command.error), null);
  if (command.value === null) return (errors.push(`program section ${section} does not specify a command`), null);
  const name = expandValue(a.template, withEnv(cfg, common), "process_name");
  if (!name.ok) return (errors.push(name.error), null);
  if (stdout === undefined) return null;
  return {
    group: a.groupName,
    name: name.value,
    namespec: a.groupName === name.value ? name.value : `${a.groupName}:${name.value}`,
    processNum: a.num,
    stdoutLogfile: stdout,
  };
}

/** Whether a directory exists, asked once per directory and config (every process of 1,000 workers shares one log dir). */
function dirExists(cfg: SupervisorConfig, dir: string): boolean {
  let exists = cfg.dirsSeen.get(dir);
  if (exists === undefined) cfg.dirsSeen.set(dir, (exists = cfg.listDir(dir) !== null));
  return exists;
}

/** stdout_logfile: expanded TWICE (saneget, then expand() again), then datatypes.logfile_name. */
function stdoutLogfile(cfg: SupervisorConfig, section: string, common: Expansions, errors: string[]): LogTarget | null | undefined {
  const opt = getOption(cfg.ini, section, "stdout_logfile");
  if (!opt) return { kind: "auto" };
  const once = expandLazily(cfg, opt.value, common, `${section}.stdout_logfile`);
  const twice = once.ok ? expandLazily(cfg, once.value, common, "stdout_logfile") : once;
  if (!twice.ok) return (errors.push(twice.error), undefined);
  const lower = twice.value.toLowerCase();
  if (lower === "none" || lower === "off") return { kind: "none" };
  if (lower === "auto") return { kind: "auto" };
  // The deprecated "syslog" file name means: no file, stdout_syslog=true.
  if (lower === "syslog") return { kind: "syslog" };
  const path = expandUser(twice.value, cfg.home);
  const dir = pySplitPath(path)[0];
  if (dir && !dirExists(cfg, dir)) return (errors.push(`The directory named as part of the path ${twice.value} does not exist`), undefined);
  return isStreamPath(path) ? { kind: "stream", path } : { kind: "file", path };
}

/** /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: a log target that is supervisord's own output, not a file to read back. */
export function isStreamPath(path: string): boolean {
  return /^\/dev\/(stdout|stderr|fd\/\d+)$|^\/proc\/self\/fd\/\d+$/.test(path);
}
