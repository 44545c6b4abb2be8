import { earlyPlan } from "./early.js";

declare const __VERSION__: string;

// stdout closed by the reader (`vexo-sv status | head -1`): end quietly, as coreutils do.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const argv = process.argv.slice(2);

// `vexo-sv --version` alone prints one line: loading commander and every command for it took
// about a third of its time (docs/performance.md).
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  process.stdout.write(`${typeof __VERSION__ === "string" ? __VERSION__ : "0.0.0-dev"}\n`);
} else {
  await run(argv);
}

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
