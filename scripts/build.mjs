// Bundles the CLI into dist/ as ESM: dist/vexo-sv.js holds commander and the command
// definitions; the core (zod, execa, ini) sits in chunks loaded only by the commands that use
// them, so `--version` and `--help` start fast.
import { readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: ["src/cli/entry.ts"],
  outdir: "dist",
  entryNames: "vexo-sv",
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  define: { __VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies (ini) call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __vexoCreateRequire } from 'node:module'; const require = __vexoCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
