import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { type LogTarget, programsOf } from "../../../src/core/supervisord/processes.js";
import { readSupervisorConfig, type SupervisorConfig } from "../../../src/core/supervisord/read-config.js";
import { memFs } from "../../helpers/memfs.js";

const PYTHON = "/usr/bin/python3";
const SUPERVISOR_SRC = "/usr/lib/python3/dist-packages/supervisor";
const REF = new URL("../../helpers/supervisor_ref.py", import.meta.url).pathname;
const HAVE_SUPERVISOR = existsSync(SUPERVISOR_SRC) && existsSync(PYTHON);

const read = (files: Record<string, string>, env: NodeJS.ProcessEnv = {}): SupervisorConfig => {
  const fs = memFs(files);
  return readSupervisorConfig("/etc/supervisor/supervisord.conf", env, fs.readFile, fs.listDir, { hostNodeName: "web1", cwd: "/" });
};
const MAIN = "/etc/supervisor/supervisord.conf";
const SV = "[supervisord]\n";

const stdoutOf = (cfg: SupervisorConfig): Record<string, LogTarget | null> =>
  Object.fromEntries(programsOf(cfg).flatMap((p) => (p.kind === "group" ? [] : p.processes.map((q) => [q.namespec, q.stdoutLogfile]))));

// One line a case: [what, files (main first), expected namespec -> stdout log].
const includeCases: [string, Record<string, string>, Record<string, LogTarget | null>][] = [
  ["no include", { [MAIN]: `${SV}[program:a]\ncommand=x\n` }, { a: { kind: "auto" } }],
  [
    "files = continued over indented lines",
    {
      [MAIN]: `${SV}[include]\nfiles = conf.d/a.conf\n  conf.d/b.conf\n`,
      "/etc/supervisor/conf.d/a.conf": "[program:a]\ncommand=x\n",
      "/etc/supervisor/conf.d/b.conf": "[program:b]\ncommand=x\n",
    },
    { a: { kind: "auto" }, b: { kind: "auto" } },
  ],
  [
    "%(here)s of the included file",
    { [MAIN]: `${SV}[include]\nfiles=/srv/c/*.conf\n`, "/srv/c/a.conf": "[program:a]\ncommand=x\nstdout_logfile=%(here)s/a.log\n" },
    { a: { kind: "file", path: "/srv/c/a.log" } },
  ],
  [
    "duplicate section across two files merged",
    {
      [MAIN]: `${SV}[include]\nfiles=c/*.conf\n`,
      "/etc/supervisor/c/1.conf": "[program:a]\ncommand=x\nnumprocs=1\n",
      "/etc/supervisor/c/2.conf": "[program:a]\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)s\n",
    },
    { "a:a_0": { kind: "auto" }, "a:a_1": { kind: "auto" } },
  ],
  [
    "numprocs : 3 and NONE",
    { [MAIN]: `${SV}[program:w]\ncommand=x\nnumprocs : 3\nprocess_name=w%(process_num)d\nnumprocs_start=1\nstdout_logfile=NONE\n` },
    { "w:w1": { kind: "none" }, "w:w2": { kind: "none" }, "w:w3": { kind: "none" } },
  ],
  [
    "group puts processes under g",
    {
      [MAIN]: `${SV}[group:g]\nprograms=a, b\n[program:a]\ncommand=x\n[program:b]\ncommand=y\nstdout_logfile=/dev/stdout\n`,
      "/dev/stdout": "",
    },
    { "g:a": { kind: "auto" }, "g:b": { kind: "stream", path: "/dev/stdout" } },
  ],
  [
    "ENV_ from [supervisord] and [program] environment",
    {
      [MAIN]: `[supervisord]\nenvironment=APP="shop"\n[program:a]\ncommand=x\nenvironment=Q=high\nstdout_logfile=/var/log/%(ENV_APP)s-%(ENV_Q)s-%(ENV_USER)s.log\n`,
    },
    { a: { kind: "file", path: "/var/log/shop-high-deploy.log" } },
  ],
  [
    "stdout_logfile expanded twice",
    { [MAIN]: `${SV}[program:a]\ncommand=x\nstdout_logfile=/var/log/%%(program_name)s.log\n` },
    { a: { kind: "file", path: "/var/log/a.log" } },
  ],
  [
    "DEFAULT feeds every program",
    { [MAIN]: `[DEFAULT]\nstdout_logfile=/var/log/%(program_name)s_%(host_node_name)s.log\n${SV}[program:a]\ncommand=x\n` },
    { a: { kind: "file", path: "/var/log/a_web1.log" } },
  ],
];

