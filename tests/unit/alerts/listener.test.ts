import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Dispatcher } from "../../../src/core/alerts/dispatch.js";
import type { CommandOutcome, CommandRun } from "../../../src/core/alerts/exec.js";
import { type Clock, Listener } from "../../../src/core/alerts/listener.js";
import type { AlertSettings } from "../../../src/core/alerts/settings.js";
import { Watch } from "../../../src/core/alerts/watch.js";
import { pauseRecordPath } from "../../../src/core/records.js";
import { World } from "../../../src/core/world.js";
import { fakeSupervisor, ScriptedIO, statusLine } from "../../helpers/scripted.js";

// src/core/alerts/listener.ts on a scripted supervisord (its status and start answers), real
// program files and pause records in a temp directory, a virtual clock, and a scripted alert
// command: every event answered at once and nothing else written to the protocol channel, even
// while commands hang; alerts with their facts; heals only of what is still FATAL and not paused.

const SETTINGS: AlertSettings = {
  version: 1,
  exec: ["/usr/bin/alert"],
  allPrograms: false,
  onExit: false,
  onRecovery: false,
  flap: { exits: 5, minutes: 10 },
  windowSeconds: 900,
  timeoutSeconds: 30,
  logLines: 3,
  heal: null,
};

class VirtualClock implements Clock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.next;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== id);
  };
  pending = () => this.timers.length;
  /** Moves time on, running each timer that falls due. */
  async advance(ms: number): Promise<void> {
    this.t += ms;
    for (const t of this.timers.filter((x) => x.at <= this.t)) {
      this.timers = this.timers.filter((x) => x !== t);
      t.fn();
    }
    await settle();
  }
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

function frame(name: string, payload: string): Buffer {
  return Buffer.from(
    `ver:3.0 server:supervisor serial:1 pool:vexo-sv-alerts poolserial:1 eventname:${name} len:${Buffer.byteLength(payload)}\n${payload}`,
  );
}
const fatal = (g: string, p: string) => frame("PROCESS_STATE_FATAL", `processname:${p} groupname:${g} from_state:BACKOFF`);
const runningEv = (g: string, p: string) => frame("PROCESS_STATE_RUNNING", `processname:${p} groupname:${g} from_state:STARTING pid:7`);

interface Setup {
  listener: Listener;
  io: ScriptedIO;
  clock: VirtualClock;
  written: string[];
  log: string[];
  runs: CommandRun[];
  states: Map<string, string>;
  logDir: string;
  layout: ReturnType<typeof fakeSupervisor>["layout"];
}

/** A listener over workers `app` and `other`; `states`: what status answers per process; `hang`: commands never end. */
function setup(settings: Partial<AlertSettings> = {}, hang = false): Setup {
  const states = new Map<string, string>();
  const io = new ScriptedIO((args) => {
    if (args[0] === "status") {
      const lines = [...states].filter(([n]) => args.length === 1 || args.slice(1).some((a) => n.startsWith(a.replace(/\*$/u, ""))));
      return lines.map(([n, s]) => statusLine(n, s, s === "FATAL" ? "Exited too quickly (process log may have details)" : "")).join("\n");
    }
    if (args[0] === "start") {
      for (const n of args.slice(1)) states.set(n, "RUNNING");
      return args
        .slice(1)
        .map((n) => `${n}: started`)
        .join("\n");
    }
    return "";
  });
  const sv = fakeSupervisor(io, [
    { name: "app", path: "/srv/app" },
    { name: "other", path: "/srv/other" },
  ]);
  const clock = new VirtualClock();
  const written: string[] = [];
  const log: string[] = [];
  const runs: CommandRun[] = [];
  const spawner = (run: CommandRun): Promise<CommandOutcome> => {
    runs.push(run);
    return hang
      ? new Promise(() => {})
      : Promise.resolve({ exitCode: 0, signal: null, timedOut: false, error: null, output: "", outputBytes: 0, ms: 1 });
  };
  const dispatcher = new Dispatcher({ spawner, maxRunning: 4, maxQueued: 10, log: (l) => log.push(l) });
  const watch = new Watch({
    readWorld: () => new World(sv.layout),
    allPrograms: Boolean(settings.allPrograms),
    now: clock.now,
    log: (l) => log.push(l),
  });
  watch.refresh();
  const listener = new Listener({
    settings: { ...SETTINGS, ...settings },
    sv,
    watch,
    dispatcher,
    clock,
    host: "web1",
    env: { PATH: "/usr/bin", VEXO_SV_WORKER: "from-outside" },
    write: (s) => written.push(s),
    log: (l) => log.push(l),
  });
  return { listener, io, clock, written, log, runs, states, logDir: sv.layout.logDir, layout: sv.layout };
}

const ACK = "RESULT 2\nOKREADY\n";
const docs = (s: Setup) => s.runs.map((r) => JSON.parse(r.stdin));

