import net from "node:net";
import { execa } from "execa";
import { VexoError } from "../errors.js";
import type { Server } from "./layout.js";

// The seam between vexo-sv and the machine's supervisorctl: run one call (through execa, an
// argument array, never a shell), connect to a socket, sleep, tell the time. Kept apart from
// everything else so that the entry can start `worker ls`'s status call while loading nothing
// but this and execa (src/cli/early.ts).

export interface CtlResult {
  exitCode: number;
  /** stdout and stderr together: supervisorctl writes errors to stdout too. */
  output: string;
}

/**
 * Where supervisorctl is sent when the main config alone would not take it there (endpoint.ts):
 * `-s URL` and `-u USER` in argv; the password only in a private config it is given with `-c`,
 * never in argv (world-readable in /proc/PID/cmdline) nor the environment (ctl-config.ts).
 */
export interface CtlVia {
  serverUrl: string;
  username: string | null;
  /** The config supervisorctl reads instead of the main one: `[supervisorctl]`, and the password when there is one. */
  config: string;
}

/**
 * supervisorctl's arguments as shown and run: `-c CONFIG ARGS`, or with `via`, `-s URL [-u USER]
 * ARGS`, which is run with `-c` and the private config in front (realIO). Pure.
 */
export function ctlArgs(config: string, args: string[], via?: CtlVia): string[] {
  if (!via) return ["-c", config, ...args];
  return ["-s", via.serverUrl, ...(via.username === null ? [] : ["-u", via.username]), ...args];
}

/** The seam between vexo-sv's logic and the machine: unit tests script it, the CLI uses realIO. */
export interface SupervisorIO {
  /** Runs `supervisorctl -c CONFIG ARGS...` (never through a shell); with `via`, sent where it says (ctlArgs). */
  run(config: string, args: string[], via?: CtlVia): Promise<CtlResult>;
  /** Resolves once something accepts a connection at the server address. */
  connect(server: Server, timeoutMs: number): Promise<void>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

/** Runs `supervisorctl -c CONFIG ARGS` with execa and an argument array; the process can be killed (early calls). */
export function spawnCtl(config: string, args: string[]): { result: Promise<CtlResult>; kill: () => void } {
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
        { hint: missing ? "install Debian's supervisor package" : undefined },
      );
    }
    return { exitCode: r.exitCode ?? 1, output: String(r.all ?? "") };
  });
  return { result, kill: () => child.kill() };
}

function connectSocket(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (server.kind === "unknown") return reject(new Error("unknown server URL"));
    const sock = server.kind === "unix" ? net.connect({ path: server.path }) : net.connect({ host: server.host, port: server.port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error("timed out"));
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.end();
      resolve();
    });
    sock.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(e.code === "ENOENT" ? "no socket file" : (e.code ?? e.message)));
    });
  });
}

/** The real machine. */
export const realIO: SupervisorIO = {
  async run(config, args, via) {
    if (!via) return spawnCtl(config, args).result;
    // Loaded only here: the early calls (src/cli/early.ts) never need it.
    const { withCtlConfig } = await import("./ctl-config.js");
    return withCtlConfig(via.config, (file) => spawnCtl(file, ctlArgs(config, args, via)).result);
  },
  connect: connectSocket,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => Date.now(),
};
