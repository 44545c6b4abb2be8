import kleur from "kleur";
import type { VexoError } from "./errors.js";

/** Where everything the CLI says goes: data on stdout, messages on stderr, JSON alone. */
export interface Output {
  json: boolean;
  quiet: boolean;
  /** A line of data (stdout). */
  data(line: string): void;
  /** A message for the person at the terminal (stderr); dropped with --quiet or --json. */
  info(msg: string): void;
  /** A warning (stderr); kept with --quiet, folded into the document with --json. */
  warn(msg: string): void;
  /** Progress on a terminal only. */
  progress(msg: string): void;
  colors: typeof kleur;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Colour only on a TTY, never with --json, --no-color or NO_COLOR. */
export function wantColor(opts: { json: boolean; color: boolean }, stream: { isTTY?: boolean }): boolean {
  if (opts.json || !opts.color) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0") return true;
  return Boolean(stream.isTTY);
}

export function createOutput(opts: OutputOptions): Output & { warnings: string[] } {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  kleur.enabled = wantColor(opts, stderr);
  const warnings: string[] = [];
  return {
    json: opts.json,
    quiet: opts.quiet,
    warnings,
    colors: kleur,
    data(line) {
      if (!opts.json) stdout.write(`${line}\n`);
    },
    info(msg) {
      if (!opts.json && !opts.quiet) stderr.write(`${msg}\n`);
    },
    warn(msg) {
      if (opts.json) warnings.push(msg);
      else stderr.write(`${kleur.yellow("warning:")} ${msg}\n`);
    },
    progress(msg) {
      if (!opts.json && !opts.quiet && stderr.isTTY) stderr.write(`${kleur.dim(msg)}\n`);
    },
  };
}

/** The one JSON document for a success. Pure, so its shape is unit-tested. */
export function successDocument(data: object, warnings: string[]): Record<string, unknown> {
  const doc: Record<string, unknown> = { ok: true, ...data };
  const prior = Array.isArray(doc.warnings) ? (doc.warnings as string[]) : [];
  const all = [...new Set([...prior, ...warnings])];
  if (all.length > 0 || "warnings" in doc) doc.warnings = all;
  return doc;
}

/** The one JSON document for a failure. */
export function errorDocument(err: Pick<VexoError, "code" | "message" | "hint" | "details">): Record<string, unknown> {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.hint) error.hint = err.hint;
  if (err.details) error.details = err.details;
  return { ok: false, error };
}

/** A plain left-aligned table; the last column is not padded. */
export function table(rows: string[][], header: string[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}
