import * as z from "zod";
import { intInRange } from "../core/spec.js";
import { issuesToError } from "../core/workers.js";

/** Parses commander's options with a zod schema; an invalid flag becomes an exit-2 error naming it. */
export function parseFlags<S extends z.ZodType>(schema: S, opts: unknown, flagOf: Record<string, string>, command: string): z.output<S> {
  const r = schema.safeParse(opts);
  if (r.success) return r.data;
  throw issuesToError(r.error, flagOf, command);
}

/** Booleans shared by the mutating commands. */
export const mutationFlags = z.object({
  dryRun: z.boolean().default(false),
  replace: z.boolean().default(false),
  force: z.boolean().default(false),
  missingOk: z.boolean().default(false),
});

export const logsFlags = z.object({
  lines: intInRange(1, 100000),
  process: intInRange(0, 99).optional(),
});
