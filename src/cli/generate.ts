import * as z from "zod";
import { alertDocumentSchema, documentSchema, SUCCESS_SCHEMAS } from "../core/results.js";
import { workersFileSchema } from "../core/spec.js";
import { ERROR_CODES, EXIT } from "../errors.js";
import { COMPLETION_FILES, completionScript } from "./completion.js";
import { GLOBAL_OPTIONS } from "./globals.js";
import { type CommandModel, commandModel, SHELLS } from "./model.js";
import { buildProgram, VERSION } from "./program.js";

// Everything under completions/ and the generated docs, from the commander program itself.
// `npm run docs` writes them; a test fails when the committed copies differ.

/** Exit codes, for the reference and the man page. */
export const EXIT_CODES: [number, string][] = [
  [EXIT.ok, 'success, including "nothing to do" (`"changed": false`), and a reader that closed stdout early (`vexo-sv status | head -1`)'],
  [
    EXIT.failure,
    "a failure other than bad input (supervisord unreachable or rejecting a change, not_found, a worker that fails to start, ...)",
  ],
  [EXIT.usage, "invalid usage or input; nothing was changed"],
  [EXIT.unhealthy, "`status --check`: a managed worker is not healthy"],
];

const ENVIRONMENT: [string, string][] = [
  ...GLOBAL_OPTIONS.filter((o) => o.env).map((o): [string, string] => [o.env as string, `${o.description} (as ${o.flags.split(" ")[0]})`]),
  ["NO_COLOR", "no colour when set"],
];

function model(): CommandModel[] {
  return commandModel(buildProgram());
}

/** docs/exit-codes.md: the exit codes and every error code, from the program's own tables. */
export function exitCodesMarkdown(): string {
  return [
    "# Exit codes",
    "",
    "<!-- Generated from src/errors.ts by `npm run docs`; do not edit. -->",
    "",
    "| exit | meaning |",
    "| --- | --- |",
    ...EXIT_CODES.map(([k, v]) => `| ${k} | ${cell(v)} |`),
    "",
    'With `--json`, a failure prints `{"ok": false, "error": {"code": "...", "message": "...", "hint": "..."}}` with one of these codes:',
    "",
    "| code | exit | meaning |",
    "| --- | --- | --- |",
    ...Object.entries(ERROR_CODES).map(([code, [exit, what]]) => `| \`${code}\` | ${exit} | ${cell(what)} |`),
    "",
  ].join("\n");
}

/** An argument as usage writes it: NAME, [NAME] when optional, NAMES... when it repeats. */
const argUsage = (a: CommandModel["args"][number]) => {
  const word = `${a.name.toUpperCase()}${a.variadic ? "..." : ""}`;
  return a.required ? word : `[${word}]`;
};

const usage = (c: CommandModel) =>
  `vexo-sv ${c.path ? `${c.path} ` : ""}${c.subcommands.length ? "COMMAND " : ""}[options]${c.args.map((a) => ` ${argUsage(a)}`).join("")}`.replace(
    "  ",
    " ",
  );

const cell = (s: string) => s.replaceAll("|", "\\|");

const flagRow = (f: CommandModel["flags"][number]) =>
  `| \`${f.short ? `${f.short}, ` : ""}${f.long}\` | ${f.value ? `\`${f.value}\`` : ""} | ${f.defaultValue ?? ""} | ${cell(f.description)} |`;

/** docs/commands.md */
export function referenceMarkdown(m: CommandModel[]): string {
  const root = m.find((c) => c.path === "") as CommandModel;
  const out = [
    "# vexo-sv command reference",
    "",
    "<!-- Generated from the program by `npm run docs`; do not edit. -->",
    "",
    `Version ${VERSION}. ${root.description}.`,
    "",
    "## Global options (every command)",
    "",
    "| flag | value | default | description |",
    "| --- | --- | --- | --- |",
    ...root.flags.map(flagRow),
    "",
    "## Environment",
    "",
    ...ENVIRONMENT.map(([k, v]) => `- \`${k}\`: ${v}`),
    "",
    "## Exit codes",
    "",
    ...EXIT_CODES.map(([k, v]) => `- ${k}: ${v}`),
    "",
    'With `--json`, stdout carries exactly one JSON document: `{"ok": true, ...}` with the fields of the command\'s result, or `{"ok": false, "error": {"code", "message", "hint"}}`. The JSON Schema of each command\'s document is in [schemas/](schemas/) (`logs --follow` prints one `{"process", "line"}` object per line instead).',
    "",
  ];
  for (const c of m) if (c.path !== "") out.push(...referenceSection(c, root));
  return `${out.join("\n").trimEnd()}\n`;
}

