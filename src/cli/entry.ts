import { earlyPlan } from "./early.js";

// stdout closed by the reader (`vexo-sv status | head -1`): end quietly, as coreutils do.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const argv = process.argv.slice(2);
// `worker ls` and `status` start supervisorctl before the rest of the program loads.
const plan = earlyPlan(argv, process.env);
const early = plan ? await import("./early.js").then((m) => m.startEarly(plan)) : null;
const { main } = await import("./main.js");

main(argv, early ?? undefined).then(
  (code) => {
    early?.abandon();
    process.exitCode = code;
  },
  (e: unknown) => {
    early?.abandon();
    process.stderr.write(`vexo-sv: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
