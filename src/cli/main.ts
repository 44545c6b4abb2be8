import { GLOBAL_VALUE_FLAGS } from "./globals.js";
import { CommanderError } from "commander";
import { VexoError } from "../errors.js";
import { createOutput, errorDocument, jsonLine, type Output, successDocument } from "../output.js";
import type { SupervisorIO } from "../core/ctl-io.js";
import { outputFlags, restAsOperands } from "./globals.js";
import { hintFor } from "./hints.js";
import { buildProgram, type Session } from "./program.js";
import type { VexoCommand } from "./command.js";

/**
 * argv -> program -> result -> output -> exit code. The one error boundary and the only place
 * that decides how the process ends; every command returns a result or throws.
 */
export async function main(args: string[], io?: SupervisorIO): Promise<number> {
  const argv = restAsOperands(args);
  const flags = outputFlags(argv);
  const out = createOutput(flags);
  const stop = new AbortController();
  const session: Session = { out, io, signal: stop.signal };
  // Ctrl-C (or a TERM from a script) ends a follow normally: exit 0.
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  const program = buildProgram(session);
  const usageErrors: string[] = [];
  let helpText = "";
  routeOutput(program, flags.json, usageErrors, (s) => (helpText += s));
  try {
    await program.parseAsync(helpAsFlag(argv), { from: "user" });
  } catch (e) {
    if (flags.json && e instanceof CommanderError && (e.code === "commander.helpDisplayed" || e.code === "commander.version")) {
      const doc = e.code === "commander.version" ? { version: helpText.trim() } : { help: helpText };
      out.raw(`${jsonLine(successDocument(doc, []))}\n`);
      return 0;
    }
    return fail(e, usageErrors, session);
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  }
  const inv = session.invocation;
  if (!inv || inv.result === undefined || inv.def.streams?.(inv.input)) return 0;
  if (flags.json) out.raw(`${jsonLine(successDocument(inv.result, out.warnings))}\n`);
  else inv.def.render(inv.result, out, inv.input);
  return inv.def.exitCode?.(inv.result, inv.input) ?? 0;
}

/**
 * `vexo-sv help worker add` as `vexo-sv worker add --help`, as git and npm read it (commander's
 * own help command takes one word, and showed the `worker` group's help).
 */
export function helpAsFlag(argv: string[]): string[] {
  let i = 0;
  while (i < argv.length && (argv[i] as string).startsWith("-")) i += GLOBAL_VALUE_FLAGS.includes(argv[i] as string) ? 2 : 1;
  return argv[i] === "help" ? [...argv.slice(0, i), ...argv.slice(i + 1), "--help"] : argv;
}

/** Help and version text to stdout (into the one document under --json); usage errors collected. */
function routeOutput(program: VexoCommand, json: boolean, usageErrors: string[], keep: (s: string) => void): void {
  const config = {
    writeOut: (s: string) => (json ? keep(s) : process.stdout.write(s)),
    writeErr: (s: string) => {
      if (!json) process.stderr.write(s);
    },
    outputError: (s: string) => usageErrors.push(s.trim()),
  };
  const apply = (c: import("commander").Command) => {
    c.configureOutput(config);
    for (const sub of c.commands) apply(sub);
  };
  apply(program);
}

/** Any failure as a VexoError with the flag named and a hint that names the real command. */
function toVexoError(e: unknown, usageErrors: string[], session: Session): VexoError {
  const inv = session.invocation;
  const command = inv?.def.path ?? "";
  if (e instanceof CommanderError) {
    // "commander.help": a group without its subcommand (`vexo-sv worker`); the help went to stderr.
    const msg = e.code === "commander.help" ? "a command is missing" : (usageErrors[0] ?? e.message).replace(/^error:\s*/u, "");
    return new VexoError("usage", msg, { hint: hintFor(new VexoError("usage", msg), { command }) });
  }
  if (!(e instanceof VexoError)) {
    if (process.env.VEXO_SV_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return new VexoError("internal", `unexpected failure: ${e instanceof Error ? e.message : String(e)}`);
  }
  const field = e.code === "invalid_input" ? String(e.details?.field ?? "") : "";
  const flag = field && inv ? inv.flagOf(field) : undefined;
  const message = flag ? `${flag}: ${e.message}` : e.message;
  const details = flag ? { ...e.details, flag } : e.details;
  const hint = hintFor(e, { command, flag });
  return new VexoError(e.code, message, { hint, ...(details ? { details } : {}) });
}

function fail(e: unknown, usageErrors: string[], session: Session): number {
  if (e instanceof CommanderError && (e.code === "commander.helpDisplayed" || e.code === "commander.version")) return 0;
  const err = toVexoError(e, usageErrors, session);
  const out: Output = session.out;
  if (out.json) out.raw(`${jsonLine(errorDocument(err))}\n`);
  else out.error(err.message, err.hint);
  return err.exitCode;
}
