import { describe, expect, it } from "vitest";
import { EventReader, ProtocolError, parseTokens, READY, resultFrame, toEvent } from "../../../src/core/alerts/protocol.js";

// src/core/alerts/protocol.ts: supervisord's event listener protocol on scripted byte streams,
// cut at every byte, several events at once, unknown events, and the exact RESULT framing.

/** One event as supervisord writes it (supervisor/process.py, _dispatchEvent): header line, then `len` bytes of payload. */
function frame(name: string, payload: string, serial = 1): Buffer {
  const body = Buffer.from(payload);
  return Buffer.from(
    `ver:3.0 server:supervisor serial:${serial} pool:vexo-sv-alerts poolserial:${serial} eventname:${name} len:${body.length}\n${payload}`,
  );
}

const FATAL = "processname:app_00 groupname:app from_state:BACKOFF";
const EXITED = "processname:app_01 groupname:app from_state:RUNNING expected:0 pid:4242";
const TICK = "when:1201063880";

describe("the event reader", () => {
  it("reads one event, its payload exactly len bytes", () => {
    const [ev] = new EventReader().feed(frame("PROCESS_STATE_FATAL", FATAL, 21));
    expect(ev?.name).toBe("PROCESS_STATE_FATAL");
    expect(ev?.header).toMatchObject({ ver: "3.0", server: "supervisor", serial: "21", len: String(FATAL.length) });
    expect(ev?.payload.toString()).toBe(FATAL);
    expect(ev?.truncated).toBe(false);
  });

  it("gives the same events whatever the pieces: split inside tokens, the length, and the payload", () => {
    const stream = Buffer.concat([
      frame("PROCESS_STATE_FATAL", FATAL),
      frame("TICK_60", TICK, 2),
      frame("PROCESS_STATE_EXITED", EXITED, 3),
    ]);
    const whole = new EventReader().feed(stream).map((e) => [e.name, e.payload.toString()]);
    expect(whole).toHaveLength(3);
    for (let cut = 1; cut < stream.length; cut++) {
      const r = new EventReader();
      const got = [...r.feed(stream.subarray(0, cut)), ...r.feed(stream.subarray(cut))].map((e) => [e.name, e.payload.toString()]);
      expect(got, `cut at byte ${cut}`).toEqual(whole);
    }
    // One byte at a time.
    const r = new EventReader();
    const bytewise = [...stream].flatMap((b) => r.feed(Buffer.from([b]))).map((e) => [e.name, e.payload.toString()]);
    expect(bytewise).toEqual(whole);
  });

  it("counts len in bytes, not characters (a name in UTF-8)", () => {
    const payload = "processname:fähre groupname:fähre from_state:BACKOFF";
    const [ev, next] = new EventReader().feed(Buffer.concat([frame("PROCESS_STATE_FATAL", payload), frame("TICK_60", TICK)]));
    expect(ev?.payload.toString()).toBe(payload);
    expect(next?.name).toBe("TICK_60");
  });

  it("keeps at most maxPayload bytes of a long payload, drops the rest, and reads the next event right", () => {
    const r = new EventReader(8192, 16);
    const long = `data:${"x".repeat(1000)}`;
    const evs = [
      ...r.feed(frame("PROCESS_COMMUNICATION_STDOUT", long).subarray(0, 500)),
      ...r.feed(Buffer.concat([frame("PROCESS_COMMUNICATION_STDOUT", long).subarray(500), frame("TICK_60", TICK)])),
    ];
    expect(evs.map((e) => [e.name, e.payload.length, e.truncated])).toEqual([
      ["PROCESS_COMMUNICATION_STDOUT", 16, true],
      ["TICK_60", TICK.length, false],
    ]);
  });

  it("refuses a stream it cannot follow: no length, a token without a colon, an endless header line", () => {
    expect(() => new EventReader().feed(Buffer.from("ver:3.0 eventname:TICK_60\n"))).toThrow(ProtocolError);
    expect(() => new EventReader().feed(Buffer.from("ver:3.0 eventname:TICK_60 len:x\n"))).toThrow(ProtocolError);
    expect(() => new EventReader().feed(Buffer.from("garbage eventname:TICK_60 len:1\n1"))).toThrow(/not key:value/u);
    expect(() => new EventReader(64).feed(Buffer.from("x".repeat(100)))).toThrow(/no header line within 64 bytes/u);
  });

  it("waits, holding nothing extra, while an event is incomplete", () => {
    const r = new EventReader();
    const f = frame("PROCESS_STATE_FATAL", FATAL);
    expect(r.feed(f.subarray(0, f.length - 1))).toEqual([]);
    expect(r.feed(f.subarray(f.length - 1))).toHaveLength(1);
    expect(r.feed(Buffer.alloc(0))).toEqual([]);
  });
});

