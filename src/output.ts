import kleur from "kleur";
import type { WorkerState } from "./core/results.js";
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
  /** An error and what to do about it (stderr), made safe for a terminal. */
  error(message: string, hint?: string): void;
  /** Text exactly as given on stdout (a completion script, a JSON document), also under --json. */
  raw(text: string): void;
  /**
   * Text exactly as given on stdout, for a stream of lines (logs -f): a promise when the reader
   * is behind (the stream's buffer is full), to wait for before writing more.
   */
  stream(text: string): Promise<void> | undefined;
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
    // Every line for a person goes through terminalText: it may carry a path, a log line or a
    // spawn error that another user chose. Only the colours vexo-sv adds itself survive.
    data(line) {
      if (!opts.json) stdout.write(`${terminalText(line, kleur.enabled)}\n`);
    },
    info(msg) {
      if (!opts.json && !opts.quiet) stderr.write(`${terminalText(msg, kleur.enabled)}\n`);
    },
    warn(msg) {
      if (opts.json) warnings.push(msg);
      else stderr.write(`${kleur.yellow("warning:")} ${terminalText(msg)}\n`);
    },
    progress(msg) {
      if (!opts.json && !opts.quiet && stderr.isTTY) stderr.write(`${kleur.dim(terminalText(msg))}\n`);
    },
    error(message, hint) {
      stderr.write(`${kleur.red("error:")} ${terminalText(message)}\n`);
      if (hint) stderr.write(`${kleur.dim("hint:")} ${terminalText(hint)}\n`);
    },
    raw(text) {
      stdout.write(text);
    },
    stream(text) {
      if (stdout.write(text)) return undefined;
      // Resolved by 'drain', or by 'close' (a reader gone: entry.ts ends the process on EPIPE).
      return new Promise<void>((resolve) => {
        const done = () => {
          stdout.off("drain", done).off("close", done);
          resolve();
        };
        stdout.once("drain", done).once("close", done);
      });
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

/**
 * Bidi controls (marks, embeddings, overrides, isolates: U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069), which reorder what a terminal shows after them (a path can seem to end in
 * something else), and the line and paragraph separators U+2028 and U+2029.
 */
const BIDI_AND_SEPARATORS = String.raw`\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029`;

const NOT_PRINTABLE = new RegExp(String.raw`[\u0000-\u0008\u000a-\u001f\u007f-\u009f${BIDI_AND_SEPARATORS}]`, "gu");
const NOT_FOR_TERMINAL = new RegExp(String.raw`[\u0000-\u0008\u000b-\u001f\u007f-\u009f${BIDI_AND_SEPARATORS}]`, "gu");

/**
 * A line of someone else's text (a log) made safe for a terminal: control characters other than
 * tab (escape sequences that retitle, clear or recolour the screen), bidi controls and line
 * separators become U+FFFD.
 */
export function printable(line: string): string {
  return line.replace(NOT_PRINTABLE, "\ufffd");
}

/** The colours vexo-sv paints with (kleur: bold, dim, red, green, yellow, cyan, and their ends). */
const OWN_COLOURS = /\u001b\[(?:1|2|22|31|32|33|36|39)m/uy;

/**
 * Text for a terminal that may hold someone else's text: control characters, bidi controls and
 * line separators become U+FFFD, as in printable(), except newline and tab (messages span lines on
 * purpose: a path in one goes through shownPath, which quotes a newline in it). With `keepColours`, the
 * exact colour codes vexo-sv's own output uses are kept (another user's text could only recolour
 * what follows: never move the cursor, erase, retitle or hide).
 */
export function terminalText(text: string, keepColours = false): string {
  return text.replace(NOT_FOR_TERMINAL, (c, at: number) => {
    if (keepColours && c === "\u001b") {
      OWN_COLOURS.lastIndex = at;
      if (OWN_COLOURS.test(text)) return c;
    }
    return "\ufffd";
  });
}

/** The one colour of each worker state, in `ls` and `status` alike. */
export function stateColor(state: WorkerState, c: typeof kleur): (s: string) => string {
  const colors: Record<WorkerState, (s: string) => string> = {
    running: c.green,
    paused: c.cyan,
    partial: c.yellow,
    starting: c.yellow,
    backoff: c.red,
    fatal: c.red,
    stopping: c.dim,
    stopped: c.dim,
    unknown: c.dim,
  };
  return colors[state];
}

/** A table cell: its text, and how to colour it once padded (so escape codes never shift columns). */
export type Cell = string | { text: string; paint: (s: string) => string };

/** A plain left-aligned table; the last column is not padded. */
export function table(rows: Cell[][], header: string[]): string[] {
  const text = (c: Cell | undefined) => (typeof c === "string" ? c : (c?.text ?? ""));
  const all: Cell[][] = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => text(r[i]).length)));
  return all.map((r) =>
    r
      .map((c, i) => {
        const padded = i === r.length - 1 ? text(c) : text(c).padEnd(widths[i] ?? 0);
        return typeof c === "string" ? padded : c.paint(padded);
      })
      .join("  ")
      .trimEnd(),
  );
}

/** Bytes as `ps` people read them: 812K, 45.3M, 1.2G; `?` when not known. */
export function humanBytes(n: number | null): string {
  if (n === null) return "?";
  if (n < 1024 * 1024) return `${Math.round(n / 1024)}K`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)}M`;
  return `${(n / 1024 / 1024 / 1024).toFixed(1)}G`;
}

/** Seconds as the largest two units: 2d3h, 4h5m, 6m7s (the one way vexo-sv writes an uptime). */
export function shortUptime(s: number | null): string {
  if (s === null) return "";
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d${h}h` : h ? `${h}h${m}m` : `${m}m${s % 60}s`;
}

/** A process as a line after a change: `pid 123 up 0m2s` when it runs (as status writes it), else supervisorctl's description. */
export function processDetail(p: { pid: number | null; uptimeSeconds: number | null; description: string }): string {
  return p.pid !== null && p.uptimeSeconds !== null ? `pid ${p.pid} up ${shortUptime(p.uptimeSeconds)}` : p.description;
}
