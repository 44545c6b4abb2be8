import fs from "node:fs";
import path from "node:path";
import { ensureDir, readIfExists, removeFile, writeAtomic } from "./fsutil.js";
import type { Layout } from "./layout.js";
import { nameProblem } from "./rules.js";

// The state records vexo-sv keeps beside the program files, in a dot-directory no include glob
// reads (.vexo-sv-state), one file per worker and idea:
// - a pause record (NAME.paused): `worker pause` stopped the worker and it stays stopped until
//   resumed (pause.ts says when a pause holds);
// - a removal record (NAME.removing): a removal is under way; one a killed run left behind tells
//   a later run what is half done: `apply --prune` finishes it, an add of the name undoes it.
// Both are root's own files (0600, in a 0700 directory).

/** Directory for state that must not be read by supervisord's glob (leading dot): in the program directory, else beside the config. */
export function stateDir(layout: Layout): string {
  return path.join(layout.confDir ?? path.dirname(layout.config), ".vexo-sv-state");
}

const PAUSED = ".paused";
const REMOVING = ".removing";

/** Where NAME's pause record is. */
export function pauseRecordPath(layout: Layout, name: string): string {
  return path.join(stateDir(layout), `${name}${PAUSED}`);
}

/** Where NAME's removal record is. */
export function removalRecordPath(layout: Layout, name: string): string {
  return path.join(stateDir(layout), `${name}${REMOVING}`);
}

/** What a pause record holds: when, and under which supervisord (a restarted one starts every autostart program again). */
export interface PauseRecord {
  at: string;
  supervisordPid: number | null;
}

/** What a removal record holds: the worker, its file, and its application path when the file could be read back (for `--prune PATH`). */
export interface RemovalRecord {
  name: string;
  file: string;
  spec: { path: string } | null;
}

/** The names that have a record of this kind (names vexo-sv could not have written skipped). */
function recordNames(layout: Layout, suffix: string): string[] {
  let files: string[];
  try {
    files = fs.readdirSync(stateDir(layout));
  } catch {
    return [];
  }
  return files.filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length));
}

/** Writes a record (the state directory made 0700 first), mode 0600. */
function writeRecord(file: string, doc: unknown): void {
  ensureDir(path.dirname(file), 0o700);
  writeAtomic(file, `${JSON.stringify(doc)}\n`, 0o600);
}

/** NAME's pause record, or null when it is not paused (or the record cannot be read). */
export function readPauseRecord(layout: Layout, name: string): PauseRecord | null {
  const text = readIfExists(pauseRecordPath(layout, name));
  if (text === null) return null;
  try {
    const doc = JSON.parse(text) as Partial<PauseRecord>;
    return typeof doc.at === "string"
      ? { at: doc.at, supervisordPid: typeof doc.supervisordPid === "number" ? doc.supervisordPid : null }
      : null;
  } catch {
    return null;
  }
}

/** Every pause record, by name (for ls and status). */
export function pauseRecords(layout: Layout): Map<string, PauseRecord> {
  const m = new Map<string, PauseRecord>();
  for (const name of recordNames(layout, PAUSED)) {
    const p = readPauseRecord(layout, name);
    if (p) m.set(name, p);
  }
  return m;
}

/** True when a removal record of NAME exists (a removal under way, or one a killed run left half done). */
export function hasRemovalRecord(layout: Layout, name: string): boolean {
  return fs.existsSync(removalRecordPath(layout, name));
}

/** Writes NAME's removal record. */
export function writeRemovalRecord(layout: Layout, record: RemovalRecord): void {
  writeRecord(removalRecordPath(layout, record.name), record);
}

/** Drops NAME's removal record (none: nothing to do). */
export function dropRemovalRecord(layout: Layout, name: string): void {
  removeFile(removalRecordPath(layout, name));
}

/** Every removal record, as each worker's application path (null when the record does not say), by name. */
export function removalRecords(layout: Layout): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const name of recordNames(layout, REMOVING)) {
    if (nameProblem(name)) continue; // not a record vexo-sv wrote
    try {
      const doc = JSON.parse(readIfExists(removalRecordPath(layout, name)) ?? "null") as Partial<RemovalRecord> | null;
      out.set(name, typeof doc?.spec?.path === "string" ? doc.spec.path : null);
    } catch {
      out.set(name, null);
    }
  }
  return out;
}
