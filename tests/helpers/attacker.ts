/**
 * An unprivileged local attacker for security tests: a throw-away system user that tests, running
 * as root, can act as (plant files, symlinks and FIFOs) to prove root code does not trust them.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { execa, execaSync } from "execa";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Working directory (default "/": the attacker may not be able to enter ours). */
  cwd?: string;
  /** Standard input; none by default. */
  input?: string;
  /** Added to the attacker's minimal environment. */
  env?: Record<string, string>;
  /** Milliseconds before the command is killed (default 30 s). */
  timeout?: number;
}

export interface Attacker {
  name: string;
  uid: number;
  gid: number;
  /** Runs `cmd args` as the attacker (no shell, no supplementary groups, no capabilities). */
  run(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Deletes the user and its group; safe to call twice. */
  remove(): Promise<void>;
}

const SBIN_DIRS = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/** Absolute path of a tool on PATH or in the sbin directories (root's PATH may lack them), or undefined. */
function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":").filter((d) => d !== ""), ...SBIN_DIRS];
  return dirs.map((d) => path.join(d, name)).find((f) => fs.existsSync(f));
}

/** Why attacker tests cannot run on this machine, or undefined when they can; tests skip with it. */
export function attackerSkipReason(): string | undefined {
  if (process.platform !== "linux") return "attacker tests need Linux";
  if (process.geteuid?.() !== 0) return "attacker tests need root (they create a throw-away user)";
  for (const tool of ["useradd", "userdel", "groupdel", "setpriv"]) {
    if (!findTool(tool)) return `attacker tests need ${tool} (apt-get install passwd util-linux)`;
  }
  return undefined;
}

/** uid and gid of `name` from /etc/passwd (read directly: useradd just wrote it there). */
function lookupIds(name: string): { uid: number; gid: number } {
  const line = fs
    .readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  const fields = line?.split(":") ?? [];
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`useradd did not create ${name} in /etc/passwd`);
  return { uid, gid };
}

function exists(db: "passwd" | "group", name: string): boolean {
  return fs
    .readFileSync(`/etc/${db}`, "utf8")
    .split("\n")
    .some((l) => l.startsWith(`${name}:`));
}

/** Removes the user and, if userdel left it, its group; errors when either is still there after. */
function removeSync(name: string): void {
  // Another test file may hold the passwd lock for a moment (exit 10): try again, bounded.
  for (let attempt = 0; attempt < 40 && (exists("passwd", name) || exists("group", name)); attempt++) {
    if (attempt > 0) execaSync("sleep", ["0.25"]);
    if (exists("passwd", name)) execaSync(findTool("userdel") as string, [name], { reject: false });
    if (exists("group", name)) execaSync(findTool("groupdel") as string, [name], { reject: false });
  }
  if (exists("passwd", name) || exists("group", name)) throw new Error(`could not remove the attacker user ${name}`);
}

/**
 * Creates a throw-away system user `vxatk-<random>` (no home, nologin shell, own group) that commands
 * run as through `setpriv --reuid --regid --clear-groups`. Call remove() when done; a process that
 * exits without doing so still removes it from its exit handler. Throws when attackerSkipReason() says why.
 */
export async function createAttacker(): Promise<Attacker> {
  const why = attackerSkipReason();
  if (why !== undefined) throw new Error(`cannot create an attacker: ${why}`);
  const name = `vxatk-${randomBytes(4).toString("hex")}`;
  // Test files run in parallel: another one may hold the passwd lock (useradd exits 10); try again.
  for (let attempt = 1; ; attempt++) {
    const r = await execa(
      findTool("useradd") as string,
      ["--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name],
      {
        reject: false,
      },
    );
    if (r.exitCode === 0) break;
    if (r.exitCode !== 10 || attempt >= 40) throw new Error(`useradd ${name} failed (exit ${r.exitCode}): ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 250));
  }
  const { uid, gid } = lookupIds(name);
  let removed = false;
  const onExit = (): void => {
    if (!removed) removeSync(name);
  };
  process.once("exit", onExit);
  const setpriv = findTool("setpriv") as string;
  return {
    name,
    uid,
    gid,
    run: (cmd, args, opts = {}) => runAs(setpriv, { uid, gid }, cmd, args, opts),
    async remove() {
      if (removed) return;
      removeSync(name);
      removed = true;
      process.removeListener("exit", onExit);
    },
  };
}

async function runAs(
  setpriv: string,
  ids: { uid: number; gid: number },
  cmd: string,
  args: string[],
  opts: RunOptions,
): Promise<RunResult> {
  const who = ["--reuid", String(ids.uid), "--regid", String(ids.gid), "--clear-groups"];
  const r = await execa(setpriv, [...who, "--", cmd, ...args], {
    reject: false,
    cwd: opts.cwd ?? "/",
    // A fresh minimal environment: root's (HOME=/root, tokens, ...) is not the attacker's.
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/nonexistent", LANG: "C.UTF-8", ...opts.env },
    extendEnv: false,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: "ignore" as const }),
    timeout: opts.timeout ?? 30_000,
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Ends a private supervisord a test started under `prefix`, if one still runs (a failed assertion, or the code before a fix, left it). */
export function killFromPidfile(prefix: string): void {
  try {
    const pid = Number(fs.readFileSync(path.join(prefix, "supervisord.pid"), "utf8"));
    if (Number.isInteger(pid) && pid > 1) process.kill(pid, "SIGTERM");
  } catch {
    // no pidfile, or already gone
  }
}

/** chown -R, as root runs it (links themselves, never their targets). */
export function chownTree(p: string, uid: number, gid: number): void {
  fs.lchownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) for (const n of fs.readdirSync(p)) chownTree(path.join(p, n), uid, gid);
}

/** chmod -R go-w (links are left alone: their mode means nothing). */
export function chmodTreeGoW(p: string): void {
  const st = fs.lstatSync(p);
  if (st.isSymbolicLink()) return;
  fs.chmodSync(p, st.mode & 0o7755);
  if (st.isDirectory()) for (const n of fs.readdirSync(p)) chmodTreeGoW(path.join(p, n));
}
