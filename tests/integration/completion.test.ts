import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { Ajv2020 } from "ajv/dist/2020.js";
import { COMPLETION_FILES } from "../../src/cli/completion.js";
import { ERROR_CODES } from "../../src/errors.js";
import { SHELLS, type Shell } from "../../src/cli/model.js";
import { generatedFiles } from "../../src/cli/generate.js";
import { commandModel } from "../../src/cli/model.js";
import { buildProgram } from "../../src/cli/program.js";
import { addArgs, assertMatchesSchema, BIN, cli, commandOf, ROOT, useSupervisor } from "../helpers/cli.js";

// The committed scripts, run in Debian's real bash, zsh and fish.
const sv = useSupervisor();
const model = commandModel(buildProgram());
const root = model.find((c) => c.path === "");
let env: Record<string, string> = {};

beforeAll(async () => {
  // `vexo-sv` on PATH, as an installed package would put it, for the worker-name lookups.
  const bin = path.join(sv.dir, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "vexo-sv"), `#!/bin/sh\nexec node ${BIN} "$@"\n`, { mode: 0o755 });
  env = { ...process.env, ...sv.env, PATH: `${bin}:${process.env.PATH}` } as Record<string, string>;
  expect((await cli([...addArgs("alpha", ["--no-wait"]), "--json"], sv.env)).code).toBe(0);
  expect((await cli([...addArgs("beta.queue", ["--no-wait"]), "--json"], sv.env)).code).toBe(0);
});

/** What the shell offers for the command line `words` (the last word is the one completed). */
async function complete(shell: Shell, words: string[]): Promise<string[]> {
  const file = path.join(ROOT, "completions", COMPLETION_FILES[shell]);
  let r: { stdout: unknown };
  if (shell === "bash") {
    r = await execa(
      "bash",
      [
        "--norc",
        "-c",
        `source ${file}; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vexo_sv; printf '%s\\n' "\${COMPREPLY[@]}"`,
        "_",
        ...words,
      ],
      { env },
    );
  } else if (shell === "zsh") {
    // zsh's completion builtins exist only inside a completion widget: capture what compadd gets.
    const script = [
      "compdef() { :; }",
      'compadd() { while [[ $# -gt 0 && $1 != -- ]]; do shift; done; shift; print -l -- "$@"; }',
      '_files() { print -- "<files>"; }',
      `source ${file}`,
      'words=("$@"); CURRENT=$#',
      "_vexo_sv",
    ].join("\n");
    r = await execa("zsh", ["-f", "-c", script, "_", ...words], { env });
  } else {
    r = await execa("fish", ["--no-config", "-c", `source ${file}; complete -C $argv[1]`, words.join(" ")], { env });
  }
  return String(r.stdout)
    .split("\n")
    .map((l) => l.split("\t")[0] as string)
    .filter(Boolean);
}

