import type { Output } from "../output.js";

/** What every command handler gets: the output, the global options, and where to put its result. */
export interface Ctx {
  out: Output;
  globals: GlobalOptions;
  /** The command's result: printed as the JSON document, or by `human` on a terminal. */
  result?: { data: object; human?: (out: Output) => void; exitCode?: number };
}

export interface GlobalOptions {
  config?: string;
  confDir?: string;
  logDir?: string;
  json: boolean;
  quiet: boolean;
  color: boolean;
}

/** The layout part of the global options, as the core takes it. */
export function layoutOf(g: GlobalOptions) {
  return { config: g.config, confDir: g.confDir, logDir: g.logDir };
}

/** commander's collector for a repeatable flag. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
