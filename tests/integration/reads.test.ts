import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entry, workersFile } from "../helpers/apply.js";
import { addArgs, cli, type CliResult, ROOT, useSupervisor } from "../helpers/cli.js";

// One reading of the world per command (issue 25): every file supervisord reads (the main config,
// each conf.d/*.conf) is opened at most once by a command, counted by tests/helpers/count-opens.mjs
// in the real CLI. A mutation re-reads, under its lock, the one program file it changes (another
// run may have changed it meanwhile): that file alone may be opened twice.

const HOOK = path.join(ROOT, "tests/helpers/count-opens.mjs");

describe("each file supervisord reads is opened once per command", () => {
  const sv = useSupervisor();
  let tmp = "";

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-opens-"));
    for (const name of ["ra", "rb", "rc"]) {
      const r = await cli([...addArgs(name), "--json"], sv.env);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** The files supervisord reads: the main config and every program file. */
  const configFiles = () => [
    sv.config,
    ...fs
      .readdirSync(sv.confDir)
      .filter((n) => n.endsWith(".conf"))
      .map((n) => path.join(sv.confDir, n)),
  ];

  /** Runs the CLI with the counting hook; the number of opens of each config file. */
  async function opens(
    args: string[],
    run = (env: Record<string, string>) => cli(args, env),
  ): Promise<{ r: CliResult; counts: Record<string, number> }> {
    const log = path.join(tmp, `${args.join("-").replace(/[^a-z-]/gu, "")}.json`);
    const r = await run({ ...sv.env, NODE_OPTIONS: `--import ${HOOK}`, VEXO_OPENS_LOG: log });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const all = JSON.parse(fs.readFileSync(log, "utf8")) as Record<string, number>;
    return { r, counts: Object.fromEntries(configFiles().map((f) => [f, all[f] ?? 0])) };
  }

  /** Every file supervisord reads was read (so the count means something), and once. */
  const onceEach = (counts: Record<string, number>, except: string[] = []) =>
    Object.fromEntries(Object.entries(counts).map(([f, n]) => [f, except.includes(f) ? 1 : n]));
  const ones = (files: string[]) => Object.fromEntries(files.map((f) => [f, 1]));

  it.each([
    ["worker ls --json", ["worker", "ls", "--json"]],
    ["status --json", ["status", "--json"]],
    ["worker add --dry-run --json", [...addArgs("rnew", ["--dry-run"]), "--json"]],
    ["worker add --replace --dry-run --json", [...addArgs("ra", ["--replace", "--procs", "2", "--dry-run"]), "--json"]],
    ["worker rm --dry-run --json", ["worker", "rm", "rb", "--dry-run", "--json"]],
  ])("%s opens the main config and each program file once", async (_what, args) => {
    const before = configFiles();
    const { counts } = await opens(args);
    expect(counts).toEqual(ones(before));
  });

  it("worker add opens each file once, the program file it writes at most twice (the re-read under the lock)", async () => {
    const before = configFiles();
    const file = path.join(sv.confDir, "rd.conf");
    const { counts } = await opens([...addArgs("rd"), "--json"]);
    expect(counts[file]).toBeLessThanOrEqual(2);
    expect(onceEach(counts, [file])).toEqual(ones([...before, file]));
  });

  it("apply opens each file once, the program files it writes at most twice, also for its health wait", async () => {
    const before = configFiles();
    const created = path.join(sv.confDir, "re.conf");
    const adopted = path.join(sv.confDir, "rc.conf");
    const file = workersFile(sv, [entry("rc"), entry("re")], "reads.json");
    const { r, counts } = await opens(["apply", "reads"], (env) => cli(["apply", file, "--allow-root", "--json"], env));
    expect(r.json).toMatchObject({ ok: true });
    expect(counts[created]).toBeLessThanOrEqual(2);
    expect(counts[adopted]).toBeLessThanOrEqual(2);
    expect(onceEach(counts, [created, adopted])).toEqual(ones([...before, created]));
  });
});