describe("the protocol channel", () => {
  it("says READY first, answers every event exactly once whatever the pieces, and writes nothing else", async () => {
    const s = setup();
    s.listener.start();
    const stream = Buffer.concat([
      fatal("app", "app_00"),
      frame("TICK_60", "when:1"),
      frame("PROCESS_GROUP_ADDED", "groupname:x\n"),
      runningEv("app", "app_00"),
    ]);
    for (let i = 0; i < stream.length; i += 7) s.listener.data(stream.subarray(i, i + 7));
    await settle();
    expect(s.written).toEqual(["READY\n", ACK, ACK, ACK, ACK]);
  });

  it("answers at once while alert commands hang, a flood of events included", async () => {
    const s = setup({ onExit: true, windowSeconds: 10 }, true);
    s.listener.start();
    for (let i = 0; i < 500; i++) {
      s.clock.t += 20_000;
      s.listener.data(frame("PROCESS_STATE_EXITED", `processname:app_00 groupname:app from_state:RUNNING expected:0 pid:${i}`));
    }
    await settle();
    expect(s.written.length).toBe(501);
    expect(s.written.slice(1).every((w) => w === ACK)).toBe(true);
    // One command runs for the worker; the rest wait, bounded.
    expect(s.runs).toHaveLength(1);
    expect(s.listener.size().alerts).toBe(11);
  });

  it("answers an event it fails to act on, and says why in its log", async () => {
    const s = setup();
    s.listener.start();
    (s.listener as unknown as { d: { watch: { watched: () => boolean } } }).d.watch.watched = () => {
      throw new Error("boom");
    };
    s.listener.data(fatal("app", "app_00"));
    expect(s.written).toEqual(["READY\n", ACK]);
    expect(s.log.at(-1)).toBe("event PROCESS_STATE_FATAL not acted on: boom");
  });
});

describe("alerts", () => {
  it("sends a FATAL of a worker once, with supervisord's reason, the exit and the log's last lines; a program not managed is left out", async () => {
    const s = setup();
    s.states.set("app:app_00", "FATAL");
    fs.writeFileSync(path.join(s.logDir, "app_00.log"), "older\nbooting\nline $(rm -rf /) `id`; echo pwned\nPHP Fatal error: no vendor\n");
    s.listener.start();
    await settle();
    s.listener.data(Buffer.concat([fatal("app", "app_00"), fatal("hand-written", "hand-written")]));
    await settle();
    expect(docs(s)).toHaveLength(1);
    const [doc] = docs(s);
    expect(doc).toMatchObject({
      version: 1,
      event: "fatal",
      host: "web1",
      worker: "app",
      process: "app:app_00",
      managed: true,
      state: "FATAL",
      reason: "FATAL: Exited too quickly (process log may have details)",
      suppressed: 0,
      log: {
        file: path.join(s.logDir, "app_00.log"),
        lines: ["booting", "line $(rm -rf /) `id`; echo pwned", "PHP Fatal error: no vendor"],
      },
    });
    expect(s.runs[0]?.argv).toEqual(["/usr/bin/alert"]);
    expect(s.runs[0]?.env).toMatchObject({
      PATH: "/usr/bin",
      VEXO_SV_EVENT: "fatal",
      VEXO_SV_WORKER: "app",
      VEXO_SV_PROCESS: "app:app_00",
      VEXO_SV_HOST: "web1",
    });
  });

  it("with allPrograms, alerts any program, a name full of shell metacharacters only as data", async () => {
    const s = setup({ allPrograms: true });
    const evil = "x$(touch${IFS}/tmp/pwned);`id`|&>";
    s.listener.start();
    // Added after the listener read the configuration: found once a reading is a few seconds old.
    fs.writeFileSync(path.join(path.dirname(s.layout.config), "conf.d", "evil.conf"), `[program:${evil}]\ncommand=/bin/false\n`);
    await s.clock.advance(2000);
    s.listener.data(fatal(evil, evil));
    await settle();
    const [doc] = docs(s);
    expect(doc).toMatchObject({ worker: evil, process: evil, managed: false });
    expect(s.runs[0]?.argv).toEqual(["/usr/bin/alert"]);
    // Not a plain word: no environment variable carries it (nor the one from outside).
    expect(
      Object.keys(s.runs[0]?.env ?? {})
        .filter((k) => k.startsWith("VEXO_SV_"))
        .sort(),
    ).toEqual(["VEXO_SV_EVENT", "VEXO_SV_HOST", "VEXO_SV_TIME"]);
  });

  it("writes a log line's C1 controls as \\u escapes: a terminal that shows the JSON (tail of a .jsonl) reads U+009B as CSI", async () => {
    const s = setup();
    s.states.set("app:app_00", "FATAL");
    // What the app's owner can make a job print: CSI 2J (clear the screen), an OSC 8 link, DEL.
    const line = "job failed \u009b2J\u009d8;;http://evil\u009cclick\u009d8;;\u009c \u007f";
    fs.writeFileSync(path.join(s.logDir, "app_00.log"), `${line}\n`);
    s.listener.start();
    await settle();
    const stdin = s.runs[0]?.stdin ?? "";
    expect(stdin).not.toMatch(/[\u007f-\u009f]/u);
    expect(stdin).toContain("\\u009b2J");
    expect(JSON.parse(stdin).log.lines).toEqual([line]);
  });

  it("finds FATAL workers it was not told of when it starts (a restarted listener)", async () => {
    const s = setup();
    s.states.set("app:app_00", "FATAL");
    s.states.set("other:other_00", "RUNNING");
    s.listener.start();
    await settle();
    expect(docs(s).map((d) => [d.event, d.process])).toEqual([["fatal", "app:app_00"]]);
    // The FATAL event that follows is the same FATAL: no second alert.
    s.listener.data(fatal("app", "app_00"));
    await settle();
    expect(docs(s)).toHaveLength(1);
  });
});

