import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";
import { packTarball } from "../helpers/pack.js";

// The package as it would be published: `npm pack` from a clean copy of the checkout (the files
// git tracks: no dist/, so prepack must build it), installed globally into a temporary prefix,
// then the installed `vexo-sv` run.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-pack-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("the packed tarball", () => {
  it("ships dist/ (built by prepack), installs with npm, and the installed vexo-sv runs", async () => {
    const { tarball, shipped } = await packTarball(tmp);
    expect(shipped).toContain("dist/vexo-sv.js");
    expect(shipped).toContain("bin/vexo-sv.cjs");
    expect(shipped.some((f) => f.startsWith("dist/chunks/"))).toBe(true);
    expect(shipped.filter((f) => f.startsWith("src/") || f.startsWith("tests/"))).toEqual([]);

    const prefix = path.join(tmp, "prefix");
    await execa("npm", ["install", "--global", "--prefix", prefix, "--no-audit", "--no-fund", tarball], {
      env: { npm_config_loglevel: "error" },
    });
    const bin = path.join(prefix, "bin/vexo-sv");
    const version = await execa(bin, ["--version"], { reject: false });
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version);
    // A command that loads the core chunks: a missing config is reported the normal way.
    const ls = await execa(bin, ["worker", "ls", "--json", "--config", path.join(tmp, "none.conf")], { reject: false });
    expect(ls.exitCode).toBe(1);
    expect(JSON.parse(ls.stdout).error.code).toBe("config_not_found");
    const add = await execa(bin, ["worker", "add", "--name", "x", "--path", "/srv/app", "--procs", "0", "--json"], { reject: false });
    expect(add.exitCode).toBe(2);
    expect(JSON.parse(add.stdout).error.details.flag).toBe("--procs");
  });
});
