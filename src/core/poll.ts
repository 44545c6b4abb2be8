import type { SupervisorIO } from "./ctl-io.js";

/**
 * The one poll loop: calls `step` every `intervalMs` (a number, or one worked out from the time
 * since the start) until it returns a value. Once the deadline has passed, `step` is called one
 * last time with `timedOut` true and must return a value or throw: each caller says for itself
 * what running out of time means. No sleep runs past the deadline.
 */
export async function poll<T>(
  io: Pick<SupervisorIO, "sleep" | "now">,
  opts: { timeoutMs: number; intervalMs: number | ((elapsedMs: number) => number) },
  step: (timedOut: boolean) => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const start = io.now();
  const until = start + opts.timeoutMs;
  for (;;) {
    const timedOut = io.now() >= until;
    const r = await step(timedOut);
    if (r !== undefined) return r;
    if (timedOut) throw new Error("poll: step returned nothing after the deadline");
    const interval = typeof opts.intervalMs === "number" ? opts.intervalMs : opts.intervalMs(io.now() - start);
    await io.sleep(Math.max(0, Math.min(interval, until - io.now())));
  }
}
