// Bundles the CLI into dist/ as ESM: dist/vexo-sv.js holds commander and the command
// definitions; the core (zod, execa, ini) sits in chunks loaded only by the commands that use
// them, so `--version` and `--help` start fast. With --docs, also writes the files generated
// from the program itself: completions/, and the reference, man page and JSON Schemas in docs/.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const common = {
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
  minify: !process.env.NO_MINIFY,
};
rmSync(path.join(root, "dist"), { recursive: true, force: true });
await build({
  ...common,
  entryPoints: [path.join(root, "src/cli/entry.ts")],
  outdir: path.join(root, "dist"),
  entryNames: "vexo-sv",
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
});

// Generated files are written only on request (`npm run docs`): the test suite compares the
// committed copies with what the program generates, which it could not if every build rewrote them.
if (!process.argv.includes("--docs")) process.exit(0);
const gen = path.join(root, "node_modules/.cache/vexo-sv-generate.mjs");
await build({ ...common, entryPoints: [path.join(root, "src/cli/generate.ts")], outfile: gen });
const { generatedFiles } = await import(gen);
for (const [rel, content] of Object.entries(generatedFiles())) {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), content);
}
