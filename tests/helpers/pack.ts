import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { ROOT } from "./cli.js";

/**
 * `npm pack` of a clean copy of the checkout (the files git tracks: no dist/, so prepack must
 * build it) into DIR: the package as it would be published. Returns the tarball and its files.
 */
export async function packTarball(dir: string): Promise<{ tarball: string; shipped: string[] }> {
  const clean = path.join(dir, "checkout");
  const tracked = String((await execa("git", ["ls-files", "-z"], { cwd: ROOT })).stdout)
    .split("\0")
    .filter(Boolean);
  for (const f of tracked) fs.cpSync(path.join(ROOT, f), path.join(clean, f), { recursive: true });
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(clean, "node_modules"));
  if (fs.existsSync(path.join(clean, "dist"))) throw new Error("dist/ is tracked: prepack would not be what builds it");
  const pack = await execa("npm", ["pack", "--json", "--pack-destination", dir], { cwd: clean, env: { npm_config_loglevel: "error" } });
  const [info] = JSON.parse(String(pack.stdout)) as { filename: string; files: { path: string }[] }[];
  return { tarball: path.join(dir, info?.filename as string), shipped: (info?.files ?? []).map((f) => f.path) };
}
