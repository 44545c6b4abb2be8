import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));
// As in the bundle (scripts/build.mjs), so generated docs match when built from the sources.
const define = { __VERSION__: JSON.stringify(pkg.version) };

export default defineConfig({
  define,
  test: {
    // Integration tests wait on a real supervisord; these are bounds, not timing assertions.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Files run in parallel, each against its own private supervisord(s): most of a test's time
    // is spent waiting on supervisord (startsecs, stopwaitsecs), not on the CPU. Every wait is
    // bounded generously, so a busy machine makes the suite slower, never red.
    // Two at a time on two cores: more makes supervisord's own startsecs (1 s) a race for a PHP
    // that is slow to start under load. Tests inside a file that declare themselves concurrent
    // (real-configs) run three at a time.
    fileParallelism: true,
    maxWorkers: 2,
    maxConcurrency: 3,
    projects: [
      // The fast tier (`npm run test:fast`): pure code and logic behind the scripted seam, from
      // the sources; no build, no supervisord, no root.
      // extends: each project takes the settings above (timeouts, concurrency); without it, vitest's defaults.
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.ts"] } },
      // Everything that runs the built CLI: dist/ is rebuilt first when src/ is newer, so a stale
      // build never silently tests old code.
      {
        extends: true,
        test: {
          name: "system",
          include: ["tests/{integration,reliability,security}/**/*.test.ts"],
          globalSetup: ["tests/helpers/fresh-build.ts"],
        },
      },
    ],
  },
});
