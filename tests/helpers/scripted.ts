import fs from "node:fs";
import path from "node:path";
import { vi } from "vitest";
import { VexoError } from "../../src/errors.js";
import type { Layout, Server } from "../../src/core/layout.js";
import { parseServerUrl } from "../../src/core/layout.js";
import type { Machine, PathStat } from "../../src/core/machine.js";
import type { ProcessGroup } from "../../src/core/programs.js";
import type { ProcessStatus } from "../../src/core/results.js";
import type { ProcStat } from "../../src/core/procstat.js";
import { renderProgram } from "../../src/core/program-file.js";
import { type WorkerSpecInput, workerSpecSchema } from "../../src/core/spec.js";
import type { CtlResult, CtlVia, SupervisorIO } from "../../src/core/ctl-io.js";
import { parseStatus, SupervisordClient } from "../../src/core/supervisorctl.js";
import { tempDir } from "./tmp.js";

/**
 * A supervisorctl seam scripted by the test: `answer` gets each call's argv and returns what
 * supervisorctl would print. Time is virtual: sleep advances the clock at once, so waits of
 * minutes take no time and a test never depends on the machine's speed.
 */
export class ScriptedIO implements SupervisorIO {
  calls: string[][] = [];
  clock = 0;
  slept = 0;
  /** Whether supervisord's socket answers: always, never, or as the function says at each probe (from virtual time, a file...). */
  reachable: boolean | ((io: ScriptedIO) => boolean) = true;
  /** Probes of the socket made (connect calls). */
  probes = 0;
  /** For answers that write logs as supervisord would. */
  logDir = "";
  /** Where each call was sent when not by `-c CONFIG` alone (endpoint.ts), in call order; undefined for `-c CONFIG`. */
  vias: (CtlVia | undefined)[] = [];
  /** The server each probe connected to. */
  servers: Server[] = [];

  constructor(public answer: (args: string[], io: ScriptedIO) => string | CtlResult) {}

  async run(_config: string, args: string[], via?: CtlVia): Promise<CtlResult> {
    this.calls.push(args);
    this.vias.push(via);
    const a = this.answer(args, this);
    return typeof a === "string" ? { exitCode: 0, output: a } : a;
  }

  async connect(server: Server): Promise<void> {
    this.probes++;
    this.servers.push(server);
    const up = typeof this.reachable === "function" ? this.reachable(this) : this.reachable;
    if (!up) throw new Error("no socket file");
  }

  async sleep(ms: number): Promise<void> {
    this.clock += ms;
    this.slept += ms;
  }

  now(): number {
    return this.clock;
  }

  /** The verbs of the calls made, e.g. ["status", "signal"]. */
  verbs(): string[] {
    return this.calls.map((c) => c[0] as string);
  }
}

/**
 * A machine scripted by the test (the `Machine` seam): its users, supervisord's uid and PATH, the
 * files that are there and those that may be run, and /proc (`procs`: a pid not in it has gone).
 * Every lookup is recorded, so a test can show that nothing read the real machine.
 */
export class ScriptedMachine implements Machine {
  users = new Map<string, number>([["root", 0]]);
  svUid: number | null = 0;
  pathVar = "/usr/local/bin:/usr/bin:/bin";
  files = new Set<string>();
  executables = new Set<string>();
  procs = new Map<number, ProcStat>();
  lookups: string[] = [];

  async userUid(name: string): Promise<number | null> {
    this.lookups.push(`user ${name}`);
    return this.users.get(name) ?? null;
  }

  supervisordUid(): number | null {
    this.lookups.push("supervisord uid");
    return this.svUid;
  }

  supervisordPathVar(): string {
    this.lookups.push("supervisord PATH");
    return this.pathVar;
  }

  isExecutable(file: string): boolean {
    this.lookups.push(`executable ${file}`);
    return this.executables.has(file);
  }

  isFile(file: string): boolean {
    this.lookups.push(`file ${file}`);
    return this.files.has(file);
  }

  /** Directories set here, else implied (0755, root's) by any file below them. */
  dirs = new Map<string, { mode: number; uid: number; gid: number }>();

  statPath(p: string): PathStat | null {
    const set = this.dirs.get(p);
    if (set) return { isDirectory: true, ...set };
    if (this.files.has(p) || this.executables.has(p)) return { isDirectory: false, mode: 0o755, uid: 0, gid: 0 };
    const below = (f: string) => p === "/" || f.startsWith(`${p}/`);
    return [...this.files, ...this.executables].some(below) ? { isDirectory: true, mode: 0o755, uid: 0, gid: 0 } : null;
  }

  procStats(pids: readonly number[]): Map<number, ProcStat | null> {
    this.lookups.push(`proc ${pids.join(" ")}`);
    return new Map(pids.map((pid) => [pid, this.procs.get(pid) ?? null]));
  }

