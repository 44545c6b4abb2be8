import { VexoError } from "../errors.js";
import type { Layout } from "./layout.js";
import { type Machine, realMachine } from "./machine.js";
import type { ProcessStatus } from "./results.js";
import { PROCESS_STATES, type ProcessState } from "./states.js";
import { World } from "./world.js";
import { type CtlResult, ctlArgs, realIO, type SupervisorIO } from "./ctl-io.js";
import { type Endpoint, mainSettings, resolveEndpoint } from "./endpoint.js";

// Everything vexo-sv says to supervisord goes through here: pure builders of each call, one
// seam (SupervisorIO) that runs them, and the parsers of what supervisorctl answers.

/** One supervisorctl invocation, as data: what --dry-run prints and the runner runs. */
export interface CtlCall {
  args: string[];
}

const groups = (names: string[]) => names.map((n) => `${n}:*`);

/** Calls that change nothing: the only ones started before it is known where to ask (SupervisordClient.run). */
const READ_ONLY = new Set(["status", "version"]);

/** Pure builders of every call vexo-sv makes; whole groups are addressed as `NAME:*`. */
export const calls = {
  update: (name: string): CtlCall => ({ args: ["update", name] }),
  /** One `update` naming several groups: each is applied as `update NAME` would (never a bare update: names are never empty). */
  updateGroups: (names: string[]): CtlCall => ({ args: ["update", ...names] }),
  /** Rereads the config and lists the groups whose config differs from what runs (applies nothing). */
  reread: (): CtlCall => ({ args: ["reread"] }),
  /** start | stop | restart of whole groups, one call for all of them. */
  groups: (verb: "start" | "stop" | "restart", names: string[]): CtlCall => ({ args: [verb, ...groups(names)] }),
  /** Start these processes (`group:group_00`), and no other of their groups (healing). */
  startProcesses: (fullNames: string[]): CtlCall => ({ args: ["start", ...fullNames] }),
  /** One process (`group:group_00`), for rolling restarts. */
  restartProcess: (fullName: string): CtlCall => ({ args: ["restart", fullName] }),
  signal: (sig: "TERM" | "USR2" | "CONT", names: string[]): CtlCall => ({ args: ["signal", sig, ...groups(names)] }),
  /** Status of every program, or of the named groups only. */
  status: (names: string[] = []): CtlCall => ({ args: ["status", ...groups(names)] }),
  shutdown: (): CtlCall => ({ args: ["shutdown"] }),
  version: (): CtlCall => ({ args: ["version"] }),
};

/**
 * supervisorctl for one supervisord (its layout), through an IO seam; `machine`: the lookups about
 * the machine around it; `world`: this command's one reading of supervisord's files (built on first use).
 */
export class SupervisordClient {
  private known: World | undefined;
  private ep: Endpoint | undefined;
  private mainHasCtl: boolean | undefined;

  constructor(
    readonly layout: Layout,
    readonly io: SupervisorIO = realIO,
    readonly machine: Machine = realMachine,
    world?: World,
  ) {
    this.known = world;
  }

  /** This command's reading of every file supervisord reads: read once, whoever asks. */
  get world(): World {
    return (this.known ??= new World(this.layout));
  }

  /**
   * Where this command asks supervisord (endpoint.ts), worked out once: `-c MAIN` when the main
   * config says what the merged configuration says; else its server. A merged configuration that
   * cannot be read leaves MAIN as it is (the command reports that where it reads the files).
   */
  get endpoint(): Endpoint {
    if (this.ep) return this.ep;
    let merged: ReturnType<World["config"]> | null;
    try {
      merged = this.world.config();
    } catch {
      merged = null;
    }
    return (this.ep = resolveEndpoint(this.layout, this.world.mainText(), merged));
  }

  /** The config and the server URL, for messages. */
  get where(): Where {
    return { config: this.layout.config, serverUrl: this.endpoint.serverUrl };
  }

  /** The full argv of a call, for display and for results (never a password: endpoint.ts). */
  argv(call: CtlCall): string[] {
    return ["supervisorctl", ...ctlArgs(this.layout.config, call.args, this.endpoint.via)];
  }

  /**
   * Runs a call and returns what supervisorctl said, whatever it was. Until the endpoint is known,
   * a read-only call to a main config with its own [supervisorctl] starts at once with `-c MAIN`,
   * overlapping with the reading of every file the endpoint needs, and its answer is used only when
   * the endpoint says MAIN is where to ask (else the call is made again where it says).
   */
  run(call: CtlCall): Promise<CtlResult> {
    const config = this.layout.config;
    if (this.ep === undefined && READ_ONLY.has(call.args[0] ?? "") && this.mainAsks()) {
      return this.io.run(config, call.args).then((r) => {
        const { via } = this.endpoint;
        return via ? this.io.run(config, call.args, via) : r;
      });
    }
    return this.io.run(config, call.args, this.endpoint.via);
  }

  /** Whether `supervisorctl -c MAIN` can ask anything at all (MAIN has [supervisorctl]); MAIN alone is parsed. */
  private mainAsks(): boolean {
    return (this.mainHasCtl ??= mainSettings(this.layout.config, this.world.mainText()) !== null);
  }

  /** Runs a call; throws when supervisord could not be reached at all. */
  async checked(call: CtlCall): Promise<CtlResult> {
    const r = await this.run(call);
    assertReachable(this.where, r.output);
    return r;
  }

  /** The processes of the named groups (every program when none is named). */
  async status(names: string[] = []): Promise<ProcessStatus[]> {
    return parseStatus((await this.checked(calls.status(names))).output);
  }

