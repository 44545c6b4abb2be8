import type { DirEntry } from "../../src/core/python/glob.js";

/** An in-memory tree: path -> file text; directories are implied by the paths. */
export function memFs(files: Record<string, string>) {
  const readFile = (p: string): string => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
    return text;
  };
  const listDir = (dir: string): DirEntry[] | null => {
    const prefix = dir.endsWith("/") ? dir : `${dir}/`;
    const seen = new Map<string, boolean>();
    for (const p of Object.keys(files)) {
      if (!p.startsWith(prefix)) continue;
      const [first, ...rest] = p.slice(prefix.length).split("/");
      if (first) seen.set(first, (seen.get(first) ?? false) || rest.length > 0);
    }
    return seen.size === 0 && !Object.keys(files).some((p) => p.startsWith(prefix))
      ? null
      : [...seen].map(([name, isDir]) => ({ name, isDir }));
  };
  return { readFile, listDir };
}
