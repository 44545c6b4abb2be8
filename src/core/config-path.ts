import fs from "node:fs";
import path from "node:path";
import { invalid, VexoError } from "../errors.js";
import { unsafeReason } from "./values.js";

// Which supervisord config to use: apart from layout.ts (which parses it) so that the early
// start of read-only supervisorctl calls needs nothing but this.

export const DEFAULT_CONFIGS = ["/etc/supervisor/supervisord.conf", "/etc/supervisord.conf"];

/** The config file to use: the given one, else the first default that exists. */
export function findConfig(given: string | undefined): string {
  if (given) {
    const bad = unsafeReason(given, { spaces: true, max: 4096 });
    if (bad) throw invalid("--config", bad);
    const abs = path.resolve(given);
    if (!fs.existsSync(abs)) {
      throw new VexoError("config_not_found", `supervisord config ${abs} does not exist`, {
        hint: "pass the right --config (or VEXO_SV_CONFIG), or run `vexo-sv install`",
      });
    }
    return abs;
  }
  const found = DEFAULT_CONFIGS.find((c) => fs.existsSync(c));
  if (!found) {
    throw new VexoError("config_not_found", `no supervisord config found (looked for ${DEFAULT_CONFIGS.join(" and ")})`, {
      hint: "run `sudo vexo-sv install`, or `vexo-sv install --prefix DIR` for a private supervisord, or pass --config",
    });
  }
  return found;
}
