#!/usr/bin/env node
// The launcher, in CommonJS on purpose: Node starts a CommonJS file about 5 ms sooner than an ES
// module (the ESM loader's set-up), which is a quarter of what `vexo-sv --version` costs over
// `node -e 0`. So `--version` alone is answered here, from package.json, and loads no bundle;
// everything else is the ESM program in dist/ (docs/performance.md).
"use strict";
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  process.stdout.write(`${require("../package.json").version}\n`);
} else {
  import("../dist/vexo-sv.js").catch((e) => {
    process.stderr.write(`vexo-sv: cannot load dist/vexo-sv.js (${e instanceof Error ? e.message : String(e)}); run npm run build\n`);
    process.exitCode = 1;
  });
}
