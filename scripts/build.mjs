// Bundles the CLI into one ESM file (fast start-up: one file to load, no module resolution).
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
await build({
  entryPoints: ["src/cli/entry.ts"],
  outfile: "dist/vexo-sv.js",
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
