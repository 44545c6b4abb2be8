import net from "node:net";
import { execa } from "execa";
import { VexoError } from "../errors.js";
import type { Layout } from "./layout.js";
import { parseStatusLine } from "./status.js";

/** One supervisorctl invocation, as data: what --dry-run prints and the runner runs. */
export interface CtlCall {
  args: string[];
}

const groups = (names: string[]) => names.map((n) => `${n}:*`);

/** Pure builders of every call vexo-sv makes; whole groups are addressed as `NAME:*`. */
export const ctl = {
  update: (name: string): CtlCall => ({ args: ["update", name] }),
  /** start | stop | restart of whole groups, one call for all of them. */
  groups: (verb: "start" | "stop" | "restart", names: string[]): CtlCall => ({ args: [verb, ...groups(names)] }),
  /** One process (`group:group_00`), for rolling restarts. */
  restartProcess: (fullName: string): CtlCall => ({ args: ["restart", fullName] }),
  signal: (sig: "TERM" | "USR2" | "CONT", names: string[]): CtlCall => ({ args: ["signal", sig, ...groups(names)] }),
  /** Status of every program, or of the named groups only. */
  status: (names: string[] = []): CtlCall => ({ args: ["status", ...groups(names)] }),
  shutdown: (): CtlCall => ({ args: ["shutdown"] }),
  version: (): CtlCall => ({ args: ["version"] }),
};

/** The full argv of a call, for display. */
export function ctlArgv(layout: Layout, call: CtlCall): string[] {
  return ["supervisorctl", "-c", layout.config, ...call.args];
}

export interface CtlResult {
  exitCode: number;
  /** stdout and stderr together: supervisorctl writes errors to stdout too. */
  output: string;
}

/**
 * Output that means supervisorctl could not talk to supervisord at all. Process lines are
 * skipped: a worker's own error text ("... Permission denied") says nothing about the socket.
 */
export function unreachableReason(output: string): string | undefined {
  const own = output
    .split("\n")
    .filter((l) => parseStatusLine(l) === null)
    .join("\n");
  const m = /(unix:\/\/\S+ no such file|\S+ refused connection|Connection refused|Permission denied|SHUTDOWN_STATE)/iu.exec(own);
  return m ? m[1] : undefined;
}

/** supervisord's reason from an XML-RPC fault or an ERROR line, without the Python noise. */
export function faultReason(output: string): string {
  const fault = /<Fault \d+: ['"](.*?)['"]>/su.exec(output);
  if (fault) return (fault[1] as string).replace(/\\n/gu, "\n").replace(/\\'/gu, "'");
  const err = /^(?:ERROR|error)[: ]\s*(.*)$/mu.exec(output) ?? /ERROR \((.*)\)/u.exec(output);
  return (err?.[1] ?? output).trim();
}

/** Runs supervisorctl with an argument array (never a shell). */
export function runCtl(layout: Layout, call: CtlCall): Promise<CtlResult> {
  const key = keyOf(layout.config, call.args);
  const early = started.get(key);
  if (early) {
    started.delete(key);
    return early.result;
  }
  return spawnCtl(layout.config, call.args).result;
}

function spawnCtl(config: string, args: string[]): { result: Promise<CtlResult>; kill: () => void } {
  const child = execa("supervisorctl", ["-c", config, ...args], {
    reject: false,
    all: true,
    stdin: "ignore",
    // No timeout: `update NAME` of a changed group legitimately waits out its stopwaitsecs.
  });
  const result = child.then((r) => {
    if (r.failed && r.exitCode === undefined) {
      const missing = (r as { code?: string }).code === "ENOENT";
      throw new VexoError(
        missing ? "supervisord_unreachable" : "supervisorctl_failed",
        missing ? "supervisorctl is not installed" : `supervisorctl could not run: ${r.shortMessage}`,
        { hint: missing ? "run `sudo vexo-sv install` (or apt-get install supervisor)" : undefined },
      );
    }
    return { exitCode: r.exitCode ?? 1, output: String(r.all ?? "") };
  });
  return { result, kill: () => child.kill() };
}

const keyOf = (config: string, args: string[]) => JSON.stringify([config, ...args]);

/** The only calls ever started early: both read-only. */
export type EarlyVerb = "status" | "version";

/** Read-only calls started before the program has finished loading, by argv. */
const started = new Map<string, { result: Promise<CtlResult>; kill: () => void }>();

/**
 * Starts a read-only call (`status` or `version`, nothing that changes anything) as early as
 * possible: `worker ls` and `status` know from argv alone that they will make it, so it runs
 * while the rest of the program loads. runCtl hands it over when the same call is made.
 */
export function startEarly(config: string, verb: EarlyVerb): void {
  const key = keyOf(config, [verb]);
  if (started.has(key)) return;
  const run = spawnCtl(config, [verb]);
  // Handled where it is taken; until then a failure (no supervisorctl) must not crash the process.
  run.result.catch(() => undefined);
  started.set(key, run);
}

/** Ends early calls nobody took (the command failed before it needed them). */
export function abandonEarly(): void {
  for (const run of started.values()) run.kill();
  started.clear();
}

/** Throws the right error when output says supervisord is unreachable. */
export function assertReachable(layout: Layout, output: string): void {
  const why = unreachableReason(output);
  if (!why) return;
  throw unreachableError(layout, why);
}

export function unreachableError(layout: Layout, why: string): VexoError {
  if (/permission denied|EACCES/iu.test(why)) {
    return new VexoError("permission_denied", `permission denied on supervisord's socket (${layout.serverUrl})`, {
      hint: "run with sudo, or as the user that owns the socket",
    });
  }
  return new VexoError("supervisord_unreachable", `supervisord is not running or not reachable at ${layout.serverUrl} (${why})`, {
    hint: `start it (\`sudo systemctl start supervisor\`, or \`vexo-sv install\`), or point --config at the right supervisord.conf; nothing was changed`,
  });
}

/**
 * Checks that supervisord answers on its socket, without spawning supervisorctl: a plain
 * connect to the unix socket or TCP port. Mutations call this before writing anything.
 */
export function probe(layout: Layout, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const unix = /^unix:\/\/(.*)$/u.exec(layout.serverUrl);
    const http = /^https?:\/\/([^:/]+|\[[^\]]+\])(?::(\d+))?/u.exec(layout.serverUrl);
    let sock: net.Socket;
    if (unix) sock = net.connect({ path: unix[1] as string });
    else if (http) sock = net.connect({ host: (http[1] as string).replace(/^\[|\]$/gu, ""), port: Number(http[2] ?? 80) });
    else {
      reject(new VexoError("supervisord_unreachable", `cannot understand serverurl ${layout.serverUrl}`));
      return;
    }
    const timer = setTimeout(() => {
      sock.destroy();
      reject(unreachableError(layout, "timed out"));
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.end();
      resolve();
    });
    sock.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(unreachableError(layout, e.code === "ENOENT" ? "no socket file" : (e.code ?? e.message)));
    });
  });
}
