import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Integration tests wait on a real supervisord; these are bounds, not timing assertions.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: one integration file at a time keeps supervisord's timings honest.
    fileParallelism: false,
  },
});
