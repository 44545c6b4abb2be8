import type { Command } from "commander";
import { EXAMPLES } from "./command.js";

/** A flag as the completions and the reference see it. */
export interface FlagModel {
  long: string;
  short?: string;
  /** The value's placeholder (`<n>`), or undefined for a switch. */
  value?: string;
  description: string;
  defaultValue?: string;
  /** What the value is, where that can be completed. */
  kind: "file" | "dir" | "none";
}

/** One command of the tree (the root is path ""). */
export interface CommandModel {
  path: string;
  description: string;
  subcommands: string[];
  flags: FlagModel[];
  /** Positional arguments: names as commander shows them, and what completes them. */
  args: { name: string; kind: "workers" | "choices" | "none"; choices: string[]; required: boolean; variadic: boolean }[];
  examples: string[];
}

const DIR_FLAGS = new Set(["--path", "--conf-dir", "--log-dir", "--prefix"]);
const FILE_FLAGS = new Set(["--config", "--php"]);

function flagsOf(cmd: Command): FlagModel[] {
  return cmd.options
    .filter((o) => !o.hidden && o.long)
    .map((o) => {
      const long = o.long as string;
      const value = /<[^>]+>|\[[^\]]+\]/u.exec(o.flags)?.[0];
      const f: FlagModel = {
        long,
        description: o.description,
        kind: value === undefined ? "none" : DIR_FLAGS.has(long) ? "dir" : FILE_FLAGS.has(long) ? "file" : "none",
      };
      if (o.short) f.short = o.short;
      if (value) f.value = value;
      if (o.defaultValue !== undefined && !(Array.isArray(o.defaultValue) && o.defaultValue.length === 0) && o.defaultValue !== true) {
        f.defaultValue = String(o.defaultValue);
      }
      return f;
    });
}

/** Walks the commander program: every visible command with its flags and arguments. */
export function commandModel(program: Command): CommandModel[] {
  const out: CommandModel[] = [];
  const walk = (cmd: Command, path: string) => {
    const visible = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden && c.name() !== "help");
    out.push({
      path,
      description: cmd.description(),
      subcommands: visible.map((c) => c.name()),
      flags: [
        ...flagsOf(cmd),
        { long: "--help", short: "-h", description: "display help for command", kind: "none" as const },
        ...(path === "" ? [{ long: "--version", short: "-V", description: "output the version number", kind: "none" as const }] : []),
      ].filter((f, i, all) => all.findIndex((g) => g.long === f.long) === i),
      args: cmd.registeredArguments.map((a) => ({
        name: a.name(),
        kind: a.argChoices ? "choices" : /^names?$/u.test(a.name()) ? "workers" : "none",
        choices: a.argChoices ?? [],
        required: a.required,
        variadic: a.variadic,
      })),
      examples: EXAMPLES.get(cmd) ?? [],
    });
    for (const c of visible) walk(c, path ? `${path} ${c.name()}` : c.name());
  };
  walk(program, "");
  return out;
}

/** The shells `vexo-sv completion` writes scripts for (kept here so the generator loads only when used). */
export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];
