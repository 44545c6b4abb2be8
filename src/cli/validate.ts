import { array, object, optional, type core, type output, type ZodMiniType } from "zod/mini";
import { invalid, type VexoError } from "../errors.js";

// The validation toolkit, loaded by a command only when it has values to check (so --help,
// --version, ls and status never load zod). A schema's first issue becomes an exit-2 error that
// names the flag the bad field came from.

/**
 * The few builders commands use. Not the `zod/mini` namespace itself: re-exporting that object
 * makes the bundle keep all of zod (every locale, toJSONSchema: 430 KB to compile on each run).
 */
export const z = { array, object, optional };
export { durationInRange, intInRange, nameSchema, pathSchema, workerSpecSchema, workersFileSchema } from "../core/spec.js";

/** A zod issue's path as a reader finds it in a file: `workers[2].procs` (`file` for the whole). */
export function issuePath(path: readonly PropertyKey[], unknownKey?: string): string {
  const parts = unknownKey === undefined ? path : [...path, unknownKey];
  return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("") || "file";
}

/**
 * The first zod issue as an invalid-input error on its field; the CLI boundary names the flag.
 * Options are flat, so the field is the path's first key (what maps to a flag), not issuePath.
 */
export function issuesToError(err: core.$ZodError): VexoError {
  const issue = err.issues[0];
  const field = issue?.path[0];
  return invalid(field === undefined ? "input" : String(field), issue?.message ?? "is not valid");
}

/** Parses with a schema; throws the first issue as an invalid-input error. */
export function parse<S extends ZodMiniType>(schema: S, value: unknown): output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw issuesToError(r.error);
}