describe.each(SHELLS)("%s completion", (shell) => {
  it("offers every subcommand of every command", async () => {
    const groups = model.filter((m) => m.subcommands.length);
    expect(groups.length).toBeGreaterThan(1);
    for (const c of groups) {
      const words = ["vexo-sv", ...(c.path ? c.path.split(" ") : []), ""];
      expect(await complete(shell, words), c.path || "(root)").toEqual(expect.arrayContaining(c.subcommands));
    }
  });

  it("offers every flag of every command, and the global ones there too", async () => {
    expect(model.length).toBeGreaterThan(10);
    for (const c of model) {
      const words = ["vexo-sv", ...(c.path ? c.path.split(" ") : []), "--"];
      const want = [...c.flags, ...(root?.flags ?? [])].map((f) => f.long);
      expect(await complete(shell, words), c.path || "(root)").toEqual(expect.arrayContaining([...new Set(want)]));
    }
  });

  it("offers worker names where a command takes them, fetched from the tool", async () => {
    const takingWorkers = model.filter((m) => m.args[0]?.kind === "workers");
    expect(takingWorkers.map((c) => c.path)).toEqual(expect.arrayContaining(["worker rm", "worker start", "logs"]));
    for (const c of takingWorkers) {
      const words = ["vexo-sv", ...c.path.split(" "), ""];
      expect(await complete(shell, words), c.path).toEqual(expect.arrayContaining(["alpha", "beta.queue"]));
    }
  });

  it("runs no code found in a program's name, and offers only names that pass the name rule (issue 13.5)", async () => {
    const pwned = path.join(sv.dir, "pwned");
    const file = path.join(sv.confDir, "hostile.conf");
    // supervisord accepts such a name; the file is only read here, never loaded.
    fs.writeFileSync(
      file,
      `[program:x$(touch\${IFS}${pwned})]\ncommand=/bin/true\n[program:\`touch\${IFS}${pwned}\`]\ncommand=/bin/true\n`,
    );
    try {
      const offered = await complete(shell, ["vexo-sv", "worker", "rm", ""]);
      expect(offered).toEqual(expect.arrayContaining(["alpha", "beta.queue"]));
      expect(offered.filter((w) => w.includes("touch"))).toEqual([]);
      expect(fs.existsSync(pwned)).toBe(false);
    } finally {
      fs.rmSync(file);
    }
  });

  it("takes --config typed on the line for worker names (issue 16)", async () => {
    const other = { ...env, VEXO_SV_CONFIG: "/nonexistent/supervisord.conf" };
    const saved = env;
    env = other;
    try {
      expect(await complete(shell, ["vexo-sv", "--config", sv.config, "worker", "rm", ""])).toEqual(
        expect.arrayContaining(["alpha", "beta.queue"]),
      );
      expect(await complete(shell, ["vexo-sv", "worker", "rm", ""])).toEqual([]);
    } finally {
      env = saved;
    }
  });

  it("offers known values: shells, and skips a flag's value when finding the command", async () => {
    expect(await complete(shell, ["vexo-sv", "completion", ""])).toEqual(expect.arrayContaining(["bash", "zsh", "fish"]));
    expect(await complete(shell, ["vexo-sv", "--config", "/x.conf", "worker", ""])).toEqual(expect.arrayContaining(["add", "rm", "ls"]));
  });
});

describe("generated files", () => {
  it("the committed completions, reference and man page are what the program generates", () => {
    for (const [rel, content] of Object.entries(generatedFiles())) {
      expect(fs.readFileSync(path.join(ROOT, rel), "utf8"), `${rel} is stale: run npm run docs and commit`).toBe(content);
    }
  });

  it("`vexo-sv completion SHELL` prints the committed script", async () => {
    for (const shell of SHELLS) {
      const r = await cli(["completion", shell]);
      expect(r.code).toBe(0);
      expect(`${r.stdout}\n`).toBe(fs.readFileSync(path.join(ROOT, "completions", COMPLETION_FILES[shell]), "utf8"));
    }
  });

  it("every command's --help is usage, options, global options, then examples (like git's and npm's)", async () => {
    expect(model.length).toBeGreaterThan(10);
    for (const c of model) {
      const r = await cli([...(c.path ? c.path.split(" ") : []), "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`Usage: vexo-sv${c.path ? ` ${c.path}` : ""} `), c.path).toBe(true);
      const [usage, options, globals, examples] = ["Usage:", "Options:", "Global Options:", "Example"].map((h) => r.stdout.indexOf(h));
      if (c.path !== "") expect(globals, `${c.path} lists the global options`).toBeGreaterThan(options as number);
      expect(usage).toBe(0);
      expect(examples, `${c.path} ends with examples`).toBeGreaterThan(Math.max(options as number, globals as number));
      expect(r.stdout.slice(examples).split("\n")[1], c.path).toMatch(/^ {2}(sudo )?vexo-sv /u);
    }
  });
});

describe("JSON Schemas of --json output", () => {
  it("every integration test's --json document is checked: the commands map to their schemas", () => {
    expect(commandOf(["worker", "add", "--name", "x", "--json"])).toBe("worker add");
    expect(commandOf(["--config", "/x", "worker", "ls", "--json"])).toBe("worker ls");
    expect(commandOf(["install", "--prefix", "/x", "--json"])).toBe("install --prefix");
    expect(commandOf(["status", "--check", "--json"])).toBe("status");
    expect(commandOf(["logs", "w", "-n", "3", "--json"])).toBe("logs");
    expect(commandOf(["logs", "w", "--follow", "--json"])).toBe("logs --follow");
  });

  it("a document that does not fit is refused (the check can fail)", () => {
    expect(() => assertMatchesSchema(["worker", "ls", "--json"], { ok: true, workers: "none" })).toThrow(/does not fit/u);
    expect(() => assertMatchesSchema(["worker", "add", "--json"], { ok: false, error: { message: "no code" } })).toThrow(/does not fit/u);
    expect(() => assertMatchesSchema(["worker", "rm", "--json"], { ok: true, changed: true })).toThrow(/does not fit/u);
    // Error codes are an enum tied to docs/exit-codes.md: an undocumented one does not pass.
    expect(() => assertMatchesSchema(["worker", "add", "--json"], { ok: false, error: { code: "made_up", message: "x" } })).toThrow(
      /does not fit/u,
    );
    expect(() => assertMatchesSchema(["no-such-command", "--json"], { ok: false, error: { code: "made_up", message: "x" } })).toThrow(
      /does not fit/u,
    );
    expect(() => assertMatchesSchema(["logs", "w", "-f", "--json"], { process: "w" })).toThrow(/does not fit/u);
  });

  it("every error code in docs/exit-codes.md, and no other", () => {
    const doc = fs.readFileSync(path.join(ROOT, "docs/exit-codes.md"), "utf8");
    const documented = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d) \|/gmu)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it("the committed schemas validate the documents (written by npm run build)", () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, "docs/schemas/worker-add.json"), "utf8"));
    expect(schema.title).toBe("vexo-sv worker add --json");
    expect(JSON.stringify(schema)).toContain('"stopwaitsecs"');
    // And they do validate: a real document passes the committed file, a broken one does not.
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(ROOT, "docs/schemas/worker-rm.json"), "utf8")));
    const good = {
      ok: true,
      changed: false,
      dryRun: false,
      config: "/x/s.conf",
      workers: [{ name: "w", file: "/x/w.conf", changed: false }],
      plan: { mkdirs: [], writes: [], removes: [], supervisorctl: [] },
    };
    expect(validate(good), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate({ ...good, changed: "yes" })).toBe(false);
    expect(validate({ ...good, workers: [{ name: "w" }] })).toBe(false);
  });
});

