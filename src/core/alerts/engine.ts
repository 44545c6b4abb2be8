// The listener's decisions, apart from any IO and on a clock it is given (unit tests run it in
// virtual time): which alert to send for a state change, which to hold back (one per worker and
// kind per window), when a worker flaps, and when to heal a FATAL process (a delay that doubles
// per failure, up to a cap, until it stays up). Memory is bounded: every map is keyed by a process
// or group supervisord runs, and entries with nothing left to remember are dropped on each tick.

/** What an alert is about. `healing`: a heal attempt starts; `healed`: it brought the process up. */
export const ALERT_KINDS = ["fatal", "flapping", "exited", "healing", "healed", "recovered"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Sent whatever the window: each heal attempt is reported, and the delays between them bound them. */
const UNLIMITED: ReadonlySet<AlertKind> = new Set(["healing", "healed"]);

/** A healed process that stays up this long starts its next failure's delays over. */
export const HEAL_STABLE_MS = 10 * 60 * 1000;

export interface EngineOptions {
  flapExits: number;
  flapWindowMs: number;
  rateWindowMs: number;
  onExit: boolean;
  onRecovery: boolean;
  heal: { firstDelayMs: number; maxDelayMs: number } | null;
}

/** A process as supervisord names it in events: its group and its own name. */
export interface ProcessKey {
  group: string;
  process: string;
}

/** A process the listener watches, and why it may not be healed (undefined: it may). */
export interface Subject extends ProcessKey {
  noHeal?: string;
}

/** An alert to send. */
export interface AlertOrder extends ProcessKey {
  kind: AlertKind;
  at: number;
  /** Alerts of this kind for this worker held back since the last one sent. */
  suppressed: number;
  exits?: { count: number; windowMinutes: number };
  heal?: { attempt: number; nextDelaySeconds: number | null };
}

export type Decision =
  { do: "alert"; alert: AlertOrder } | { do: "heal"; key: ProcessKey; attempt: number; at: number } | { do: "note"; text: string };

interface Heal {
  attempt: number;
  /** When the scheduled attempt is due; null when none is. */
  dueAt: number | null;
  /** An attempt was started and its outcome is not known yet. */
  started: boolean;
  /** When it came up after a heal; null while it has not. */
  upSince: number | null;
}

interface ProcState {
  state: string;
  /** A fatal alert was decided and no recovery since. */
  alerted: boolean;
  heal?: Heal;
}

const keyOf = (k: ProcessKey) => `${k.group}:${k.process}`;

export class AlertEngine {
  private readonly procs = new Map<string, ProcState & ProcessKey>();
  /** Unexpected exits per group, newest last, at most flapExits + 1 of them. */
  private readonly exits = new Map<string, number[]>();
  /** Groups alerted as flapping, and the process named in that alert. */
  private readonly flapping = new Map<string, string>();
  private readonly sent = new Map<string, { at: number; suppressed: number }>();
  /** Alerts held back since the start (in the listener's tick line). */
  heldBack = 0;

  constructor(private readonly opts: EngineOptions) {}

  /** How many entries the engine holds (for the soak's figures, and a test that memory stays bounded). */
  size(): number {
    return this.procs.size + this.exits.size + this.flapping.size + this.sent.size;
  }

  /**
   * A process entered a state, as an event says (EXITED, FATAL) or as the heal's start or the
   * minute's sweep found it (RUNNING). A FATAL event is always a new FATAL: supervisord sends one
   * per transition into it.
   */
  stateChange(s: Subject, state: string, expected: boolean | null, now: number): Decision[] {
    if (state === "FATAL") return this.fatal(s, this.proc(s), now);
    if (state === "RUNNING") return this.running(s, this.proc(s), now);
    const p = this.procs.get(keyOf(s));
    if (p) p.state = state;
    // A start that fails (BACKOFF, then FATAL) is alerted as FATAL; flapping is a running worker that keeps dying.
    if (state === "EXITED" && expected === false) return this.unexpectedExit(s, now);
    return [];
  }

  /**
   * A process as the minute's sweep (`status`) finds it: a FATAL no event told of (the listener
   * was not running, or supervisord's buffer overflowed) as its event; a RUNNING one the engine
   * remembers (alerted, or healed) as up again; anything else remembered as it is. Nothing is
   * kept of a process the engine knew nothing about.
   */
  observed(s: Subject, state: string, now: number): Decision[] {
    const p = this.procs.get(keyOf(s));
    if (state === "FATAL") return p?.state === "FATAL" ? [] : this.fatal(s, this.proc(s), now);
    if (!p || p.state === state) return [];
    if (state === "RUNNING") return this.running(s, p, now);
    p.state = state;
    return [];
  }

  private proc(k: ProcessKey): ProcState & ProcessKey {
    let p = this.procs.get(keyOf(k));
    if (!p) {
      p = { group: k.group, process: k.process, state: "UNKNOWN", alerted: false };
      this.procs.set(keyOf(k), p);
    }
    return p;
  }

  private fatal(s: Subject, p: ProcState, now: number): Decision[] {
    p.state = "FATAL";
    p.alerted = true;
    const out = this.alert(s, "fatal", now);
    if (this.opts.heal === null) return out;
    if (s.noHeal !== undefined) return [...out, { do: "note", text: `not healing ${keyOf(s)}: ${s.noHeal}` }];
    const h = p.heal;
    // Told twice of one FATAL (the sweep, then the event supervisord held while the listener was down): one heal.
    if (h && h.dueAt !== null && !h.started) return out;
    // A failure long after the last heal brought it up is a new story: the delays start over.
    const fresh = !h || (h.upSince !== null && now - h.upSince >= HEAL_STABLE_MS);
    const attempt = fresh ? 1 : h.attempt + 1;
    const at = now + this.healDelay(attempt);
    p.heal = { attempt, dueAt: at, started: false, upSince: null };
    return [...out, { do: "heal", key: { group: s.group, process: s.process }, attempt, at }];
  }

  /** The delay before heal attempt `attempt` (1, 2, ...): the first delay, doubled per failure, at most the cap. */
  healDelay(attempt: number): number {
    const h = this.opts.heal;
    if (!h) return 0;
    return Math.min(h.maxDelayMs, h.firstDelayMs * 2 ** Math.min(attempt - 1, 30));
  }

  private running(s: Subject, p: ProcState, now: number): Decision[] {
    p.state = "RUNNING";
    const h = p.heal;
    if (h?.started) {
      h.started = false;
      h.upSince = now;
      p.alerted = false;
      return this.alert(s, "healed", now, { heal: { attempt: h.attempt, nextDelaySeconds: null } });
    }
    // Up by other means (a start by hand) while a heal was due: that heal is not needed.
    if (h && h.dueAt !== null) {
      h.dueAt = null;
      h.upSince = now;
    }
    if (!p.alerted) return [];
    p.alerted = false;
    return this.opts.onRecovery ? this.alert(s, "recovered", now) : [];
  }

  private unexpectedExit(s: Subject, now: number): Decision[] {
    const { flapExits, flapWindowMs } = this.opts;
    const times = (this.exits.get(s.group) ?? []).filter((t) => t > now - flapWindowMs);
    times.push(now);
    // Only whether more than flapExits fall in the window matters: older ones are dropped.
    if (times.length > flapExits + 1) times.splice(0, times.length - flapExits - 1);
    this.exits.set(s.group, times);
    const out = this.opts.onExit ? this.alert(s, "exited", now) : [];
    if (times.length <= flapExits) return out;
    this.flapping.set(s.group, s.process);
    const exits = { count: times.length, windowMinutes: Math.round(flapWindowMs / 60000) };
    return [...out, ...this.alert(s, "flapping", now, { exits })];
  }

  /** One alert per group and kind per window (heal reports aside); held-back ones are counted. */
  private alert(k: ProcessKey, kind: AlertKind, now: number, extra: Partial<AlertOrder> = {}): Decision[] {
    const id = `${k.group}\0${kind}`;
    const last = this.sent.get(id);
    if (!UNLIMITED.has(kind) && last && now - last.at < this.opts.rateWindowMs) {
      this.heldBack++;
      // Said once per window: a crash loop would otherwise write a line per event.
      if (++last.suppressed > 1) return [];
      const text = `${kind} alert for ${keyOf(k)} held back (one per ${Math.round(this.opts.rateWindowMs / 1000)}s; more are counted, not logged)`;
      return [{ do: "note", text }];
    }
    this.sent.set(id, { at: now, suppressed: 0 });
    return [{ do: "alert", alert: { group: k.group, process: k.process, kind, at: now, suppressed: last?.suppressed ?? 0, ...extra } }];
  }

  /** Whether heal attempt `attempt` of this process is still due: it is still FATAL and nothing else was decided since. */
  healDue(k: ProcessKey, attempt: number): boolean {
    const p = this.procs.get(keyOf(k));
    return p?.state === "FATAL" && p.heal?.attempt === attempt && p.heal.dueAt !== null && !p.heal.started;
  }

  /** A heal attempt starts (its process checked and found FATAL): the alert that says so. */
  healStarting(k: ProcessKey, now: number): Decision[] {
    const h = this.procs.get(keyOf(k))?.heal;
    if (!h) return [];
    h.dueAt = null;
    h.started = true;
    // Its start is under way: the FATAL that ends a failed attempt is a new one.
    (this.procs.get(keyOf(k)) as ProcState).state = "STARTING";
    const next = this.opts.heal ? Math.round(this.healDelay(h.attempt + 1) / 1000) : null;
    return this.alert(k, "healing", now, { heal: { attempt: h.attempt, nextDelaySeconds: next } });
  }

  /** A due heal was not made (the process was paused, stopped or up by then): nothing is pending any more. */
  healSkipped(k: ProcessKey): void {
    const h = this.procs.get(keyOf(k))?.heal;
    if (h) h.dueAt = null;
  }

  /** A heal attempt's start failed outright (supervisorctl refused): the next one is scheduled as after a FATAL. */
  healFailed(s: Subject, now: number): Decision[] {
    const p = this.proc(s);
    if (p.heal) p.heal.started = false;
    return this.fatal(s, p, now).filter((d) => d.do !== "alert");
  }

  /**
   * A minute went by: flapping groups with no unexpected exit for a whole window have recovered;
   * what is left to remember of each process and group is kept, the rest dropped. `groups`: the
   * groups supervisord runs now (null: not known), whose processes are kept.
   */
  tick(now: number, groups: ReadonlySet<string> | null): Decision[] {
    const out: Decision[] = [];
    for (const [group, times] of this.exits) {
      const live = times.filter((t) => t > now - this.opts.flapWindowMs);
      if (live.length > 0) this.exits.set(group, live);
      else this.exits.delete(group);
    }
    for (const [group, process] of this.flapping) {
      if (this.exits.has(group)) continue;
      this.flapping.delete(group);
      if (this.opts.onRecovery && (groups === null || groups.has(group))) out.push(...this.alert({ group, process }, "recovered", now));
    }
    for (const [id, s] of this.sent) if (now - s.at >= this.opts.rateWindowMs) this.sent.delete(id);
    for (const [id, p] of this.procs) if ((groups !== null && !groups.has(p.group)) || forgettable(p, now)) this.procs.delete(id);
    return out;
  }
}

/** Nothing to remember: not FATAL, not alerted, no heal due or under way or settling. */
function forgettable(p: ProcState, now: number): boolean {
  if (p.state === "FATAL" || p.alerted) return false;
  const h = p.heal;
  return !h || (h.dueAt === null && !h.started && (h.upSince === null || now - h.upSince >= HEAL_STABLE_MS));
}
