import { jsonLine } from "../json-line.js";
import type { CommandOutcome, CommandRun, Spawner } from "./exec.js";

// Which alert command runs when: at most one at a time per worker (the next waits for it), at
// most a few at once in all, and a bounded queue per worker (the oldest waiting alert is dropped,
// with a log line, when a worker's queue is full). A command that fails or hangs only holds its
// own worker's turn until its timeout; the listener goes on answering supervisord meanwhile.

/** One command to run for one worker. */
export interface Job {
  worker: string;
  /** How the log names it ("fatal app-queue:app-queue_00"). */
  label: string;
  /** What to run, worked out once it is this job's turn (what it asks supervisord is bounded by the same slots). */
  prepare(): Promise<CommandRun>;
}

export interface DispatchOptions {
  spawner: Spawner;
  /** Commands running at once, all workers together. */
  maxRunning: number;
  /** Alerts waiting per worker (beyond one running). */
  maxQueued: number;
  log(line: string): void;
  /** Told of each command's end (tests, the soak's figures). */
  onDone?(job: Job, outcome: CommandOutcome): void;
}

/** How a command's end is logged: its exit and a bounded, quoted piece of its output (no line of it can pose as the listener's). */
export function outcomeLine(job: Job, o: CommandOutcome): string {
  const how = o.error
    ? `could not run: ${o.error}`
    : o.timedOut
      ? `killed after its timeout (${Math.round(o.ms / 1000)}s)`
      : o.signal
        ? `ended by ${o.signal}`
        : `exited ${o.exitCode}`;
  const shown = o.output.length > 500 ? `${o.output.slice(0, 500)}...` : o.output;
  const output = o.outputBytes === 0 ? "" : `; output (${o.outputBytes} bytes): ${jsonLine(shown)}`;
  return `alert ${job.label}: command ${how} in ${o.ms} ms${output}`;
}

export class Dispatcher {
  private readonly queues = new Map<string, Job[]>();
  private readonly busy = new Set<string>();
  private readonly aborts = new Set<AbortController>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: DispatchOptions) {}

  /** Alerts waiting or running. */
  size(): number {
    let n = this.busy.size;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Queues a command; it runs once its worker's previous one has ended and a slot is free. */
  push(job: Job): void {
    const q = this.queues.get(job.worker) ?? [];
    q.push(job);
    if (q.length > this.opts.maxQueued) {
      const dropped = q.shift() as Job;
      this.opts.log(
        `alert ${dropped.label}: dropped, ${this.opts.maxQueued} newer alerts for ${job.worker} wait behind a command still running`,
      );
    }
    this.queues.set(job.worker, q);
    this.pump();
  }

  private pump(): void {
    for (const [worker, q] of this.queues) {
      if (this.busy.size >= this.opts.maxRunning) return;
      if (this.busy.has(worker)) continue;
      const job = q.shift() as Job;
      if (q.length === 0) this.queues.delete(worker);
      this.start(job);
    }
    if (this.size() === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private start(job: Job): void {
    this.busy.add(job.worker);
    const abort = new AbortController();
    this.aborts.add(abort);
    job
      .prepare()
      .then((run) => this.opts.spawner(run, abort.signal))
      .then(
        (o) => {
          this.opts.log(outcomeLine(job, o));
          this.opts.onDone?.(job, o);
        },
        (e: unknown) => this.opts.log(`alert ${job.label}: ${e instanceof Error ? e.message : String(e)}`),
      )
      .finally(() => {
        this.aborts.delete(abort);
        this.busy.delete(job.worker);
        this.pump();
      });
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.size() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** For the listener's end: what waits is dropped, what runs is killed (its whole process group). */
  stop(): void {
    for (const [worker, q] of this.queues) this.opts.log(`${q.length} alert(s) for ${worker} not sent: the listener is stopping`);
    this.queues.clear();
    for (const a of this.aborts) a.abort();
  }
}