describe("readSupervisorConfig + programsOf (in memory)", () => {
  it.each(includeCases)("%s", (_what, files, want) => {
    const cfg = read({ ...files, "/var/log/.keep": "", "/srv/c/.keep": "" }, { HOME: "/root", USER: "deploy" });
    expect(cfg.errors).toEqual([]);
    expect(stdoutOf(cfg)).toEqual(want);
  });

  it("reports files read, absolute patterns, warnings and each section's file", () => {
    const cfg = read(
      {
        [MAIN]: `${SV}[include]\nfiles = conf.d/*.conf none/*.ini %(ENV_X)s.conf\n[program:a]\ncommand=x\n`,
        "/etc/supervisor/conf.d/b.conf": "[program:b]\ncommand=x\n[program:a]\nnumprocs=1\n",
        "/etc/supervisor/conf.d/.hidden.conf": "[program:h]\ncommand=x\n",
        "/etc/supervisor/y.conf": "[program:y]\ncommand=x\n",
      },
      { X: "y" },
    );
    expect(cfg.files).toEqual([MAIN, "/etc/supervisor/conf.d/b.conf", "/etc/supervisor/y.conf"]);
    expect(cfg.includePatterns).toEqual(["/etc/supervisor/conf.d/*.conf", "/etc/supervisor/none/*.ini", "/etc/supervisor/y.conf"]);
    expect(cfg.warnings).toEqual(['No file matches via include "/etc/supervisor/none/*.ini"']);
    expect(Object.fromEntries(programsOf(cfg).map((p) => [p.name, p.file]))).toEqual({
      a: MAIN,
      b: "/etc/supervisor/conf.d/b.conf",
      y: "/etc/supervisor/y.conf",
    });
  });

  it("reports what supervisord would refuse", () => {
    const cfg = read({
      [MAIN]: `${SV}[program:a]\ncommand=x\nnumprocs=2\n[program:b]\nprocess_name=%(nope)s\ncommand=x\n[group:g]\nprograms=zz\n`,
    });
    const errors = Object.fromEntries(programsOf(cfg).map((p) => [p.section, p.errors.join(" | ")]));
    expect(errors["program:a"]).toContain("%(process_num) must be present");
    expect(errors["program:b"]).toContain("cannot be expanded");
    expect(errors["group:g"]).toContain("names unknown program");
    expect(read({ [MAIN]: "[include]\n" }).errors).toContain(".ini file has [include] section, but no files setting");
  });
});

// Real files, and the reference: each case is a directory tree written under a temp dir.
const tmpRoot = mkdtempSync(path.join(tmpdir(), "vexo-svcfg-"));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

type DiffCase = [string, Record<string, string>];
const diffCases: DiffCase[] = [
  ["basic", { "s.conf": `${SV}[program:a]\ncommand=x\n` }],
  [
    "include, continued files, hidden and sorted",
    {
      "s.conf": `${SV}[include]\nfiles = c/*.conf\n  d/[ab]?.conf\n`,
      "c/b.conf": "[program:b]\ncommand=x\n",
      "c/a.conf": "[program:a]\ncommand=x\n",
      "c/.h.conf": "[program:h]\ncommand=x\n",
      "d/a1.conf": "[program:d]\ncommand=x\n",
      "d/c1.conf": "[program:e]\ncommand=x\n",
    },
  ],
  [
    "here in main and included",
    {
      "s.conf": `${SV}[include]\nfiles=c/*.conf\n[program:m]\ncommand=x\nstdout_logfile=%(here)s/logs/m.log\n`,
      "c/a.conf": "[program:a]\ncommand=x\nstdout_logfile=%(here)s/a.log\n",
      "logs/.keep": "",
    },
  ],
  [
    "merged across files",
    {
      "s.conf": `${SV}[include]\nfiles=c/*.conf\n`,
      "c/1.conf": "[program:a]\ncommand=x\n",
      "c/2.conf": "[program:a]\nnumprocs=3\nprocess_name=%(program_name)s_%(process_num)02d\nnumprocs_start=8\n",
    },
  ],
  [
    "groups and priorities",
    {
      "s.conf": `${SV}[group:g]\nprograms=b,a\npriority=5\n[program:a]\ncommand=x\npriority=7\n[program:b]\ncommand=x\npriority=3\nnumprocs=2\nprocess_name=b%(process_num)s\n[program:c]\ncommand=x\n`,
    },
  ],
  [
    "logfile forms",
    {
      "s.conf": `${SV}[program:a]\ncommand=x\nstdout_logfile=AUTO\n[program:b]\ncommand=x\nstdout_logfile=none\n[program:c]\ncommand=x\nstdout_logfile=/dev/stdout\n[program:d]\ncommand=x\nstdout_logfile=%(here)s/%(group_name)s-%%(process_num)s.log ; c\n`,
    },
  ],
  [
    "environment expansions",
    {
      "s.conf": `[supervisord]\nenvironment=A="1,2"\n[program:a]\ncommand=x\nenvironment=B=b%(process_num)s\nnumprocs=2\nprocess_name=%(ENV_A)s_%(ENV_B)s_%(ENV_VEXO_T)s_%(process_num)d\n`,
    },
  ],
  [
    // Each process starts from the environment again: ENV_VEXO_T set by the last process's environment= does not carry over.
    "environment= overriding an environment variable, per process",
    {
      "s.conf": `${SV}[program:a]\ncommand=x\nenvironment=VEXO_T=p%(process_num)s,C=%(ENV_VEXO_T)s\nnumprocs=3\nprocess_name=%(ENV_VEXO_T)s_%(ENV_C)s_%(process_num)d\nstdout_logfile=/tmp/%(ENV_C)s-%(ENV_VEXO_T)s-%(process_num)d.log\n`,
    },
  ],
  ["CRLF and comments", { "s.conf": `${SV}\r\n[program:x]   ; comment\r\ncommand = a;b\r\nstdout_logfile = %(here)s/x.log #c\r\n` }],
  [
    "DEFAULT with here",
    {
      "s.conf": `[DEFAULT]\nstdout_logfile=%(here)s/%(program_name)s.log\n${SV}[include]\nfiles=c/*.conf\n`,
      "c/a.conf": "[program:a]\ncommand=x\n",
    },
  ],
  ["no match warning", { "s.conf": `${SV}[include]\nfiles=nothing/*.conf\n` }],
  ["bad process name", { "s.conf": `${SV}[program:a]\ncommand=x\nnumprocs=2\n` }],
  ["percent and upper-case keys", { "s.conf": `${SV}[program:a]\nCOMMAND=x\nSTDOUT_LOGFILE=%(here)s/100%%%%.log\nProcess_Name=a%%%%\n` }],
  ["eventlistener", { "s.conf": `${SV}[eventlistener:ev]\ncommand=x\nevents=TICK_60\n` }],
];

