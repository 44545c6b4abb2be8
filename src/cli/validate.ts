import * as z from "zod/mini";
import { invalid, type VexoError } from "../errors.js";

// The validation toolkit, loaded by a command only when it has values to check (so --help,
// --version, ls and status never load zod). A schema's first issue becomes an exit-2 error that
// names the flag the bad field came from.

export { z };
export { intInRange, nameSchema, pathSchema, workerSpecSchema, workersFileSchema } from "../core/spec.js";

/** The first zod issue as an invalid-input error on its field; the CLI boundary names the flag. */
export function issuesToError(err: z.core.$ZodError): VexoError {
  const issue = err.issues[0];
  const field = issue?.path[0];
  return invalid(field === undefined ? "input" : String(field), issue?.message ?? "is not valid");
}

/** Parses with a schema; throws the first issue as an invalid-input error. */
export function parse<S extends z.ZodMiniType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw issuesToError(r.error);
}