describe("events", () => {
  const ev = (name: string, payload: string) =>
    toEvent({ header: { eventname: name }, name, payload: Buffer.from(payload), truncated: false });

  it("reads process states with their names, expected and pid", () => {
    expect(ev("PROCESS_STATE_EXITED", EXITED)).toEqual({
      kind: "state",
      state: "EXITED",
      group: "app",
      process: "app_01",
      from: "RUNNING",
      expected: false,
      pid: 4242,
      serial: null,
    });
    expect(ev("PROCESS_STATE_FATAL", FATAL)).toMatchObject({ state: "FATAL", group: "app", process: "app_00", expected: null, pid: null });
    expect(ev("PROCESS_STATE_RUNNING", "processname:w groupname:w from_state:STARTING pid:9")).toMatchObject({ state: "RUNNING", pid: 9 });
    expect(ev("PROCESS_STATE_BACKOFF", "processname:w groupname:w from_state:STARTING tries:2")).toMatchObject({ state: "BACKOFF" });
  });

  it("keeps shell metacharacters in a name as they are: data, never interpreted", () => {
    const e = ev(
      "PROCESS_STATE_FATAL",
      "processname:x$(touch${IFS}/tmp/p);`id`|&> groupname:x$(touch${IFS}/tmp/p);`id`|&> from_state:BACKOFF",
    );
    expect(e).toMatchObject({ group: "x$(touch${IFS}/tmp/p);`id`|&>", process: "x$(touch${IFS}/tmp/p);`id`|&>" });
  });

  it("reads ticks, and leaves unknown or malformed events as other (acknowledged, not acted on)", () => {
    expect(ev("TICK_60", TICK)).toEqual({ kind: "tick", when: 1201063880 });
    expect(ev("TICK_5", "")).toMatchObject({ kind: "other", why: "a tick without a time" });
    expect(ev("SUPERVISOR_STATE_CHANGE_RUNNING", "")).toEqual({ kind: "other", name: "SUPERVISOR_STATE_CHANGE_RUNNING" });
    expect(ev("PROCESS_GROUP_ADDED", "groupname:app\n")).toEqual({ kind: "other", name: "PROCESS_GROUP_ADDED" });
    expect(ev("PROCESS_STATE_MADE_UP", FATAL)).toMatchObject({ kind: "other" });
    expect(ev("PROCESS_STATE_FATAL", "from_state:BACKOFF")).toMatchObject({ kind: "other", why: "a process state without its names" });
  });

  it("parses key:value tokens, the value kept whole after the first colon", () => {
    expect(parseTokens("a:1 b:x:y  c:")).toEqual({ a: "1", b: "x:y", c: "" });
    expect(parseTokens("junk a:1")).toEqual({ a: "1" });
  });
});

describe("framing", () => {
  it("is READY\\n, and RESULT with the body's length, a newline and the body (no newline after it)", () => {
    expect(READY).toBe("READY\n");
    expect(resultFrame("OK")).toBe("RESULT 2\nOK");
    expect(resultFrame("FAIL")).toBe("RESULT 4\nFAIL");
  });
});