function writeCase(name: string, files: Record<string, string>): string {
  const dir = path.join(tmpRoot, name.replace(/\W+/g, "_"));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return path.join(dir, "s.conf");
}

/** The TS result in the reference's shape (groups sorted as supervisord sorts them). */
function asReference(main: string, env: NodeJS.ProcessEnv): unknown {
  const cfg = readSupervisorConfig(main, env, undefined, undefined, { hostNodeName: hostname() });
  const programs = programsOf(cfg);
  const errors = [...cfg.errors, ...programs.flatMap((p) => p.errors)];
  if (errors.length > 0) return { error: true };
  const log = (t: LogTarget | null): string =>
    t === null || t.kind === "none" || t.kind === "syslog" ? "NONE" : t.kind === "auto" ? "AUTO" : `FILE:${t.path}`;
  const groups = new Map<string, { prio: number; procs: unknown[] }>();
  for (const p of programs) {
    if (p.kind !== "group" && p.groups.length > 0) continue;
    const procs = p.processes.map((q) => [q.name, log(q.stdoutLogfile), q.stdoutLogfile?.kind === "syslog"]);
    groups.set(p.name, { prio: p.priority ?? 999, procs });
  }
  const sorted = [...groups].sort((a, b) => a[1].prio - b[1].prio || (a[0] < b[0] ? -1 : 1));
  const infos = cfg.files.slice(1).map((f) => `Included extra file "${f}" during parsing`);
  return { groups: sorted.map(([name, g]) => [name, g.procs]), infos, warnings: cfg.warnings };
}

const DIFF_TITLE = HAVE_SUPERVISOR
  ? "differential against supervisor's ServerOptions"
  : `differential against supervisor's ServerOptions: SKIPPED, ${SUPERVISOR_SRC} or ${PYTHON} is missing`;

describe.skipIf(!HAVE_SUPERVISOR)(DIFF_TITLE, () => {
  it("agrees on groups, process names, stdout logs, included files and warnings", async () => {
    const env = { HOME: "/root", VEXO_T: "t1", PATH: "/usr/bin:/bin" };
    const mains = diffCases.map(([name, files]) => writeCase(name, files));
    const { stdout } = await execa(PYTHON, [REF], {
      input: JSON.stringify({ mode: "config", cases: mains.map((main) => ({ main, env })) }),
      env: { PYTHONIOENCODING: "utf-8" },
    });
    const ref = (JSON.parse(stdout) as Record<string, unknown>[]).map((r) => ("error" in r ? { error: true } : r));
    const mismatches = mains
      .map((main, i) => ({ main, want: ref[i], got: asReference(main, env) }))
      .filter((m) => JSON.stringify(m.want) !== JSON.stringify(m.got));
    expect(mismatches).toEqual([]);
    // Only "bad process name" is meant to be refused: the others must compare real results.
    expect(ref.flatMap((r, i) => ("error" in r ? [diffCases[i]?.[0]] : []))).toEqual(["bad process name"]);
  });
});
