// `worker ls` and `status` are sure to make read-only supervisorctl calls, and supervisorctl
// takes far longer than the rest of the command. So the entry reads argv before commander (or
// anything else) is loaded, starts those calls at once, and hands main an IO seam that gives
// each early call to the command that makes it. Deliberately narrow: anything unusual in argv
// runs the normal way. Measured in docs/performance.md.

import { GLOBAL_SWITCHES, GLOBAL_VALUE_FLAGS } from "./globals.js";
import type { CtlResult, SupervisorIO } from "../core/ctl-io.js";

/** The only calls ever started early: both read-only. */
export type EarlyVerb = "status" | "version";

/** What argv said: the config to use (undefined for the defaults) and the calls to start. */
export interface EarlyPlan {
  config: string | undefined;
  verbs: EarlyVerb[];
}

const COMMANDS: { words: string[]; flags: string[]; verbs: EarlyVerb[] }[] = [
  { words: ["worker", "ls"], flags: [], verbs: ["status"] },
  { words: ["status"], flags: ["--check"], verbs: ["version", "status"] },
];

/** config: --config, else VEXO_SV_CONFIG (as commander resolves it), else undefined for the defaults. Pure. */
export function earlyPlan(argv: string[], env: NodeJS.ProcessEnv): EarlyPlan | null {
  const words: string[] = [];
  const flags: string[] = [];
  let config: string | undefined = env.VEXO_SV_CONFIG;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (GLOBAL_VALUE_FLAGS.includes(name)) {
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
  if (!cmd || !flags.every((f) => GLOBAL_SWITCHES.includes(f) || cmd.flags.includes(f))) return null;
  return { config, verbs: cmd.verbs };
}

/** An IO seam with the plan's calls already running; each is handed to the first identical call. */
export interface EarlyIO extends SupervisorIO {
  /** Ends early calls nobody took (the command failed before it needed them). */
  abandon(): void;
}

/** Starts the plan's calls now. A config that does not resolve starts nothing: the command reports it. */
export async function startEarly(plan: EarlyPlan): Promise<EarlyIO | null> {
  const [{ findConfig }, { realIO, spawnCtl }] = await Promise.all([import("../core/config-path.js"), import("../core/ctl-io.js")]);
  let config: string;
  try {
    config = findConfig(plan.config);
  } catch {
    return null;
  }
  const key = (c: string, args: string[]) => JSON.stringify([c, ...args]);
  const started = new Map<string, { result: Promise<CtlResult>; kill: () => void }>();
  for (const verb of plan.verbs) {
    const run = spawnCtl(config, [verb]);
    // Handled where it is taken; until then a failure (no supervisorctl) must not crash the process.
    run.result.catch(() => undefined);
    started.set(key(config, [verb]), run);
  }
  return {
    ...realIO,
    run(c, args, via) {
      // An early call is `-c CONFIG` alone: a call sent elsewhere (endpoint.ts) is never one.
      const early = via ? undefined : started.get(key(c, args));
      if (!early) return realIO.run(c, args, via);
      started.delete(key(c, args));
      return early.result;
    },
    abandon() {
      for (const run of started.values()) run.kill();
      started.clear();
    },
  };
}
