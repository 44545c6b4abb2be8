import { execa } from "execa";

// Runs the alert command (CMD): an argument list, never a shell; the alert on its stdin; in a
// process group of its own, all of which is killed at the timeout; its output (stdout and stderr
// together) kept up to a bound and only counted beyond it, so a command that prints megabytes
// costs no memory. Never the listener's stdout: that is supervisord's protocol channel.

export interface CommandRun {
  argv: readonly string[];
  stdin: string;
  /** The whole environment of the command. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Bytes of output kept (the rest is counted). */
  maxOutput: number;
}

export interface CommandOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Why it did not run or could not be waited for (no such file, ...); null when it ran. */
  error: string | null;
  /** The first maxOutput bytes of what it printed, as text. */
  output: string;
  /** Everything it printed, in bytes. */
  outputBytes: number;
  ms: number;
}

/** How the dispatcher runs a command (the real one below; unit tests script it). Aborting kills it as the timeout does. */
export type Spawner = (run: CommandRun, abort?: AbortSignal) => Promise<CommandOutcome>;

/** After the timeout's kill, how long to wait for the command's pipes to close before giving up on them. */
const AFTER_KILL_MS = 5000;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the whole group is gone already
  }
}

/** The first `max` bytes of what a stream pair prints, and how much it printed in all. */
function capture(max: number) {
  const kept: Buffer[] = [];
  let bytes = 0;
  return {
    add(d: Buffer): void {
      if (bytes < max) kept.push(d.subarray(0, max - bytes));
      bytes += d.length;
    },
    text: () => Buffer.concat(kept).toString("utf8"),
    bytes: () => bytes,
  };
}

/** Runs one command as described; never throws, never rejects. */
export const spawnCommand: Spawner = async (run, abort) => {
  const started = Date.now();
  const out = capture(run.maxOutput);
  const [file, ...args] = run.argv as [string, ...string[]];
  const child = execa(file, args, {
    input: run.stdin,
    env: run.env,
    extendEnv: false,
    cwd: "/",
    // Its own process group: the timeout kills whatever it started, too.
    detached: true,
    buffer: false,
    reject: false,
    stdout: "pipe",
    stderr: "pipe",
  });
  child.stdout?.on("data", out.add);
  child.stderr?.on("data", out.add);
  let timedOut = false;
  let giveUp: () => void = () => {};
  const abandoned = new Promise<null>((resolve) => (giveUp = () => resolve(null)));
  const kill = () => {
    killGroup(child.pid);
    // A process that left the group (setsid) may hold the pipes open: stop waiting for them.
    setTimeout(giveUp, AFTER_KILL_MS).unref();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, run.timeoutMs);
  abort?.addEventListener("abort", kill, { once: true });
  const r = await Promise.race([child, abandoned]);
  clearTimeout(timer);
  abort?.removeEventListener("abort", kill);
  if (r === null) {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  const failedToRun = r !== null && r.exitCode === undefined && r.signal === undefined;
  return {
    exitCode: r?.exitCode ?? null,
    signal: r?.signal ?? (timedOut ? "SIGKILL" : null),
    timedOut,
    error: failedToRun ? (r.shortMessage?.split("\n")[0] ?? "could not run") : null,
    output: out.text(),
    outputBytes: out.bytes(),
    ms: Date.now() - started,
  };
};