describe("healing", () => {
  const HEAL = { heal: { delaySeconds: 10, maxDelaySeconds: 600 } };

  it("starts a FATAL worker's process after the delay, then says it is healed", async () => {
    const s = setup(HEAL);
    s.listener.start();
    s.states.set("app:app_00", "FATAL");
    s.listener.data(fatal("app", "app_00"));
    await settle();
    expect(s.io.calls.filter((c) => c[0] === "start")).toEqual([]);
    await s.clock.advance(10_000);
    // supervisorctl answers "started" once the process is RUNNING past startsecs: that is healed.
    expect(s.io.calls.filter((c) => c[0] === "start")).toEqual([["start", "app:app_00"]]);
    await settle();
    expect(docs(s).map((d) => [d.event, d.heal])).toEqual([
      ["fatal", undefined],
      ["healing", { attempt: 1, nextDelaySeconds: 20 }],
      ["healed", { attempt: 1, nextDelaySeconds: null }],
    ]);
    expect(s.log.filter((l) => l.startsWith("heal "))).toEqual([
      "heal app:app_00: attempt 1 in 10s",
      "heal app:app_00: attempt 1, starting it",
      'heal app:app_00: supervisorctl said "app:app_00: started"',
    ]);
  });

  it("never starts a paused worker, FATAL or not", async () => {
    const s = setup(HEAL);
    fs.mkdirSync(path.dirname(pauseRecordPath(s.layout, "app")), { recursive: true });
    fs.writeFileSync(pauseRecordPath(s.layout, "app"), '{"at":"2024-01-01T00:00:00Z","supervisordPid":null}\n');
    s.listener.start();
    s.states.set("app:app_00", "FATAL");
    s.listener.data(fatal("app", "app_00"));
    await s.clock.advance(3_600_000);
    expect(s.io.calls.filter((c) => c[0] === "start")).toEqual([]);
    expect(s.log).toContain("not healing app:app_00: paused (a pause record holds it; resume it to start it)");
  });

  it("does not start a worker paused, stopped or started by hand while its heal was due", async () => {
    for (const [what, act] of [
      ["paused", (s: Setup) => fs.writeFileSync(pauseRecordPath(s.layout, "app"), '{"at":"x","supervisordPid":null}\n')],
      ["stopped", (s: Setup) => s.states.set("app:app_00", "STOPPED")],
    ] as const) {
      const s = setup(HEAL);
      fs.mkdirSync(path.dirname(pauseRecordPath(s.layout, "app")), { recursive: true });
      s.listener.start();
      s.states.set("app:app_00", "FATAL");
      s.listener.data(fatal("app", "app_00"));
      await settle();
      act(s);
      await s.clock.advance(10_000);
      expect(
        s.io.calls.filter((c) => c[0] === "start"),
        what,
      ).toEqual([]);
      expect(s.log.at(-1), what).toMatch(/^heal app:app_00: not started, (paused|it is STOPPED, not FATAL)/u);
    }
    // Started by hand: the minute's sweep finds it RUNNING, and the heal is not due any more.
    const s = setup(HEAL);
    s.listener.start();
    await settle();
    s.states.set("app:app_00", "FATAL");
    s.listener.data(fatal("app", "app_00"));
    s.states.set("app:app_00", "RUNNING");
    s.listener.data(frame("TICK_60", "when:1"));
    await settle();
    await s.clock.advance(10_000);
    expect(s.io.calls.filter((c) => c[0] === "start")).toEqual([]);
  });

  it("stops its timers when it stops: a listener gone leaves no heal behind", async () => {
    const s = setup(HEAL);
    s.listener.start();
    s.listener.data(fatal("app", "app_00"));
    expect(s.clock.pending()).toBe(1);
    s.listener.stop();
    expect(s.clock.pending()).toBe(0);
  });
});
