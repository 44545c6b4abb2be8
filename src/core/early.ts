import { findConfig } from "./config-path.js";
import { startEarly } from "./supervisorctl.js";

/**
 * Starts the read-only calls of an early plan. A config that does not resolve starts nothing:
 * the command reports that itself, the normal way.
 */
export function startEarlyCalls(plan: { config: string | undefined; verbs: ("status" | "version")[] }): void {
  let config: string;
  try {
    config = findConfig(plan.config);
  } catch {
    return;
  }
  for (const verb of plan.verbs) startEarly(config, verb);
}

export { abandonEarly } from "./supervisorctl.js";
