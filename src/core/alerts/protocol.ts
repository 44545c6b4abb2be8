import { PROCESS_STATES, type ProcessState } from "../states.js";

// supervisord's event listener protocol (supervisor/dispatchers.py, childutils.py), bytes exactly:
// the listener writes READY\n; supervisord sends one header line of `key:value` tokens ending in
// `len:N`, then exactly N bytes of payload; the listener answers `RESULT 2\nOK` and READY\n
// again. Reads arrive in any pieces: a token split across two, several events in one. Nothing
// but these words may ever reach the listener's stdout.

/** The listener is ready for the next event. */
export const READY = "READY\n";

/** An event handled: RESULT, the body's length in bytes, a newline, the body (no newline after it). */
export function resultFrame(body: "OK" | "FAIL"): string {
  return `RESULT ${Buffer.byteLength(body)}\n${body}`;
}

/** A stream the listener cannot follow: it ends, and supervisord starts it again. */
export class ProtocolError extends Error {}

/** One event as it came: its header tokens and its payload bytes (cut to the reader's bound when longer). */
export interface RawEvent {
  header: Record<string, string>;
  name: string;
  payload: Buffer;
  /** The payload was longer than the reader keeps: the rest was read and dropped. */
  truncated: boolean;
}

/** `key:value key2:value2` tokens; a token without `:` is a ProtocolError when `strict`, else skipped. */
export function parseTokens(line: string, strict = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const token of line.split(" ")) {
    if (token === "") continue;
    const colon = token.indexOf(":");
    if (colon < 1) {
      if (strict) throw new ProtocolError(`header token ${JSON.stringify(token.slice(0, 80))} is not key:value`);
      continue;
    }
    out[token.slice(0, colon)] = token.slice(colon + 1);
  }
  return out;
}

interface Pending {
  header: Record<string, string>;
  name: string;
  len: number;
  parts: Buffer[];
  kept: number;
  seen: number;
}

/**
 * Reads events from supervisord's stream, whatever pieces it comes in. Memory is bounded: a header
 * line longer than `maxHeader` bytes is a ProtocolError, and at most `maxPayload` bytes of a
 * payload are kept (the rest is counted and dropped: no event the listener subscribes to is large).
 */
export class EventReader {
  private buf: Buffer = Buffer.alloc(0);
  private pending: Pending | null = null;

  constructor(
    private readonly maxHeader = 8192,
    private readonly maxPayload = 64 * 1024,
  ) {}

  /** Takes the next bytes; returns every event they complete, in order. */
  feed(chunk: Buffer): RawEvent[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: RawEvent[] = [];
    for (;;) {
      if (this.pending === null && !this.readHeader()) break;
      const done = this.readPayload();
      if (!done) break;
      out.push(done);
    }
    return out;
  }

  /** True once a header was read into `pending`. */
  private readHeader(): boolean {
    const nl = this.buf.indexOf(0x0a);
    if (nl < 0) {
      if (this.buf.length > this.maxHeader) throw new ProtocolError(`no header line within ${this.maxHeader} bytes`);
      return false;
    }
    if (nl > this.maxHeader) throw new ProtocolError(`a header line of ${nl} bytes`);
    const header = parseTokens(this.buf.subarray(0, nl).toString("utf8"), true);
    this.buf = this.buf.subarray(nl + 1);
    const len = header.len;
    if (len === undefined || !/^\d{1,12}$/u.test(len)) throw new ProtocolError(`a header without a length: ${JSON.stringify(header)}`);
    if (!header.eventname) throw new ProtocolError(`a header without an event name: ${JSON.stringify(header)}`);
    this.pending = { header, name: header.eventname, len: Number(len), parts: [], kept: 0, seen: 0 };
    return true;
  }

  /** The pending event once all its bytes are in, else null. */
  private readPayload(): RawEvent | null {
    const p = this.pending as Pending;
    const take = Math.min(p.len - p.seen, this.buf.length);
    const keep = Math.min(take, this.maxPayload - p.kept);
    // Copied: a kept slice of a large read would hold on to all of it.
    if (keep > 0) p.parts.push(Buffer.from(this.buf.subarray(0, keep)));
    p.kept += keep;
    p.seen += take;
    this.buf = this.buf.subarray(take);
    if (p.seen < p.len) return null;
    this.pending = null;
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
    return { header: p.header, name: p.name, payload: Buffer.concat(p.parts, p.kept), truncated: p.kept < p.len };
  }
}

/** The process states the listener acts on. */
export type WatchedState = Extract<ProcessState, "EXITED" | "FATAL" | "RUNNING" | "BACKOFF">;

/** A PROCESS_STATE_* event: which process (supervisord's group and process names) entered which state. */
export interface StateEvent {
  kind: "state";
  state: ProcessState;
  group: string;
  process: string;
  from: string;
  /** EXITED only: supervisord's word (exitcodes=; any exit before startsecs is unexpected). */
  expected: boolean | null;
  pid: number | null;
  serial: number | null;
}

/** What the listener makes of an event: a process state, a tick, or one it does not act on. */
export type SupervisorEvent = StateEvent | { kind: "tick"; when: number } | { kind: "other"; name: string; why?: string };

const num = (v: string | undefined): number | null => (v !== undefined && /^\d{1,15}$/u.test(v) ? Number(v) : null);

/** Reads an event's payload by its name; anything unexpected is "other" (acknowledged, not acted on). */
export function toEvent(raw: RawEvent): SupervisorEvent {
  const firstLine = raw.payload.toString("utf8").split("\n", 1)[0] ?? "";
  const tokens = parseTokens(firstLine);
  if (raw.name.startsWith("TICK_")) {
    const when = num(tokens.when);
    return when === null ? { kind: "other", name: raw.name, why: "a tick without a time" } : { kind: "tick", when };
  }
  const m = /^PROCESS_STATE_([A-Z]+)$/u.exec(raw.name);
  const state = m?.[1] as ProcessState | undefined;
  if (!state || !PROCESS_STATES.includes(state)) return { kind: "other", name: raw.name };
  const { processname, groupname } = tokens;
  if (!processname || !groupname) return { kind: "other", name: raw.name, why: "a process state without its names" };
  return {
    kind: "state",
    state,
    group: groupname,
    process: processname,
    from: tokens.from_state ?? "",
    expected: tokens.expected === undefined ? null : tokens.expected === "1",
    pid: num(tokens.pid),
    serial: num(raw.header.serial),
  };
}
