import type * as z from "zod";
import { issuesToError } from "../core/workers.js";

/** Parses commander's options with a zod schema; an invalid flag becomes an exit-2 error naming it. */
export function parseFlags<S extends z.ZodType>(schema: S, opts: unknown, flagOf: Record<string, string>, command: string): z.output<S> {
  const r = schema.safeParse(opts);
  if (r.success) return r.data;
  throw issuesToError(r.error, flagOf, command);
}

/** commander's collector for a repeatable flag. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
