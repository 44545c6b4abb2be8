// The read-only supervisorctl calls that `worker ls` and `status` are sure to make, read off
// argv before commander (or anything else) is loaded, so that supervisorctl, which takes far
// longer than the rest of the command, starts as soon as Node is up. Pure, and deliberately
// narrow: anything it does not recognise returns null and the command runs the normal way.

import type { EarlyPlan } from "../core/early.js";

const GLOBAL_VALUES = new Set(["--config", "--conf-dir", "--log-dir"]);
const GLOBAL_FLAGS = new Set(["--json", "-q", "--quiet", "--no-color"]);
const COMMANDS: { words: string[]; flags: string[]; verbs: EarlyPlan["verbs"] }[] = [
  { words: ["worker", "ls"], flags: [], verbs: ["status"] },
  { words: ["status"], flags: ["--check"], verbs: ["version", "status"] },
];

/** config: --config, else VEXO_SV_CONFIG (as commander resolves it), else undefined for the defaults. */
export function earlyPlan(argv: string[], env: NodeJS.ProcessEnv): EarlyPlan | null {
  const words: string[] = [];
  const flags: string[] = [];
  let config: string | undefined = env.VEXO_SV_CONFIG;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (GLOBAL_VALUES.has(name)) {
      const value = name === a ? argv[++i] : a.slice(eq + 1);
      if (value === undefined) return null;
      if (name === "--config") config = value;
    } else if (a.startsWith("-")) {
      flags.push(a);
    } else {
      words.push(a);
    }
  }
  const cmd = COMMANDS.find((c) => c.words.join(" ") === words.join(" "));
  if (!cmd || !flags.every((f) => GLOBAL_FLAGS.has(f) || cmd.flags.includes(f))) return null;
  return { config, verbs: cmd.verbs };
}
