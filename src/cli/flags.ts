import type * as z from "zod";
import { issuesToError } from "../core/workers.js";

/** Parses commander's options with a zod schema; an invalid flag becomes an exit-2 error naming it. */
export function parseFlags<S extends z.ZodType>(schema: S, opts: unknown, flagOf: Record<string, string>): z.output<S> {
  const r = schema.safeParse(opts);
  if (r.success) return r.data;
  throw issuesToError(r.error, flagOf);
}

/** commander's collector for a repeatable flag. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Commander camelCase key to its flag, e.g. maxTime -> --max-time. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/gu, (c) => `-${c.toLowerCase()}`)}`;
}
