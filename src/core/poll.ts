import type { SupervisorIO } from "./ctl-io.js";

/**
 * The one poll loop: calls `step` every `intervalMs` until it returns a value. Once the
 * deadline has passed, `step` is called one last time with `timedOut` true and must return
 * a value or throw: each caller says for itself what running out of time means.
 */
export async function poll<T>(
  io: Pick<SupervisorIO, "sleep" | "now">,
  opts: { timeoutMs: number; intervalMs: number },
  step: (timedOut: boolean) => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const until = io.now() + opts.timeoutMs;
  for (;;) {
    const timedOut = io.now() >= until;
    const r = await step(timedOut);
    if (r !== undefined) return r;
    if (timedOut) throw new Error("poll: step returned nothing after the deadline");
    await io.sleep(opts.intervalMs);
  }
}
