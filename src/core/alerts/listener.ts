import { jsonLine } from "../json-line.js";
import type { ProcessStatus } from "../results.js";
import { type SupervisordClient, calls, failedInOutput } from "../supervisorctl.js";
import { alertDocument, alertEnv } from "./alert-doc.js";
import type { Dispatcher } from "./dispatch.js";
import { type AlertOrder, AlertEngine, type Decision, type ProcessKey, type Subject } from "./engine.js";
import type { CommandRun } from "./exec.js";
import { EventReader, READY, resultFrame, type SupervisorEvent, toEvent } from "./protocol.js";
import type { AlertSettings } from "./settings.js";
import type { Watched } from "./watch.js";

// The listener: supervisord's events in, each answered at once (RESULT 2\nOK, then READY), then
// acted on: the engine decides, alerts go to the dispatcher (CMD runs apart, never holding up
// an answer), heals are timers that check the process again before they start it. What it says
// goes to `log` (stderr, the listener's own log); `write` is the protocol channel and nothing else.

/** Timers on a clock the caller gives (real ones in the listener, virtual ones in unit tests). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ListenerDeps {
  /** null: nothing to do but answer supervisord (no settings, or ones that cannot be trusted). */
  settings: AlertSettings | null;
  sv: SupervisordClient;
  watch: Watched;
  dispatcher: Dispatcher;
  clock: Clock;
  host: string;
  /** The environment CMD starts from. */
  env: NodeJS.ProcessEnv;
  write(s: string): void;
  log(line: string): void;
}

/** Bytes of CMD's output kept for the log. */
const MAX_OUTPUT = 4096;

const named = (k: ProcessKey) => (k.group === k.process ? k.group : `${k.group}:${k.process}`);

export class Listener {
  private readonly reader = new EventReader();
  private readonly engine: AlertEngine | null;
  private readonly timers = new Set<unknown>();
  private sweeping = false;
  private stopped = false;
  /** Events answered since the start (in the tick's log line). */
  private events = 0;

  constructor(private readonly d: ListenerDeps) {
    const s = d.settings;
    this.engine =
      s === null
        ? null
        : new AlertEngine({
            flapExits: s.flap.exits,
            flapWindowMs: s.flap.minutes * 60_000,
            rateWindowMs: s.windowSeconds * 1000,
            onExit: s.onExit,
            onRecovery: s.onRecovery,
            heal: s.heal && { firstDelayMs: s.heal.delaySeconds * 1000, maxDelayMs: s.heal.maxDelaySeconds * 1000 },
          });
  }

  /** What the engine holds, and the alerts waiting or running (bounded memory, in figures). */
  size(): { engine: number; alerts: number; timers: number } {
    return { engine: this.engine?.size() ?? 0, alerts: this.d.dispatcher.size(), timers: this.timers.size };
  }

  /** Says READY, then looks for FATAL processes it missed while it was not running. */
  start(): void {
    this.d.write(READY);
    if (this.engine) this.background("sweep", () => this.sweep());
  }

