import fs from "node:fs";
import path from "node:path";
import { invalid, VexoError } from "../errors.js";
import { DEFAULT_CONFIGS, unsafeReason } from "./rules.js";

// Which supervisord config a command uses. Its own module: the entry resolves it before anything
// else loads, to start `worker ls`'s status call early (src/cli/early.ts).

/** The config file to use: the given one, else the first default that exists. */
export function findConfig(given: string | undefined): string {
  if (given) {
    const bad = unsafeReason(given, { spaces: true, max: 4096 });
    if (bad) throw invalid("config", bad);
    const abs = path.resolve(given);
    if (!fs.existsSync(abs)) throw new VexoError("config_not_found", `supervisord config ${abs} does not exist`);
    return abs;
  }
  const found = DEFAULT_CONFIGS.find((c) => fs.existsSync(c));
  if (!found) {
    throw new VexoError("config_not_found", `no supervisord config found (looked for ${DEFAULT_CONFIGS.join(" and ")})`);
  }
  return found;
}
