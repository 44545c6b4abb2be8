import fs from "node:fs";
import path from "node:path";
import { execaSync } from "execa";

// vitest's global setup for the tests that run the built CLI: rebuilds dist/ when anything it is
// built from is newer than the build (or there is none), so `npx vitest run FILE` after an edit
// never tests old code. `npm test` has just built it, and this finds nothing to do.

const ROOT = path.resolve(import.meta.dirname, "../..");
const BUILT = path.join(ROOT, "dist/vexo-sv.js");

/** The newest modification time under `p` (a file, or a directory walked whole). */
function newest(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...fs.readdirSync(p).map((n) => newest(path.join(p, n))));
}

export default function setup(): void {
  if (process.env.VEXO_SV_TEST_BIN) return; // testing another build on purpose
  const built = fs.existsSync(BUILT) ? fs.statSync(BUILT).mtimeMs : 0;
  const sources = Math.max(...["src", "scripts/build.mjs", "package.json"].map((p) => newest(path.join(ROOT, p))));
  if (sources <= built) return;
  console.warn("dist/ is older than src/: rebuilding it (node scripts/build.mjs)");
  execaSync("node", [path.join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "inherit" });
}
