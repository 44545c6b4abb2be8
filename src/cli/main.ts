import { GLOBAL_VALUE_FLAGS } from "./globals.js";
import { CommanderError } from "commander";
import { VexoError } from "../errors.js";
import { jsonLine } from "../core/json-line.js";
import { createOutput, errorDocument, type Output, successDocument } from "../output.js";
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
  const words = commandWords(program, helpAsFlag(argv));
  // `vexo-sv alerts --help` is not the top-level help: a command that does not exist says so (as git does).
  if (words.unknown !== undefined) {
    const near = closest(words.unknown, words.choices);
    const hint = `see \`vexo-sv ${words.path.map((w) => `${w} `).join("")}--help\``;
    const at = words.path.length > 0 ? `${words.path.join(" ")} ` : "";
    return fail(
      new VexoError("usage", `unknown command '${at}${words.unknown}'${near ? ` (Did you mean ${at}${near}?)` : ""}`, { hint }),
      [],
      session,
    );
  }
  session.words = words.path;
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

/**
 * The command words of argv as the program knows them (`worker add`), and the first word that is
 * no command where one was expected (with the names it could have been). Flags are skipped.
 */
export function commandWords(program: VexoCommand, argv: string[]): { path: string[]; unknown?: string; choices: string[] } {
  const path: string[] = [];
  let at: import("commander").Command = program;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") break;
    if (a.startsWith("-")) {
      if (GLOBAL_VALUE_FLAGS.includes(a)) i++;
      continue;
    }
    const subs = at.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    if (at.commands.length === 0) break; // an argument of the command
    const next = at.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!next) return { path, unknown: a, choices: subs.map((c) => c.name()) };
    path.push(a);
    at = next;
  }
  return { path, choices: [] };
}

/** For a worker name that does not exist: the one it may have meant, from the names there are (read already). */
function nearWorker(e: VexoError, session: Session): string | undefined {
  const asked = e.details?.names;
  if (e.code !== "not_found" || !Array.isArray(asked) || !session.sv) return undefined;
  let names: string[];
  try {
    names = session.sv.world.programs().map((p) => p.name);
  } catch {
    return undefined;
  }
  const near = asked.flatMap((a) => closest(String(a), names) ?? []);
  return near.length > 0 ? `did you mean ${near.join(", ")}? (\`vexo-sv worker ls\` lists the workers there are)` : undefined;
}

/** The nearest of `choices` to `word` (edit distance at most 2 and under half its length), or undefined. */
export function closest(word: string, choices: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of choices) {
    const d = editDistance(word, c);
    if (d <= 2 && d < Math.max(2, word.length / 2) && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

/** Edits (insert, delete, substitute, swap two neighbours) from a to b: "stpo" is 1 from "stop". */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
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
  // A usage error is found before the command runs: its words, as argv named them.
  const command = inv?.def.path ?? session.words?.join(" ") ?? "";
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
  const hint = nearWorker(e, session) ?? hintFor(e, { command, flag });
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
