import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { execa } from "execa";
import * as z from "zod";
import { GLOBAL_VALUE_FLAGS } from "../../src/cli/globals.js";
import { documentSchema, errorDocumentSchema, SUCCESS_SCHEMAS } from "../../src/core/results.js";
import { afterAll, beforeAll } from "vitest";
import { groupInfo } from "./rpc.js";

export const ROOT = path.resolve(import.meta.dirname, "../..");
/** The CLI under test: the checkout's build, or VEXO_SV_TEST_BIN (to run a suite against another build). */
export const BIN = process.env.VEXO_SV_TEST_BIN ?? path.join(ROOT, "bin/vexo-sv.cjs");
export const SAMPLE_APP = path.join(ROOT, "tests/fixtures/sample-app");
export const BROKEN_APP = path.join(ROOT, "tests/fixtures/broken-app");
/** The user the test workers run as: ourselves (a root supervisord can switch to it). */
export const ME = os.userInfo().username;
/** Running the workers as root (CI runs as root) has to be asked for. */
export const ALLOW_ROOT: string[] = process.getuid?.() === 0 ? ["--allow-root"] : [];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when --json was passed. */
  json: Record<string, any>;
}

/** Runs the built CLI as a child process, as a script or a person would. */
export async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  // A clean environment of the test's own: nothing of the caller's VEXO_SV_* (a user of the tool
  // has them exported), NO_COLOR by default; a key set to undefined is removed.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VEXO_SV_") || k === "VEXO_SV_TEST_BIN"));
  // No NODE_EXTRA_CA_CERTS either, as on a server: vexo-sv never opens a TLS connection (cli.test.ts
  // holds that it never loads tls), and this kind of machine would make each run parse ~140 certificates.
  const full: Record<string, string | undefined> = { ...inherited, NO_COLOR: "1", NODE_EXTRA_CA_CERTS: undefined, ...env };
  for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k];
  const r = await execa("node", [BIN, ...args], {
    reject: false,
    env: full,
    extendEnv: false,
    stdin: "ignore",
    timeout: 120_000,
  });
  let json: Record<string, any> = {};
  if (args.includes("--json")) {
    const lines = String(r.stdout).trim().split("\n");
    if (lines.length !== 1) throw new Error(`--json printed ${lines.length} lines:\n${r.stdout}\n${r.stderr}`);
    json = JSON.parse(lines[0] as string);
    // Every --json document any test sees must fit the JSON Schema published for its command.
    assertMatchesSchema(args, json);
  }
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), json };
}

export interface Sv {
  dir: string;
  config: string;
  confDir: string;
  logDir: string;
  env: Record<string, string>;
  pid: number;
}

/** A real private supervisord in a temp folder, set up through `vexo-sv install --prefix`. */
export async function startSupervisor(): Promise<Sv> {
  if (!fs.existsSync(path.join(ROOT, "dist/vexo-sv.js"))) throw new Error("build first: npm run build");
  // Short path: unix socket paths are limited to 107 bytes.
  const dir = fs.mkdtempSync(path.join("/tmp", "vx-"));
  const r = await cli(["install", "--prefix", dir, "--json"]);
  if (r.code !== 0) throw new Error(`install --prefix failed: ${r.stdout} ${r.stderr}`);
  return {
    dir,
    config: r.json.config,
    confDir: r.json.confDir,
    logDir: r.json.logDir,
    env: { VEXO_SV_CONFIG: r.json.config },
    pid: r.json.pid,
  };
}

/** Stops it cleanly through the CLI, then makes sure by pid, and removes the folder. */
export async function stopSupervisor(sv: Sv | undefined): Promise<void> {
  if (!sv) return;
  await cli(["shutdown", "--json"], sv.env);
  try {
    process.kill(sv.pid, "SIGKILL");
  } catch {
    // already gone, as it should be
  }
  fs.rmSync(sv.dir, { recursive: true, force: true });
}

/** A TCP port on 127.0.0.1 that nothing listens on right now (for a server the test starts). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Polls until fn returns a truthy value; fails after `seconds` (a bound, not a timing assertion). */
export async function waitFor<T>(fn: () => Promise<T>, seconds = 30, what = "condition"): Promise<NonNullable<T>> {
  const until = Date.now() + seconds * 1000;
  let last: T | undefined;
  while (Date.now() < until) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

/** The worker entry of `worker ls --json`. */
export async function lsWorker(sv: Sv, name: string): Promise<Record<string, any> | undefined> {
  const r = await cli(["worker", "ls", "--json"], sv.env);
  return (r.json.workers as Record<string, any>[]).find((w) => w.name === name);
}

/** Waits until supervisord has exactly `procs` processes of the worker, all RUNNING; returns their pids. */
export async function waitRunning(sv: Sv, name: string, procs: number): Promise<number[]> {
  const ps = await waitFor(
    async () => {
      const ps = await groupInfo(sv.dir, name);
      return ps.length === procs && ps.every((p) => p.statename === "RUNNING") ? ps : undefined;
    },
    30,
    `${name} running with ${procs} processes`,
  );
  return ps.map((p) => p.pid);
}

/** Every file under a directory (dotfiles and the state directory too) and its bytes, to prove nothing changed. */
export function snapshot(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of fs.readdirSync(dir).sort()) {
    if (n === ".vexo-sv.lock") continue;
    const f = path.join(dir, n);
    if (fs.lstatSync(f).isDirectory()) Object.assign(out, snapshot(f, `${prefix}${n}/`));
    else out[`${prefix}${n}`] = fs.readFileSync(f, "utf8");
  }
  return out;
}

