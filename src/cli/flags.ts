import * as z from "zod/mini";
import { intInRange } from "../core/spec.js";
import { issuesToError } from "../core/workers.js";

/** Parses commander's options with a zod schema; an invalid flag becomes an exit-2 error naming it. */
export function parseFlags<S extends z.ZodMiniType>(
  schema: S,
  opts: unknown,
  flagOf: Record<string, string>,
  command: string,
): z.output<S> {
  const r = schema.safeParse(opts);
  if (r.success) return r.data;
  throw issuesToError(r.error, flagOf, command);
}

/** Booleans shared by the mutating commands. */
export const mutationFlags = z.object({
  dryRun: z._default(z.boolean(), false),
  replace: z._default(z.boolean(), false),
  force: z._default(z.boolean(), false),
  missingOk: z._default(z.boolean(), false),
});

export const logsFlags = z.object({
  lines: intInRange(1, 100000),
  process: z.optional(intInRange(0, 99)),
});
