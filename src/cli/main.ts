import { CommanderError } from "commander";
import { EXIT, VexoError } from "../errors.js";
import { createOutput, errorDocument, successDocument } from "../output.js";
import type { Ctx } from "./context.js";
import { buildProgram } from "./program.js";

/**
 * argv -> program -> result -> output -> exit code. The only place that decides how the
 * process ends; every command throws or returns.
 */
export async function main(argv: string[]): Promise<number> {
  // --json must be known before commander has parsed (a parse error is also printed as JSON).
  const json = argv.includes("--json");
  const quiet = argv.includes("-q") || argv.includes("--quiet");
  const color = !argv.includes("--no-color");
  const out = createOutput({ json, quiet, color });
  const ctx: Ctx = { out, globals: { json, quiet, color } };
  const program = buildProgram(ctx);
  const usageErrors: string[] = [];
  // Under --json, help and version text go into the one document instead of stdout.
  let helpText = "";
  program.configureOutput({
    writeOut: (s) => {
      if (json) helpText += s;
      else process.stdout.write(s);
    },
    writeErr: (s) => {
      if (!json) process.stderr.write(s);
    },
    outputError: (s) => usageErrors.push(s.trim()),
  });
  for (const c of program.commands) inheritOutput(c, program);
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (json && e instanceof CommanderError && (e.code === "commander.helpDisplayed" || e.code === "commander.version")) {
      const doc = e.code === "commander.version" ? { version: helpText.trim() } : { help: helpText };
      process.stdout.write(`${JSON.stringify(successDocument(doc, []))}\n`);
      return EXIT.ok;
    }
    return fail(e, usageErrors, ctx);
  }
  const r = ctx.result;
  if (!r) return EXIT.ok;
  if (json) process.stdout.write(`${JSON.stringify(successDocument(r.data, out.warnings))}\n`);
  else r.human?.(out);
  return r.exitCode ?? EXIT.ok;
}

function inheritOutput(cmd: import("commander").Command, root: import("commander").Command): void {
  cmd.configureOutput(root.configureOutput());
  for (const c of cmd.commands) inheritOutput(c, root);
}

function fail(e: unknown, usageErrors: string[], ctx: Ctx): number {
  const { out } = ctx;
  let err: VexoError;
  if (e instanceof CommanderError) {
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return EXIT.ok;
    // "commander.help": a group without its subcommand (`vexo-sv worker`); the help went to stderr.
    const msg = e.code === "commander.help" ? "a command is missing" : (usageErrors[0] ?? e.message).replace(/^error:\s*/u, "");
    err = new VexoError("usage", msg, { hint: "see `vexo-sv --help` (or `vexo-sv COMMAND --help`)" });
  } else if (e instanceof VexoError) {
    err = e;
  } else {
    const m = e instanceof Error ? e.message : String(e);
    err = new VexoError("internal", `unexpected failure: ${m}`, {
      hint: "this is a bug in vexo-sv; please report it with the command you ran",
    });
    if (process.env.VEXO_SV_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  }
  if (out.json) {
    process.stdout.write(`${JSON.stringify(errorDocument(err))}\n`);
  } else {
    const c = out.colors;
    process.stderr.write(`${c.red("error:")} ${err.message}\n`);
    if (err.hint) process.stderr.write(`${c.dim("hint:")} ${err.hint}\n`);
  }
  return err.exitCode;
}
