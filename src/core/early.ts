import { findConfig } from "./config-path.js";
import { type EarlyVerb, startEarly } from "./supervisorctl.js";

/** What argv said: the config to use (undefined for the defaults) and the calls to start. */
export interface EarlyPlan {
  config: string | undefined;
  verbs: EarlyVerb[];
}

/**
 * Starts the read-only calls of an early plan. A config that does not resolve starts nothing:
 * the command reports that itself, the normal way.
 */
export function startEarlyCalls(plan: EarlyPlan): void {
  let config: string;
  try {
    config = findConfig(plan.config);
  } catch {
    return;
  }
  for (const verb of plan.verbs) startEarly(config, verb);
}

export { abandonEarly } from "./supervisorctl.js";
