import fs from "node:fs";
import { Command, type ParseOptionsResult } from "commander";
import type { Output } from "../output.js";
import type { SupervisorIO } from "../core/ctl-io.js";
import type { SupervisordClient } from "../core/supervisorctl.js";
import type { GlobalOptions } from "./globals.js";
import type * as Validation from "./validate.js";

// What a command is: one module under commands/ exports a CommandDef. program.ts wires it into
// commander; main.ts prints its result and exits. Commands never print or exit themselves.

/** Examples of a command, kept where --help, the reference and the man page all find them. */
export const EXAMPLES = new WeakMap<Command, string[]>();

/** commander's Command, plus examples: shown in --help, and in the generated reference. */
export class VexoCommand extends Command {
  examples(...examples: string[]): this {
    EXAMPLES.set(this, examples);
    return this.addHelpText("after", `\nExample${examples.length > 1 ? "s" : ""}:\n${examples.map((e) => `  ${e}`).join("\n")}`);
  }

  override createCommand(name?: string): VexoCommand {
    return new VexoCommand(name);
  }

  /**
   * commander checks required options before unknown ones, so `worker add --nmae x` said
   * "--name not specified" and never "did you mean --name?". A command without subcommands
   * reports its first unknown option here, first (help still wins, as in commander).
   */
  override parseOptions(argv: string[]): ParseOptionsResult {
    const parsed = super.parseOptions(argv);
    const first = parsed.unknown[0];
    const help = (this as unknown as { _getHelpOption(): { is(a: string): boolean } | null })._getHelpOption();
    if (this.commands.length === 0 && first?.startsWith("-") && !parsed.unknown.some((a) => help?.is(a))) {
      (this as unknown as { unknownOption(flag: string): void }).unknownOption(first);
    }
    return parsed;
  }
}

/** What commander parsed, before validation. */
export interface RawInput {
  args: unknown[];
  opts: Record<string, unknown>;
  globals: GlobalOptions;
  /** The flag (or argument) a field of the input comes from: `maxTime` -> `--max-time`. */
  flagOf(field: string): string;
}

/** What a running command may use besides its input. */
export interface RunContext {
  globals: GlobalOptions;
  /** The whole command tree (for the completion generator). */
  program: VexoCommand;
  /** supervisorctl for the layout of the global options, through the session's IO seam. */
  supervisor(): Promise<SupervisordClient>;
  /** A line of progress on a terminal (dropped with --json or --quiet, or off a terminal). */
  progress(msg: string): void;
  /** A warning: stderr, or the document's `warnings` with --json. */
  warn(msg: string): void;
  /**
   * For streaming commands (logs -f): writes one line of output at once. A promise when the
   * reader is behind: wait for it before writing more, so memory stays bounded.
   */
  emit(line: string): Promise<void> | undefined;
  /** Aborted by SIGINT/SIGTERM, for commands that run until interrupted. */
  signal: AbortSignal;
}

export type Validate = typeof Validation;

export interface CommandDef<I = unknown, R extends object = object> {
  /** The words after `vexo-sv`: "worker add". */
  path: string;
  description: string;
  examples: string[];
  hidden?: boolean;
  /** Arguments and options, on the commander command. */
  define?(cmd: VexoCommand): void;
  /** argv -> typed input: the one place this command's flags are checked. zod loads only through `validate`. */
  input(raw: RawInput, validate: () => Promise<Validate>): I | Promise<I>;
  run(input: I, ctx: RunContext): Promise<R>;
  /** The result for a person (the JSON document is the result itself). */
  render(result: R, out: Output, input: I): void;
  /** The exit code of a successful run (default 0). */
  exitCode?(result: R, input: I): number;
  /** True when run() already wrote its output line by line (logs -f): no document follows. */
  streams?(input: I): boolean;
}

/** Identity, for inference: `export default defineCommand({...})` types input and result from run(). */
export function defineCommand<I, R extends object>(def: CommandDef<I, R>): CommandDef<I, R> {
  return def;
}

/** The layout part of the global options, as the core takes it. */
export function layoutOf(g: GlobalOptions) {
  return { config: g.config, confDir: g.confDir, logDir: g.logDir };
}

/** commander's collector for a repeatable flag. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Supervisor for the global options; the core loads here, on first use. */
export async function openSupervisor(globals: GlobalOptions, io: SupervisorIO | undefined): Promise<SupervisordClient> {
  const [{ World }, { SupervisordClient }, { realIO }, { realMachine }] = await Promise.all([
    import("../core/world.js"),
    import("../core/supervisorctl.js"),
    import("../core/ctl-io.js"),
    import("../core/machine.js"),
  ]);
  // The command's one reading of the world: the main config read once, for the layout and for the config reader.
  const world = World.read(layoutOf(globals));
  return new SupervisordClient(world.layout, io ?? realIO, realMachine, world);
}

/** How vexo-sv runs now: this node and this script (links resolved): the alerts listener's command line, and what install --prefix takes for it. */
export function selfArgv(): string[] {
  const script = process.argv[1] ?? "";
  return [process.execPath, fs.existsSync(script) ? fs.realpathSync(script) : script];
}