  /**
   * supervisorctl answered with an error of its own instead of an answer (a config it cannot use,
   * a refused password): its reason, the config and where it asked, and what a person can run to
   * see it (the password never in it). Never a list of states.
   */
  failure(output: string, call: CtlCall): VexoError {
    const { via, from, serverUrl } = this.endpoint;
    const config = this.layout.config;
    const where = via ? ` at ${serverUrl} (as ${from === config ? config : `${from}, included by ${config},`} says)` : ` (${config})`;
    return new VexoError("supervisorctl_failed", `supervisorctl could not ask supervisord${where}: ${faultReason(output)}`, {
      hint: `see what \`${this.argv(call).join(" ")}\` says${via && /password\s*=/u.test(via.config) ? ` (with -p and the password in ${from})` : ""}`,
      details: { config, serverUrl, output: output.trim() },
    });
  }

  /** Checks that supervisord answers on its socket, without spawning supervisorctl. */
  async probe(timeoutMs = 3000): Promise<void> {
    const { server, serverUrl } = this.endpoint;
    if (server.kind === "unknown") {
      throw new VexoError("supervisord_unreachable", `cannot understand serverurl ${serverUrl}`);
    }
    try {
      await this.io.connect(server, timeoutMs);
    } catch (e) {
      throw unreachableError(this.where, (e as Error).message);
    }
  }
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
/**
 * True when supervisorctl's output holds one of its own error lines (`ERROR: ...`,
 * `ERROR (...)`, `error: <class ...>`, `<Fault N: ...>`). Lines about NAME itself are skipped
 * first: a worker may well be called `error-mailer`, `ERROR` or `Faulty`.
 */
export function reportsError(output: string, name: string): boolean {
  const fine = new Set(
    ["added process group", "updated process group", "removed process group", "stopped", "disappeared", "available", "changed"].map(
      (what) => `${name}: ${what}`,
    ),
  );
  return output
    .split("\n")
    .map((l) => l.trim())
    .some((l) => !fine.has(l) && /^ERROR[:( ]|^error: |<Fault \d+: /u.test(l));
}

export function faultReason(output: string): string {
  const fault = /<Fault \d+: ['"](.*?)['"]>/su.exec(output);
  if (fault) return (fault[1] as string).replace(/\\n/gu, "\n").replace(/\\'/gu, "'");
  const err = /^(?:ERROR|error)[: ]\s*(.*)$/mu.exec(output) ?? /ERROR \((.*)\)/u.exec(output);
  return (err?.[1] ?? output).trim();
}

/** Which config, and the server URL supervisorctl was sent to (a Layout is one; SupervisordClient.where says where it asked). */
export interface Where {
  config: string;
  serverUrl: string;
}

/** Throws the right error when output says supervisord is unreachable. */
export function assertReachable(layout: Where, output: string): void {
  const why = unreachableReason(output);
  if (why) throw unreachableError(layout, why);
}

export function unreachableError(layout: Where, why: string): VexoError {
  if (/permission denied|EACCES/iu.test(why)) {
    return new VexoError("permission_denied", `permission denied on supervisord's socket (${layout.serverUrl})`, {
      details: { config: layout.config },
    });
  }
  return new VexoError("supervisord_unreachable", `supervisord is not running or not reachable at ${layout.serverUrl} (${why})`, {
    details: { config: layout.config },
  });
}

const LINE_RE = new RegExp(`^(\\S+)\\s+(${PROCESS_STATES.join("|")})(?:\\s+(.*?))?\\s*$`, "u");

/** `1 day, 2:03:04` / `3 days, 0:00:01` / `0:01:02` to seconds. */
export function parseUptime(s: string): number | null {
  const m = /^(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2})$/u.exec(s.trim());
  if (!m) return null;
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** Parses one status line; null for lines that are not process lines (errors, blanks). */
export function parseStatusLine(line: string): ProcessStatus | null {
  const m = LINE_RE.exec(line);
  if (!m) return null;
  const fullName = m[1] as string;
  const state = m[2] as ProcessState;
  const description = m[3] ?? "";
  const colon = fullName.indexOf(":");
  const group = colon < 0 ? fullName : fullName.slice(0, colon);
  const process = colon < 0 ? fullName : fullName.slice(colon + 1);
  let pid: number | null = null;
  let uptimeSeconds: number | null = null;
  const run = /^pid (\d+), uptime (.+)$/u.exec(description);
  if (run) {
    pid = Number(run[1]);
    uptimeSeconds = parseUptime(run[2] as string);
  }
  return { group, process, fullName, state, pid, uptimeSeconds, description };
}

/** Parses the whole output of `supervisorctl status`, keeping only process lines. */
export function parseStatus(output: string): ProcessStatus[] {
  const out: ProcessStatus[] = [];
  for (const line of output.split(/\r?\n/u)) {
    const p = parseStatusLine(line);
    if (p) out.push(p);
  }
  return out;
}

/** Lines of supervisorctl output that report a failed start, as process names. */
export function failedInOutput(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split("\n")) {
    const m = /^(\S+): ERROR \((spawn error|abnormal termination|no such file)\)/u.exec(line.trim());
    if (m) out.push(m[1] as string);
  }
  return out;
}

/** Lines where supervisorctl refused a name outright ("no such group", "no such process", "bad name"). */
export function refusedInOutput(output: string): string[] {
  return output
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /: ERROR \((no such group|no such process|bad name)\)/u.test(l));
}