/** argv of a running process, from /proc. */
export function cmdline(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
}

export function addArgs(name: string, extra: string[] = [], app = SAMPLE_APP): string[] {
  return ["worker", "add", "--name", name, "--path", app, "--user", ME, ...ALLOW_ROOT, ...extra];
}

/** True while a process with that pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A private supervisord for one test file: started before its tests, stopped after. The
 * returned object is filled in by beforeAll, so tests can hold it from the top of the file.
 */
export function useSupervisor(): Sv {
  const sv = {} as Sv;
  beforeAll(async () => {
    Object.assign(sv, await startSupervisor());
  });
  afterAll(async () => {
    await stopSupervisor(sv.dir ? sv : undefined);
  });
  return sv;
}

/**
 * A copy of the built CLI (dist/ and its chunks) in DIR, runnable by a user who cannot read the
 * checkout (which may sit in /root). Returns the entry to pass to node.
 */
export function copyBuiltCli(dir: string): string {
  const dest = path.join(dir, "vexo-sv-dist");
  fs.cpSync(path.join(ROOT, "dist"), dest, { recursive: true });
  fs.writeFileSync(path.join(dest, "package.json"), '{ "type": "module" }\n');
  for (const p of [dest, path.join(dest, "chunks")]) fs.chmodSync(p, 0o755);
  return path.join(dest, "vexo-sv.js");
}

/** The command a `--json` call ran, as SUCCESS_SCHEMAS names it ("worker add", "install --prefix"). */
export function commandOf(args: string[]): string {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (GLOBAL_VALUE_FLAGS.includes(a)) i++;
    else if (!a.startsWith("-")) words.push(a);
  }
  const [first, second] = words;
  if (first === "worker" || first === "alerts") return `${first} ${second}`;
  if (first === "install" && args.includes("--prefix")) return "install --prefix";
  if (first === "logs" && (args.includes("--follow") || args.includes("-f"))) return "logs --follow";
  return first ?? "";
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
const validators = new Map<string, ReturnType<typeof ajv.compile>>();

/** Validates a `--json` document against the JSON Schema generated for its command; throws when it does not fit. */
export function assertMatchesSchema(args: string[], doc: unknown): void {
  if (args.some((a) => ["--help", "-h", "--version", "-V"].includes(a))) return; // {ok, help} / {ok, version}
  const command = commandOf(args);
  if (!(command in SUCCESS_SCHEMAS)) {
    // A usage error before any command (an unknown one) is still an error document with a known code.
    if ((doc as { ok?: unknown }).ok === false) validateWith("error", z.toJSONSchema(errorDocumentSchema, { io: "output" }), doc, args);
    return; // hidden helpers print no document
  }
  let validate = validators.get(command);
  if (!validate) {
    validate = ajv.compile(z.toJSONSchema(documentSchema(command), { io: "output", unrepresentable: "any" }));
    validators.set(command, validate);
  }
  if (!validate(doc)) {
    throw new Error(
      `vexo-sv ${command} --json does not fit its schema: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(doc).slice(0, 500)}`,
    );
  }
}

function validateWith(key: string, schema: object, doc: unknown, args: string[]): void {
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(key, validate);
  }
  if (!validate(doc)) throw new Error(`vexo-sv ${args.join(" ")} --json does not fit its schema: ${ajv.errorsText(validate.errors)}`);
}

/** pids of the processes that have FILE open (from /proc/PID/fd). */
/**
 * Whether a vexo-sv process (the built CLI, not a flock it started or the test's own holder and
 * its forks) has `file` open: how a test knows a run is waiting for the lock it holds.
 */
export function vexoHasOpen(file: string): boolean {
  return openersOf(file).some((pid) => {
    try {
      return cmdline(pid).includes(BIN);
    } catch {
      return false; // gone meanwhile
    }
  });
}

export function openersOf(file: string): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync("/proc").filter((n) => /^\d+$/u.test(n))) {
    try {
      if (fs.readdirSync(`/proc/${p}/fd`).some((fd) => fs.readlinkSync(`/proc/${p}/fd/${fd}`) === file)) pids.push(Number(p));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}