  /** A process as /proc would show it: running in `cwd` (null: a directory this user cannot see). */
  proc(pid: number, cwd: string | null): this {
    this.procs.set(pid, { pid, rssBytes: 1 << 20, cpuSeconds: 0.1, startTime: 1_700_000_000, cwd });
    return this;
  }
}

/** A layout in a fresh temp directory with the given managed workers written as program files; `machine`: a scripted one (else the real machine). */
export function fakeSupervisor(io: ScriptedIO, workers: WorkerSpecInput[] = [], machine?: Machine): SupervisordClient {
  const dir = tempDir("vx-unit-");
  const confDir = path.join(dir, "conf.d");
  const logDir = path.join(dir, "logs");
  fs.mkdirSync(confDir);
  fs.mkdirSync(logDir);
  for (const w of workers) {
    const spec = workerSpecSchema.parse({ user: null, ...w });
    fs.writeFileSync(path.join(confDir, `${spec.name}.conf`), renderProgram(spec, logDir));
  }
  // The main config, read as supervisord reads it (readPrograms follows its [include]).
  fs.writeFileSync(path.join(dir, "supervisord.conf"), `[supervisord]\n[include]\nfiles = conf.d/*.conf\n`);
  const layout: Layout = {
    config: path.join(dir, "supervisord.conf"),
    confDir,
    ext: ".conf",
    includeGlobs: [path.join(confDir, "*.conf")],
    logDir,
    childLogDir: logDir,
    serverUrl: `unix://${dir}/supervisor.sock`,
    server: parseServerUrl(`unix://${dir}/supervisor.sock`),
    pidfile: path.join(dir, "supervisord.pid"),
    supervisordLog: path.join(dir, "supervisord.log"),
  };
  return new SupervisordClient(layout, io, machine);
}

/** A `supervisorctl status` line as supervisord 4.2 pads it. */
export function statusLine(fullName: string, state: string, detail = ""): string {
  return `${fullName.padEnd(33)}${state.padEnd(10)}${detail}`.trimEnd();
}

export const running = (fullName: string, pid: number) => statusLine(fullName, "RUNNING", `pid ${pid}, uptime 0:00:05`);

/** The one process a status line describes, as parseStatus gives it. */
export const processStatus = (line: string): ProcessStatus => parseStatus(line)[0] as ProcessStatus;

/** A program as readPrograms gives it: a managed worker's processes are NAME:NAME_00..., a hand-written single one is NAME. */
export const processGroup = (name: string, managed = true, numprocs = 1): ProcessGroup => {
  const processes = Array.from({ length: numprocs }, (_, i) => {
    const proc = managed ? `${name}_${String(i).padStart(2, "0")}` : name;
    return { group: name, namespec: managed ? `${name}:${proc}` : proc, name: proc, processNum: i, stdoutLogfile: null };
  });
  return { name, kind: "program", file: `/x/${name}.conf`, files: [`/x/${name}.conf`], managed, numprocs, processes, spec: null, logs: [] };
};

/** The VexoError a call is refused with (a promise, or a function that throws); any other outcome fails the test. */
export async function refusal(p: Promise<unknown> | (() => unknown)): Promise<VexoError> {
  const e = await (typeof p === "function" ? Promise.resolve().then(p) : p).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof VexoError)) throw new Error(`expected a VexoError, got ${String(e)}`);
  return e;
}

/** How the fake supervisord was run: its argv, its environment (NAME=value lines), its working directory. */
export interface FakeRun {
  args: string[];
  env: string[];
  cwd: string;
}

/**
 * A `supervisord` alone on PATH (vi.stubEnv: the test file unstubs it): a shell script that writes
 * how it was run to `ranFile`, then runs `then` (`exit 1`, `echo Error: ...; exit 2`, ...).
 * `ran()` reads what it wrote, or null when it never ran.
 */
export function fakeSupervisordOnPath(then = "exit 0"): { ranFile: string; ran: () => FakeRun | null } {
  const dir = tempDir("vx-bin-");
  const ranFile = path.join(dir, "ran");
  const script = `#!/bin/sh\n{ printf '%s\\n' "$@"; echo --; env; echo --; pwd; } > '${ranFile}'\n${then}\n`;
  fs.writeFileSync(path.join(dir, "supervisord"), script, { mode: 0o755 });
  vi.stubEnv("PATH", dir);
  const ran = (): FakeRun | null => {
    if (!fs.existsSync(ranFile)) return null;
    const lines = fs.readFileSync(ranFile, "utf8").trimEnd().split("\n");
    const [first, second] = [lines.indexOf("--"), lines.lastIndexOf("--")];
    return { args: lines.slice(0, first), env: lines.slice(first + 1, second), cwd: lines[second + 1] as string };
  };
  return { ranFile, ran };
}
