import { HIDDEN } from "./program-file.js";
import type { FieldChange } from "./results.js";
import { WORKER_FIELDS, type WorkerSpec } from "./spec.js";

// What differs between two specs of one worker, field by field: apply's plan shows it, and an
// add refused because the worker exists differently says it.

/** A field of the old spec against the new; env values are never shown, only which keys changed. */
export function fieldChanges(from: WorkerSpec, to: WorkerSpec): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of WORKER_FIELDS) {
    if (field === "env") continue;
    const a = from[field] ?? null;
    const b = to[field] ?? null;
    if (JSON.stringify(a) !== JSON.stringify(b)) changes.push({ field, from: a, to: b });
  }
  for (const key of [...new Set([...Object.keys(from.env), ...Object.keys(to.env)])].sort()) {
    const a = from.env[key];
    const b = to.env[key];
    if (a !== b) changes.push({ field: `env.${key}`, from: a === undefined ? null : HIDDEN, to: b === undefined ? null : HIDDEN });
  }
  return changes;
}

/** `procs: 3 -> 2, queue: default -> high,default`: the changes as one line a person reads. */
export function changesText(changes: readonly FieldChange[]): string {
  const word = (v: unknown) =>
    v === null ? "(none)" : Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : String(v);
  return changes.map((c) => `${c.field}: ${word(c.from)} -> ${word(c.to)}`).join(", ");
}