describe("help and the manual (issue 16)", () => {
  it("`help worker add` is `worker add --help`, global options before it too", async () => {
    const want = (await cli(["worker", "add", "--help"])).stdout;
    expect(want).toMatch(/^Usage: vexo-sv worker add \[options\]/u);
    expect((await cli(["help", "worker", "add"])).stdout).toBe(want);
    expect((await cli(["--config", "/x.conf", "help", "worker", "add"])).stdout).toBe(want);
    expect((await cli(["help"])).stdout).toMatch(/^Usage: vexo-sv \[options\] \[command\]/u);
  });

  it("the manual and the reference write an optional argument in brackets and a repeated one with ...", () => {
    const man = generatedFiles()["docs/vexo-sv.1"] as string;
    expect(man).toContain("vexo\\-sv worker rm [options] NAMES...");
    expect(man).toContain("vexo\\-sv worker start [options] [NAMES...]");
    expect(man).toContain("vexo\\-sv logs [options] [NAME]");
    expect(man).toContain("vexo\\-sv completion [options] SHELL\n");
  });

  it("`source <(vexo-sv completion bash)` works in a bash without the bash-completion package", async () => {
    // --norc: nothing of bash-completion loaded (a minimal Debian 12 has no such package).
    const script = [
      "source <(vexo-sv completion bash) || exit 9",
      "type _init_completion >/dev/null 2>&1 && exit 8",
      "complete -p vexo-sv",
      "fn=$(complete -p vexo-sv | sed -E 's/.*-F ([^ ]+).*/\\1/')",
      "COMP_WORDS=(vexo-sv worker r); COMP_CWORD=2; COMP_LINE='vexo-sv worker r'; COMP_POINT=${#COMP_LINE}",
      '"$fn" vexo-sv r worker',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join("\n");
    const r = await execa("bash", ["--norc", "--noprofile", "-c", script], { env, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^complete .*-F \S+ vexo-sv$/mu);
    expect(
      r.stdout
        .split("\n")
        .filter((l) => !l.startsWith("complete"))
        .sort(),
    ).toEqual(["restart", "resume", "rm"]);
  });
});
