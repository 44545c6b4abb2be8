import fs from "node:fs";
import path from "node:path";
import { VexoError } from "../errors.js";
import { readIfExists } from "./fsutil.js";
import { globMatch, type Layout } from "./layout.js";
import { type ProgramEntry, parseProgramFile } from "./program-file.js";

// The program files supervisord reads from the include directory, and what they define.

/** Program files in the include directory that supervisord would read. */
export function programFiles(layout: Layout): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(layout.confDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new VexoError("io_error", `cannot read ${layout.confDir}: ${(e as Error).message}`);
  }
  return names
    .map((n) => path.join(layout.confDir, n))
    .filter((f) => (layout.includeGlobs.length ? layout.includeGlobs.some((g) => globMatch(g, f)) : f.endsWith(layout.ext)))
    .sort();
}

/** Reads every program of the include directory; pure apart from reading files. */
export function readPrograms(layout: Layout): ProgramEntry[] {
  const out: ProgramEntry[] = [];
  for (const f of programFiles(layout)) {
    const text = readIfExists(f);
    if (text !== null) out.push(...parseProgramFile(f, text));
  }
  return out;
}