/** One command's section of docs/commands.md. */
function referenceSection(c: CommandModel, root: CommandModel): string[] {
  const out = [`## vexo-sv ${c.path}`, "", `${c.description}.`, "", "```", usage(c), "```", ""];
  if (c.examples.length) out.push("Example:", "", "```sh", ...c.examples, "```", "");
  if (c.subcommands.length) out.push(`Commands: ${c.subcommands.map((s) => `\`${s}\``).join(", ")}.`, "");
  for (const a of c.args) {
    const what = a.choices.length ? `: one of ${a.choices.join(", ")}` : a.kind === "workers" ? ": worker name(s)" : "";
    out.push(`Argument \`${a.name}\`${what}.`, "");
  }
  const own = c.flags.filter((f) => !root.flags.some((r) => r.long === f.long) && f.long !== "--help");
  if (own.length) out.push("| flag | value | default | description |", "| --- | --- | --- | --- |", ...own.map(flagRow), "");
  return out;
}

const roff = (s: string) => s.replaceAll("\\", "\\e").replaceAll("-", "\\-").replace(/^\./gmu, "\\&.").replace(/^'/gmu, "\\&'");

/** docs/vexo-sv.1 */
export function manPage(m: CommandModel[]): string {
  const root = m.find((c) => c.path === "") as CommandModel;
  const flag = (f: CommandModel["flags"][number]) => [
    ".TP",
    `.B ${roff(`${f.short ? `${f.short}, ` : ""}${f.long}${f.value ? ` ${f.value}` : ""}`)}`,
    roff(`${f.description}${f.defaultValue ? ` (default: ${f.defaultValue})` : ""}`),
  ];
  const out = [
    `.TH VEXO-SV 1 "" "vexo-sv ${VERSION}" "User Commands"`,
    ".SH NAME",
    `vexo-sv \\- ${roff(root.description.charAt(0).toLowerCase() + root.description.slice(1))}`,
    ".SH SYNOPSIS",
    ".B vexo-sv",
    "[\\fIglobal options\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR]",
    ".SH DESCRIPTION",
    "Each worker is one Supervisor program file in the directory supervisord includes, running",
    ".I php PATH/artisan queue:work",
    "with N processes. vexo-sv writes and removes those files and drives supervisord through supervisorctl,",
    "touching only the worker it names. With \\fB\\-\\-json\\fR, stdout carries exactly one JSON document.",
    ".SH GLOBAL OPTIONS",
    ...root.flags.flatMap(flag),
    ".SH COMMANDS",
  ];
  for (const c of m) {
    if (c.path === "" || c.subcommands.length) continue;
    out.push(".SS", roff(usage(c)), roff(`${c.description}.`));
    for (const e of c.examples) out.push(".PP", `.B ${roff(e)}`);
    for (const f of c.flags.filter((x) => !root.flags.some((r) => r.long === x.long) && x.long !== "--help")) out.push(...flag(f));
  }
  out.push(".SH EXIT STATUS", ...EXIT_CODES.flatMap(([k, v]) => [".TP", `.B ${k}`, roff(v)]));
  out.push(".SH ENVIRONMENT", ...ENVIRONMENT.flatMap(([k, v]) => [".TP", `.B ${k}`, roff(v)]));
  out.push(".SH EXAMPLES", ...root.examples.flatMap((e) => [".PP", `.B ${roff(e)}`]));
  out.push(".SH SEE ALSO", "supervisord(1), supervisorctl(1)");
  return `${out.join("\n")}\n`;
}

/** docs/schemas/ file of a command's `--json` document: "worker add" -> worker-add.json. */
export function schemaFile(command: string): string {
  return `${command.replaceAll("--", "").replaceAll(" ", "-").replace(/-+/gu, "-")}.json`;
}

/** Every generated file, by path relative to the repository. */
export function generatedFiles(): Record<string, string> {
  const m = model();
  const files: Record<string, string> = {};
  for (const shell of SHELLS) files[`completions/${COMPLETION_FILES[shell]}`] = completionScript(shell, m);
  files["docs/commands.md"] = referenceMarkdown(m);
  files["docs/vexo-sv.1"] = manPage(m);
  files["docs/exit-codes.md"] = exitCodesMarkdown();
  for (const command of Object.keys(SUCCESS_SCHEMAS)) {
    const schema = z.toJSONSchema(documentSchema(command), { io: "output", unrepresentable: "any" });
    files[`docs/schemas/${schemaFile(command)}`] = `${JSON.stringify({ title: `vexo-sv ${command} --json`, ...schema }, null, 2)}\n`;
  }
  // What `apply FILE` reads: editors check a workers file that names this schema in "$schema".
  const input = z.toJSONSchema(workersFileSchema, { io: "input", unrepresentable: "any" });
  files["docs/schemas/workers-file.json"] =
    `${JSON.stringify({ title: "vexo-sv workers file (vexo-sv apply FILE)", ...input }, null, 2)}\n`;
  // What an alert command reads on stdin (`alerts enable --exec CMD`).
  const alert = z.toJSONSchema(alertDocumentSchema, { io: "output", unrepresentable: "any" });
  files["docs/schemas/alert.json"] = `${JSON.stringify({ title: "vexo-sv alert (what CMD reads on stdin)", ...alert }, null, 2)}\n`;
  return files;
}
