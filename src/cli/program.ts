import { Option } from "commander";
import type { SupervisorIO } from "../core/ctl-io.js";
import type { SupervisordClient } from "../core/supervisorctl.js";
import { createOutput, type Output } from "../output.js";
import { type CommandDef, openSupervisor, type RawInput, VexoCommand } from "./command.js";
import alertsDisable from "./commands/alerts-disable.js";
import alertsEnable from "./commands/alerts-enable.js";
import alertsListen from "./commands/alerts-listen.js";
import alertsStatus from "./commands/alerts-status.js";
import alertsTest from "./commands/alerts-test.js";
import apply from "./commands/apply.js";
import completion from "./commands/completion.js";
import completeWorkers from "./commands/complete-workers.js";
import install from "./commands/install.js";
import logs from "./commands/logs.js";
import shutdown from "./commands/shutdown.js";
import status from "./commands/status.js";
import workerAdd from "./commands/worker-add.js";
import { controlCommands } from "./commands/worker-control.js";
import workerLs from "./commands/worker-ls.js";
import workerRm from "./commands/worker-rm.js";
import workerShow from "./commands/worker-show.js";
import { GLOBAL_OPTIONS, type GlobalOptions } from "./globals.js";

declare const __VERSION__: string;
export const VERSION = typeof __VERSION__ === "string" ? __VERSION__ : "0.0.0-dev";

/** Every command, in the order --help lists them. */
export const COMMANDS: CommandDef<any, any>[] = [
  workerAdd,
  workerRm,
  workerLs,
  workerShow,
  ...controlCommands,
  apply,
  install,
  shutdown,
  logs,
  status,
  alertsEnable,
  alertsDisable,
  alertsStatus,
  alertsTest,
  alertsListen,
  completion,
  completeWorkers,
];

/** Commands that only group others. */
const GROUPS: Record<string, { description: string; examples: string[] }> = {
  worker: {
    description: "add, remove, list and control queue workers",
    examples: ["vexo-sv worker add --name app-queue --path /var/www/app", "vexo-sv worker restart app-queue --graceful"],
  },
  alerts: {
    description: "tell someone when a worker fails, and heal FATAL workers (supervisord's event listener)",
    examples: ["vexo-sv alerts enable --heal --exec /usr/local/bin/vexo-alert-slack", "vexo-sv alerts status"],
  },
};

/** What one run of the program did: the command, its input and its result, for main to print. */
export interface Invocation {
  def: CommandDef<any, any>;
  flagOf: (field: string) => string;
  input?: unknown;
  result?: object;
}

/** What a run of the program is given and what it leaves: main reads `invocation` after parsing. */
export interface Session {
  out: Output;
  /** The supervisorctl seam; the real one unless the entry started calls early (or a test scripts it). */
  io?: SupervisorIO;
  signal?: AbortSignal;
  invocation?: Invocation;
  /** The command's supervisord, once it asked for it (its world names the workers there are, for a "did you mean"). */
  sv?: SupervisordClient;
  /** The command's words as argv named them (`worker add`), for usage errors found before it runs. */
  words?: string[];
}

/** Maps an input field to the flag or argument it came from, for error messages. */
export function flagMapper(cmd: VexoCommand): (field: string) => string {
  return (field) => {
    const all = [...cmd.options, ...(cmd.parent?.options ?? []), ...(cmd.parent?.parent?.options ?? [])];
    const opt = all.find((o) => o.attributeName() === field);
    if (opt?.long) return opt.long;
    const arg = cmd.registeredArguments.find((a) => a.name() === field);
    return arg ? arg.name().toUpperCase() : field;
  };
}

function wire(program: VexoCommand, def: CommandDef<any, any>, session: Session): void {
  const words = def.path.split(" ");
  let parent = program;
  for (const w of words.slice(0, -1)) {
    parent = (parent.commands.find((c) => c.name() === w) as VexoCommand | undefined) ?? addGroup(parent, w);
  }
  const cmd = parent.command(words.at(-1) as string, { hidden: Boolean(def.hidden) }).description(def.description);
  if (def.examples.length) cmd.examples(...def.examples);
  def.define?.(cmd);
  cmd.action(async (...argv: unknown[]) => {
    const args = argv.slice(0, cmd.registeredArguments.length);
    const inv: Invocation = { def, flagOf: flagMapper(cmd) };
    session.invocation = inv;
    const globals = globalsOf(cmd);
    const raw: RawInput = { args, opts: cmd.opts(), globals, flagOf: inv.flagOf };
    inv.input = await def.input(raw, () => import("./validate.js"));
    inv.result = await def.run(inv.input, {
      globals,
      program,
      supervisor: async () => (session.sv ??= await openSupervisor(globals, session.io)),
      progress: (m) => session.out.progress(m),
      warn: (m) => session.out.warn(m),
      emit: (line) => session.out.stream(`${line}\n`),
      signal: session.signal ?? new AbortController().signal,
    });
  });
}

function addGroup(parent: VexoCommand, name: string): VexoCommand {
  const g = GROUPS[name];
  const cmd = parent.command(name).description(g?.description ?? name);
  if (g?.examples.length) cmd.examples(...g.examples);
  return cmd;
}

function globalsOf(cmd: VexoCommand): GlobalOptions {
  const g = cmd.optsWithGlobals() as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    config: str(g.config),
    confDir: str(g.confDir),
    logDir: str(g.logDir),
    json: Boolean(g.json),
    quiet: Boolean(g.quiet),
    color: g.color !== false,
  };
}

/** Builds the whole command tree. Tests and the docs generator call it with no session at all. */
export function buildProgram(session: Session = { out: createOutput({ json: false, quiet: true, color: false }) }): VexoCommand {
  const program = new VexoCommand("vexo-sv")
    .description("Manage Laravel queue workers under Supervisor")
    .examples("vexo-sv worker add --name app-queue --path /var/www/app --procs 3", "vexo-sv worker ls", "vexo-sv status --check")
    .version(VERSION, "-V, --version")
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  for (const o of GLOBAL_OPTIONS) {
    const opt = new Option(o.flags, o.description);
    program.addOption(o.env ? opt.env(o.env) : opt);
  }
  for (const def of COMMANDS) wire(program, def, session);
  return program;
}

/** The command at a path ("worker add") of a built program. */
export function findCommand(program: VexoCommand, commandPath: string): VexoCommand {
  let cmd: VexoCommand | undefined = program;
  for (const w of commandPath.split(" ")) cmd = cmd?.commands.find((c) => c.name() === w) as VexoCommand | undefined;
  if (!cmd) throw new Error(`no command ${commandPath}`);
  return cmd;
}