  /** Bytes from supervisord: every event they complete is answered at once, then acted on. A ProtocolError is thrown. */
  data(chunk: Buffer): void {
    for (const raw of this.reader.feed(chunk)) {
      this.d.write(`${resultFrame("OK")}${READY}`);
      this.events++;
      try {
        this.handle(toEvent(raw));
      } catch (e) {
        this.d.log(`event ${raw.name} not acted on: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Stops its timers and the alert commands (killed). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) this.d.clock.clearTimeout(t);
    this.timers.clear();
    this.d.dispatcher.stop();
  }

  private handle(ev: SupervisorEvent): void {
    const e = this.engine;
    if (!e || this.stopped) return;
    if (ev.kind === "other") {
      if (ev.why) this.d.log(`event ${ev.name} ignored: ${ev.why}`);
      return;
    }
    if (ev.kind === "tick") {
      this.d.watch.refresh();
      this.apply(e.tick(this.d.clock.now(), this.d.watch.names()));
      this.background("sweep", () => this.sweep());
      const { engine, alerts, timers } = this.size();
      const rss = Math.round(process.memoryUsage.rss() / 1048576);
      const held = e.heldBack;
      this.d.log(
        `tick: ${this.events} events answered, ${held} alerts held back; ${engine} entries kept, ${alerts} alerts waiting or running, ${timers} heals due; rss ${rss} MiB`,
      );
      return;
    }
    if (!this.d.watch.watched(ev.group)) return;
    this.apply(e.stateChange(this.subject(ev, ev.state === "FATAL"), ev.state, ev.expected, this.d.clock.now()));
  }

  /** The process as the engine takes it; whether it may be healed is asked only when it matters (a pause record read). */
  private subject(k: ProcessKey, fatal: boolean): Subject {
    const s: Subject = { group: k.group, process: k.process };
    if (fatal && this.d.settings?.heal) {
      const why = this.d.watch.noHeal(k.group);
      if (why !== undefined) s.noHeal = why;
    }
    return s;
  }

  private apply(decisions: Decision[]): void {
    for (const d of decisions) {
      if (d.do === "note") this.d.log(d.text);
      else if (d.do === "alert") this.send(d.alert);
      else this.schedule(d.key, d.attempt, d.at);
    }
  }

  private schedule(key: ProcessKey, attempt: number, at: number): void {
    const ms = Math.max(0, at - this.d.clock.now());
    this.d.log(`heal ${named(key)}: attempt ${attempt} in ${Math.round(ms / 1000)}s`);
    const t = this.d.clock.setTimeout(() => {
      this.timers.delete(t);
      this.background(`heal ${named(key)}`, () => this.heal(key, attempt));
    }, ms);
    this.timers.add(t);
  }

  /** A due heal: only a process still FATAL, of a worker still not paused, is started; every step logged. */
  private async heal(key: ProcessKey, attempt: number): Promise<void> {
    const e = this.engine as AlertEngine;
    if (this.stopped || !e.healDue(key, attempt)) return;
    const skip = (why: string) => {
      e.healSkipped(key);
      this.d.log(`heal ${named(key)}: not started, ${why}`);
    };
    const why = this.d.watch.noHeal(key.group);
    if (why !== undefined) return skip(why);
    let p: ProcessStatus | undefined;
    try {
      p = (await this.d.sv.status([key.group])).find((x) => x.process === key.process);
    } catch (err) {
      this.d.log(`heal ${named(key)}: supervisord could not be asked (${(err as Error).message}); trying again later`);
      return this.apply(e.healFailed(key, this.d.clock.now()));
    }
    if (!e.healDue(key, attempt)) return;
    if (p?.state !== "FATAL") return skip(`it is ${p?.state ?? "no longer loaded"}, not FATAL`);
    this.apply(e.healStarting(key, this.d.clock.now()));
    this.d.log(`heal ${p.fullName}: attempt ${attempt}, starting it`);
    const r = await this.d.sv.run(calls.startProcesses([p.fullName]));
    const said = jsonLine(r.output.trim().slice(0, 300));
    this.d.log(`heal ${p.fullName}: supervisorctl said ${said}`);
    // supervisorctl says started once the process is RUNNING past startsecs: healed.
    if (/: started$/mu.test(r.output)) return this.apply(e.stateChange(key, "RUNNING", null, this.d.clock.now()));
    // A failed start: supervisord reports FATAL again, and that schedules the next attempt.
    if (failedInOutput(r.output).length > 0) return;
    if (/already started/u.test(r.output)) return this.apply(e.stateChange(key, "RUNNING", null, this.d.clock.now()));
    this.apply(e.healFailed(key, this.d.clock.now()));
  }

  /**
   * Every process of the watched programs, as `status` reports it, once a minute and at the start:
   * FATALs no event told of (the listener was not running, or supervisord dropped events), and
   * processes up again after an alert (no RUNNING events are asked for: in a crash loop they
   * would double the events supervisord must hand over one at a time).
   */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const procs = (await this.d.sv.status()).filter((p) => this.d.watch.watched(p.group));
      for (const p of procs) {
        if (this.stopped) return;
        const key = { group: p.group, process: p.process };
        this.apply((this.engine as AlertEngine).observed(this.subject(key, p.state === "FATAL"), p.state, this.d.clock.now()));
      }
    } finally {
      this.sweeping = false;
    }
  }

  private send(order: AlertOrder): void {
    const label = `${order.kind} ${named(order)}`;
    this.d.log(`alert ${label}${order.suppressed ? ` (${order.suppressed} held back since the last)` : ""}`);
    this.d.dispatcher.push({ worker: order.group, label, prepare: () => this.prepare(order) });
  }

  /** The command and its input for one alert: its process's state now, its exit, its log lines. */
  private async prepare(order: AlertOrder): Promise<CommandRun> {
    const s = this.d.settings as AlertSettings;
    let status: ProcessStatus | null = null;
    try {
      status = (await this.d.sv.status([order.group])).find((p) => p.process === order.process) ?? null;
    } catch {
      // not known: the alert goes without it
    }
    const facts = {
      host: this.d.host,
      config: this.d.sv.layout.config,
      managed: this.d.watch.group(order.group)?.managed ?? false,
      status,
      exits: this.d.watch.exits(order.group, order.process, s.flap.minutes * 60_000),
      log: this.d.watch.logTail(order.group, order.process, s.logLines),
    };
    const doc = alertDocument(order, facts);
    return {
      argv: s.exec,
      stdin: `${jsonLine(doc)}\n`,
      env: alertEnv(doc, this.d.env),
      timeoutMs: s.timeoutSeconds * 1000,
      maxOutput: MAX_OUTPUT,
    };
  }

  /** Runs work apart from the event it came from: its failure is logged, never thrown at supervisord's stream. */
  private background(what: string, fn: () => Promise<void>): void {
    fn().catch((e: unknown) => this.d.log(`${what}: ${e instanceof Error ? e.message : String(e)}`));
  }
}
