import os from "node:os";
import type { Readable } from "node:stream";
import { realIO, type SupervisorIO } from "../ctl-io.js";
import type { LayoutOptions } from "../layout.js";
import { realMachine } from "../machine.js";
import { SupervisordClient } from "../supervisorctl.js";
import { World } from "../world.js";
import { Dispatcher } from "./dispatch.js";
import { spawnCommand } from "./exec.js";
import { type Clock, Listener } from "./listener.js";
import { type AlertSettings, readSettings, revisionOf } from "./settings.js";
import { Watch } from "./watch.js";

// `alerts listen`, the program supervisord runs as the [eventlistener:vexo-sv-alerts]: the
// settings read once (a change restarts it: settings.ts), the world read as every command reads
// it, then events until supervisord closes stdin or stops it. A crash is restarted by supervisord,
// and a new listener starts the protocol over with READY.

export interface ListenOptions {
  layout: LayoutOptions;
  /** The revision on the command line (settings.ts): a different one on disk is logged. */
  revision?: string | undefined;
  /** supervisord's events (stdin). */
  input: Readable;
  /** The protocol channel (stdout): READY and RESULT frames only. */
  write(s: string): void;
  /** A line for the listener's own log (stderr). */
  log(line: string): void;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  io?: SupervisorIO;
}

/** CMDs running at once, all workers together; alerts waiting per worker. */
const MAX_RUNNING = 4;
const MAX_QUEUED = 10;
/** How long the listener's end waits for the commands it killed to be gone. */
const STOP_WAIT_MS = 6000;

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

/** The settings, or null (logged why): the listener then only answers supervisord. */
function settingsFor(world: World, o: ListenOptions): AlertSettings | null {
  try {
    const read = readSettings(world.layout);
    if (!read) {
      o.log("no alerts settings (alerts are disabled): answering events only");
      return null;
    }
    if (o.revision !== undefined && revisionOf(read.text) !== o.revision)
      o.log(`the settings changed since this listener was written (revision ${revisionOf(read.text)}, not ${o.revision}); using them`);
    return read.settings;
  } catch (e) {
    o.log(`alerts settings not used: ${e instanceof Error ? e.message : String(e)}; answering events only`);
    return null;
  }
}

function describe(s: AlertSettings | null): string {
  if (!s) return "listening (no alerts)";
  const heal = s.heal ? `heal after ${s.heal.delaySeconds}s doubling to ${s.heal.maxDelaySeconds}s` : "no healing";
  return `listening: ${s.allPrograms ? "every program" : "vexo-sv's workers"}; flapping over ${s.flap.exits} exits in ${s.flap.minutes}m; one alert per ${s.windowSeconds}s; ${heal}; command timeout ${s.timeoutSeconds}s`;
}

/** Runs the listener until supervisord closes its stdin or the signal aborts; a stream it cannot follow rejects. */
export async function listen(o: ListenOptions): Promise<void> {
  const world = World.read(o.layout);
  const sv = new SupervisordClient(world.layout, o.io ?? realIO, realMachine, world);
  const settings = settingsFor(world, o);
  const watch = new Watch({
    readWorld: () => World.read(o.layout),
    allPrograms: settings?.allPrograms ?? false,
    now: realClock.now,
    log: o.log,
  });
  watch.refresh();
  const dispatcher = new Dispatcher({ spawner: spawnCommand, maxRunning: MAX_RUNNING, maxQueued: MAX_QUEUED, log: o.log });
  const listener = new Listener({
    settings,
    sv,
    watch,
    dispatcher,
    clock: realClock,
    host: os.hostname(),
    env: o.env,
    write: o.write,
    log: o.log,
  });
  o.log(describe(settings));
  listener.start();
  try {
    await pump(o, listener);
  } finally {
    listener.stop();
    // stdin (supervisord's pipe) would keep the process alive after a SIGTERM: supervisord then
    // waited its stopwaitsecs (10 s) and killed the listener on every alerts enable and disable.
    o.input.destroy();
    await Promise.race([dispatcher.idle(), new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
  }
}

/** Feeds stdin to the listener until it ends or the signal aborts. */
function pump(o: ListenOptions, listener: Listener): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: unknown) => {
      o.input.off("data", onData);
      o.signal.removeEventListener("abort", onAbort);
      if (e === undefined) resolve();
      else reject(e);
    };
    const onData = (chunk: Buffer) => {
      try {
        listener.data(chunk);
      } catch (e) {
        done(e);
      }
    };
    const onAbort = () => done();
    o.input.on("data", onData);
    o.input.once("end", () => done());
    o.input.once("error", done);
    o.signal.addEventListener("abort", onAbort, { once: true });
    if (o.signal.aborted) done();
  });
}
