import { earlyPlan } from "./early.js";

// stdout closed by the reader (`vexo-sv status | head -1`): end quietly, as coreutils do.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

// `vexo-sv --version` alone never gets here: bin/vexo-sv.cjs answers it (docs/performance.md).
await run(process.argv.slice(2));

async function run(args: string[]): Promise<void> {
  // `worker ls` and `status` start supervisorctl before the rest of the program loads.
  const plan = earlyPlan(args, process.env);
  const early = plan ? await import("./early.js").then((m) => m.startEarly(plan)) : null;
  const { main } = await import("./main.js");
  try {
    process.exitCode = await main(args, early ?? undefined);
  } catch (e) {
    process.stderr.write(`vexo-sv: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  } finally {
    early?.abandon();
  }
}
