import { earlyPlan } from "./early.js";

const argv = process.argv.slice(2);
// `worker ls` and `status` start supervisorctl before the rest of the program loads.
const plan = earlyPlan(argv, process.env);
const early = plan ? await import("../core/early.js") : null;
if (plan) early?.startEarlyCalls(plan);
const { main } = await import("./main.js");

main(argv).then(
  (code) => {
    early?.abandonEarly();
    process.exitCode = code;
  },
  (e: unknown) => {
    early?.abandonEarly();
    process.stderr.write(`vexo-sv: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
