// Bundles the CLI into dist/ as ESM: dist/vexo-sv.js holds commander and the command
// definitions; the core (zod, execa, ini) sits in chunks loaded only by the commands that use
// them, so `--version` and `--help` start fast. With --docs, also writes the files generated
// from the program itself: completions/, and the reference, man page and JSON Schemas in docs/.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
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
// Built beside dist/ and moved in file by file, the entry last: chunk names carry a content hash,
// so a vexo-sv already running from the checkout keeps finding the chunks it loads lazily.
const dist = path.join(root, "dist");
// --clean (npm pack's prepack): nothing from earlier builds goes into the package.
if (process.argv.includes("--clean")) rmSync(dist, { recursive: true, force: true });
const tmp = path.join(root, `.dist-tmp-${process.pid}`);
rmSync(tmp, { recursive: true, force: true });
const { metafile } = await build({
  ...common,
  metafile: true,
  entryPoints: [path.join(root, "src/cli/entry.ts")],
  outdir: tmp,
  entryNames: "vexo-sv",
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
});
// Which sources each output holds, for the test that checks what a command loads.
const contents = Object.fromEntries(
  Object.entries(metafile.outputs).map(([out, o]) => [path.relative(tmp, path.resolve(root, out)), Object.keys(o.inputs)]),
);
mkdirSync(path.join(root, ".cache"), { recursive: true });
writeFileSync(path.join(root, ".cache/vexo-sv-bundle.json"), `${JSON.stringify(contents, null, 1)}\n`);
mkdirSync(path.join(dist, "chunks"), { recursive: true });
const fresh = new Set(readdirSync(path.join(tmp, "chunks")));
for (const f of fresh) renameSync(path.join(tmp, "chunks", f), path.join(dist, "chunks", f));
renameSync(path.join(tmp, "vexo-sv.js"), path.join(dist, "vexo-sv.js"));
rmSync(tmp, { recursive: true, force: true });
// Chunks of earlier builds go once no run started before this build can still want them.
for (const f of readdirSync(path.join(dist, "chunks"))) {
  const file = path.join(dist, "chunks", f);
  if (!fresh.has(f) && Date.now() - statSync(file).mtimeMs > 10 * 60 * 1000) rmSync(file, { force: true });
}

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
