import { describe, expect, it } from "vitest";
import { Dispatcher, type Job, outcomeLine } from "../../../src/core/alerts/dispatch.js";
import type { CommandOutcome, CommandRun } from "../../../src/core/alerts/exec.js";

// src/core/alerts/dispatch.ts with a scripted spawner: commands end when the test says so. At most
// one command per worker, a few in all, a bounded queue per worker, and a failure or a rejection
// never stopping the next alert.

const OK: CommandOutcome = { exitCode: 0, signal: null, timedOut: false, error: null, output: "", outputBytes: 0, ms: 1 };

class Scripted {
  started: string[] = [];
  private ends = new Map<string, (o: CommandOutcome | Error) => void>();
  aborted: string[] = [];

  spawner = (run: CommandRun, abort?: AbortSignal): Promise<CommandOutcome> => {
    const id = run.stdin;
    this.started.push(id);
    abort?.addEventListener("abort", () => this.aborted.push(id));
    return new Promise((resolve, reject) => this.ends.set(id, (o) => (o instanceof Error ? reject(o) : resolve(o))));
  };

  /** Ends a running command, then lets the dispatcher's promise chain run. */
  async end(id: string, o: CommandOutcome | Error = OK): Promise<void> {
    const f = this.ends.get(id);
    if (!f) throw new Error(`${id} is not running`);
    this.ends.delete(id);
    f(o);
    await new Promise((r) => setTimeout(r, 0));
  }
}

const job = (worker: string, id: string): Job => ({
  worker,
  label: id,
  prepare: async () => ({ argv: ["x"], stdin: id, env: {}, timeoutMs: 1000, maxOutput: 10 }),
});
const settle = () => new Promise((r) => setTimeout(r, 0));

function setup(maxRunning = 4, maxQueued = 10) {
  const s = new Scripted();
  const log: string[] = [];
  const d = new Dispatcher({ spawner: s.spawner, maxRunning, maxQueued, log: (l) => log.push(l) });
  return { s, d, log };
}

describe("the alert dispatcher", () => {
  it("runs one command at a time per worker: the next waits for the one before", async () => {
    const { s, d } = setup();
    d.push(job("a", "a1"));
    d.push(job("a", "a2"));
    d.push(job("b", "b1"));
    await settle();
    expect(s.started).toEqual(["a1", "b1"]);
    await s.end("b1");
    expect(s.started).toEqual(["a1", "b1"]);
    await s.end("a1");
    await settle();
    expect(s.started).toEqual(["a1", "b1", "a2"]);
    await s.end("a2");
    await d.idle();
    expect(d.size()).toBe(0);
  });

  it("runs at most maxRunning in all", async () => {
    const { s, d } = setup(2);
    for (const w of ["a", "b", "c", "d"]) d.push(job(w, w));
    await settle();
    expect(s.started).toEqual(["a", "b"]);
    await s.end("a");
    await settle();
    expect(s.started).toEqual(["a", "b", "c"]);
  });

  it("keeps at most maxQueued alerts waiting per worker, dropping the oldest with a log line", async () => {
    const { s, d, log } = setup(4, 2);
    for (const id of ["a1", "a2", "a3", "a4"]) d.push(job("a", id));
    await settle();
    expect(d.size()).toBe(3);
    expect(log).toEqual(["alert a2: dropped, 2 newer alerts for a wait behind a command still running"]);
    await s.end("a1");
    await settle();
    await s.end("a3");
    await settle();
    expect(s.started).toEqual(["a1", "a3", "a4"]);
  });

  it("goes on after a command that fails, hangs until killed, or a spawner that rejects", async () => {
    const { s, d, log } = setup();
    d.push(job("a", "fails"));
    d.push(job("a", "hangs"));
    d.push(job("a", "rejects"));
    d.push(job("a", "next"));
    await settle();
    await s.end("fails", { ...OK, exitCode: 1, output: "boom\n", outputBytes: 5 });
    await settle();
    await s.end("hangs", { ...OK, exitCode: null, signal: "SIGKILL", timedOut: true, ms: 30_000 });
    await settle();
    await s.end("rejects", new Error("spawn failed"));
    await settle();
    expect(s.started).toEqual(["fails", "hangs", "rejects", "next"]);
    expect(log).toEqual([
      'alert fails: command exited 1 in 1 ms; output (5 bytes): "boom\\n"',
      "alert hangs: command killed after its timeout (30s) in 30000 ms",
      "alert rejects: spawn failed",
    ]);
  });

  it("stop drops what waits and kills what runs", async () => {
    const { s, d, log } = setup();
    d.push(job("a", "a1"));
    d.push(job("a", "a2"));
    await settle();
    d.stop();
    expect(s.aborted).toEqual(["a1"]);
    expect(log).toEqual(["1 alert(s) for a not sent: the listener is stopping"]);
  });
});

describe("outcome lines", () => {
  const j = job("a", "fatal a:a_00");
  it("quote the command's output, bounded, so that no line of it can pose as the listener's", () => {
    const line = outcomeLine(j, {
      ...OK,
      exitCode: 2,
      output: `x\n2099-01-01T00:00:00Z alert forged${"y".repeat(1000)}`,
      outputBytes: 5_000_000,
    });
    expect(line).not.toContain("\n");
    expect(line).toMatch(/^alert fatal a:a_00: command exited 2 in 1 ms; output \(5000000 bytes\): "x\\n2099/u);
    expect(line.length).toBeLessThan(700);
    // CMD may echo what it was given (a worker's log lines): C1 controls stay escapes in the listener's log.
    expect(outcomeLine(j, { ...OK, exitCode: 0, output: "\u009b2J", outputBytes: 4 })).toContain('"\\u009b2J"');
    expect(outcomeLine(j, { ...OK, exitCode: null, error: "Command failed with ENOENT: nope" })).toBe(
      "alert fatal a:a_00: command could not run: Command failed with ENOENT: nope in 1 ms",
    );
  });
});
