import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  countExits,
  exitReason,
  type ExitsOptions,
  type ExitsResult,
  mainLogSource,
  type MainLogSource,
  type ProcessExits,
  readExits,
} from "../../src/core/exits.js";
import { type LocalTimeFn, parseMainLogLine, recordTime, supervisordArgs } from "../../src/core/supervisord/main-log.js";
import { World } from "../../src/core/world.js";
import { dir, file, mkfifo } from "../helpers/trust-fixtures.js";

// exits.ts and supervisord/main-log.ts: exit reasons from supervisord's own log. Times are read
// as UTC here (the zone is a parameter), so no test depends on the machine's clock or TZ.

const utc: LocalTimeFn = (w) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.ms);
const NOW = Date.UTC(2026, 11, 7, 6, 0, 0, 0); // 2026-12-07 06:00:00,000
const HOUR = 3_600_000;

/** A record as supervisord 4.2.5 writes it, `ms` before NOW. */
function rec(agoMs: number, level: string, msg: string): string {
  const d = new Date(NOW - agoMs);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const stamp = `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())},${p(d.getUTCMilliseconds(), 3)}`;
  return `${stamp} ${level} ${msg}`;
}
const min = (m: number) => m * 60_000;

const W = { group: "w", name: "w_00" };
const opts = (processes = [W], more: Partial<ExitsOptions> = {}): ExitsOptions => ({ processes, now: NOW, localTime: utc, ...more });
const known = (r: ProcessExits | undefined) => {
  if (!r?.known) throw new Error(`not known: ${JSON.stringify(r)}`);
  return r;
};
const countsOf = (lines: string[], more: Partial<ExitsOptions> = {}) => known(countExits(lines, opts([W], more))[0]).counts;
const knownResult = (r: ExitsResult) => {
  if (!r.known) throw new Error(`unknown: ${r.why}: ${r.message}`);
  return r;
};

describe("parseMainLogLine: each line form of supervisord 4.2.5 (process.py)", () => {
  const t = Date.UTC(2026, 11, 7, 5, 21, 17, 123);
  it.each([
    ["INFO exited: w_00 (exit status 0; expected)", { kind: "exited", name: "w_00", status: 0, signal: null, expected: true }],
    ["WARN exited: w_00 (exit status 12; not expected)", { kind: "exited", name: "w_00", status: 12, signal: null, expected: false }],
    [
      "WARN exited: w_00 (terminated by SIGKILL; not expected)",
      { kind: "exited", name: "w_00", status: null, signal: "SIGKILL", expected: false },
    ],
    [
      "WARN exited: w_00 (terminated by SIGSEGV (core dumped); not expected)",
      { kind: "exited", name: "w_00", status: null, signal: "SIGSEGV", expected: false },
    ],
    [
      "WARN exited: w_00 (terminated by signal 34; not expected)",
      { kind: "exited", name: "w_00", status: null, signal: "signal 34", expected: false },
    ],
    [
      "WARN exited: w_00 (unknown termination cause 0x137f; not expected)",
      { kind: "exited", name: "w_00", status: null, signal: null, expected: false },
    ],
    ["WARN stopped: w_00 (terminated by SIGTERM)", { kind: "stopped", name: "w_00", status: null, signal: "SIGTERM" }],
    ["INFO stopped: w_00 (exit status 0)", { kind: "stopped", name: "w_00", status: 0, signal: null }],
    ["INFO gave up: w_00 entered FATAL state, too many start retries too quickly", { kind: "gave_up", name: "w_00" }],
    ["INFO spawned: 'w_00' with pid 4242", { kind: "spawned", name: "w_00", pid: 4242 }],
    ["INFO success: w_00 entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)", { kind: "success", name: "w_00" }],
    ["INFO spawnerr: can't find command '/nonexistent/cmd'", { kind: "spawnerr", message: "can't find command '/nonexistent/cmd'" }],
  ])("%s", (msg, want) => {
    expect(parseMainLogLine(`2026-12-07 05:21:17,123 ${msg}`, utc)).toEqual({ time: t, ...want });
  });

  it.each([
    "INFO waiting for w_00 to stop",
    "WARN killing 'w_00' (4242) with SIGKILL",
    "INFO supervisord started with pid 1",
    "CRIT Supervisor is running as root.",
    "INFO exited: w 00 (exit status 12; not expected)", // names hold no space: not a record of an exit
    "NOPE exited: w_00 (exit status 12; not expected)",
  ])("no event: %s", (msg) => {
    expect(parseMainLogLine(`2026-12-07 05:21:17,123 ${msg}`, utc)).toBeNull();
  });

  it("a line that does not start a record (a cut first line, a traceback's) is none", () => {
    expect(parseMainLogLine("7,123 WARN exited: w_00 (exit status 12; not expected)", utc)).toBeNull();
    expect(parseMainLogLine('  File "/usr/lib/python3/dist-packages/supervisor/process.py", line 1', utc)).toBeNull();
    expect(parseMainLogLine("2026-12-07 05:21:17 WARN exited: w_00 (exit status 12; not expected)", utc)).toBeNull();
  });

  it("names with dots, underscores, dashes and non-ASCII are taken whole", () => {
    for (const name of ["app.v2_00", "a-b.c_d", "wörker_01", "x"]) {
      expect(parseMainLogLine(`2026-12-07 05:21:17,123 WARN exited: ${name} (exit status 1; not expected)`, utc)).toMatchObject({ name });
    }
  });

  it("reads times as the machine's local time by default, and as the zone given otherwise", () => {
    const local = new Date(2026, 11, 7, 5, 21, 17, 123); // this machine's zone, whatever it is
    expect(recordTime("2026-12-07 05:21:17,123 INFO x")).toBe(local.getTime());
    expect(recordTime("2026-12-07 05:21:17,123 INFO x", utc)).toBe(t);
    const plus2: LocalTimeFn = (w) => utc(w) - 2 * HOUR;
    expect(recordTime("2026-12-07 05:21:17,123 INFO x", plus2)).toBe(t - 2 * HOUR);
  });
});

describe("exitReason: Laravel 8.83's worker (Illuminate/Queue/Worker.php)", () => {
  it.each([
    [{ status: 12, signal: null }, "memory"],
    [{ status: null, signal: "SIGKILL" }, "killed"],
    [{ status: 0, signal: null }, "recycled"],
    [{ status: 1, signal: null }, "crashed"],
    [{ status: 255, signal: null }, "crashed"], // PHP's own memory_limit fatal error, not --memory
    [{ status: null, signal: "SIGSEGV" }, "crashed"],
    [{ status: null, signal: "SIGTERM" }, "crashed"], // a SIGTERM PHP did not handle
    [{ status: null, signal: null }, "crashed"],
  ] as const)("%j is %s", (e, reason) => {
    expect(exitReason(e)).toBe(reason);
  });
});

describe("countExits", () => {
  it("counts each reason, unexpected exits, and keeps the latest events newest first", () => {
    const lines = [
      rec(min(50), "WARN", "exited: w_00 (exit status 12; not expected)"),
      rec(min(40), "WARN", "exited: w_00 (terminated by SIGKILL; not expected)"),
      rec(min(30), "INFO", "exited: w_00 (exit status 0; expected)"),
      rec(min(25), "WARN", "exited: w_00 (exit status 0; not expected)"), // exit 0 before startsecs
      rec(min(20), "WARN", "exited: w_00 (exit status 1; not expected)"),
      rec(min(15), "WARN", "exited: w_00 (terminated by SIGSEGV (core dumped); not expected)"),
      rec(min(10), "INFO", "gave up: w_00 entered FATAL state, too many start retries too quickly"),
      rec(min(5), "WARN", "exited: w_00 (exit status 12; not expected)"),
    ];
    const r = known(countExits(lines, opts([W], { recent: 3 }))[0]);
    expect(r.counts).toEqual({ memory: 2, killed: 1, recycled: 2, crashed: 2, fatal: 1 });
    expect(r.unexpected).toBe(6);
    expect(r.recent).toEqual([
      { time: NOW - min(5), reason: "memory", status: 12, signal: null, expected: false },
      { time: NOW - min(10), reason: "fatal", status: null, signal: null, expected: null },
      { time: NOW - min(15), reason: "crashed", status: null, signal: "SIGSEGV", expected: false },
    ]);
    expect(known(countExits(lines, opts([W], { recent: 0 }))[0]).recent).toEqual([]);
    expect(known(countExits(lines, opts([W], { recent: 100 }))[0]).recent).toHaveLength(8);
  });

  it("a stop that was asked for, spawns, successes and spawn errors are not exits", () => {
    const lines = [
      rec(min(9), "INFO", "spawned: 'w_00' with pid 10"),
      rec(min(8), "INFO", "success: w_00 entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"),
      rec(min(7), "WARN", "stopped: w_00 (terminated by SIGKILL)"),
      rec(min(6), "INFO", "stopped: w_00 (exit status 0)"),
      rec(min(5), "INFO", "spawnerr: can't find command 'php'"),
      rec(min(4), "WARN", "killing 'w_00' (10) with SIGKILL"),
    ];
    const r = known(countExits(lines, opts())[0]);
    expect(r.counts).toEqual({ memory: 0, killed: 0, recycled: 0, crashed: 0, fatal: 0 });
    expect([r.unexpected, r.recent]).toEqual([0, []]);
  });

  it("matches the process name exactly: other programs, prefixes and look-alikes are ignored", () => {
    const lines = [
      rec(min(5), "WARN", "exited: w_000 (exit status 12; not expected)"),
      rec(min(5), "WARN", "exited: w_0 (exit status 12; not expected)"),
      rec(min(5), "WARN", "exited: w:w_00 (exit status 12; not expected)"), // supervisord never logs group:name
      rec(min(5), "WARN", "exited: other (exit status 12; not expected)"),
      rec(min(5), "WARN", "exited: app.v2_01 (exit status 12; not expected)"),
      rec(min(5), "WARN", "exited: app.v2_01 (terminated by SIGKILL; not expected)"),
    ];
    const procs = [W, { group: "app.v2", name: "app.v2_01" }, { group: "app.v2", name: "app.v2_00" }];
    const r = countExits(lines, opts(procs));
    expect(r.map((p) => [p.name, known(p).counts.memory, known(p).counts.killed])).toEqual([
      ["w_00", 0, 0],
      ["app.v2_01", 1, 1],
      ["app.v2_00", 0, 0],
    ]);
  });

  it("a name two groups' processes share is not counted for either: the log cannot tell them apart", () => {
    const lines = [rec(min(5), "WARN", "exited: x_00 (exit status 12; not expected)")];
    const r = countExits(lines, opts([{ group: "x", name: "x_00" }, { group: "x_00", name: "x_00" }, W]));
    expect(r).toEqual([
      { group: "x", name: "x_00", known: false, sharedWith: ["x_00"] },
      { group: "x_00", name: "x_00", known: false, sharedWith: ["x"] },
      expect.objectContaining({ group: "w", name: "w_00", known: true }),
    ]);
    // The same process passed twice is still one process.
    expect(
      known(
        countExits(
          lines,
          opts([
            { group: "x", name: "x_00" },
            { group: "x", name: "x_00" },
          ]),
        )[0],
      ).counts.memory,
    ).toBe(1);
  });

  it("counts within [now - window, now], both ends included", () => {
    const at = (ago: number) => rec(ago, "WARN", "exited: w_00 (exit status 12; not expected)");
    expect(countsOf([at(HOUR + 1), at(HOUR), at(0), at(-1)]).memory).toBe(2);
    expect(countsOf([at(HOUR + 1), at(HOUR), at(1)], { windowMs: HOUR - 1 }).memory).toBe(1);
    expect(countsOf([at(min(3)), at(min(2)), at(min(1))], { windowMs: min(2) }).memory).toBe(2);
    expect(countsOf([at(HOUR)], { now: NOW + 1 }).memory).toBe(0);
  });

  it("refuses a window that is not a positive span, and a bad recent count", () => {
    expect(() => countExits([], opts([W], { windowMs: 0 }))).toThrow(RangeError);
    expect(() => countExits([], opts([W], { windowMs: Number.NaN }))).toThrow(RangeError);
    expect(() => countExits([], opts([W], { now: Number.POSITIVE_INFINITY }))).toThrow(RangeError);
    expect(() => countExits([], opts([W], { recent: -1 }))).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Reading the log

const source = (p: string, loglevel: "info" | "warn" | "debug" | "error" | null = "info"): MainLogSource => ({
  kind: "file",
  path: p,
  loglevel,
});
const exitLine = (ago: number, what = "exit status 12; not expected") => rec(ago, "WARN", `exited: w_00 (${what})`);
const text = (lines: string[]) => lines.map((l) => `${l}\n`).join("");

describe("readExits", () => {
  afterEach(() => vi.restoreAllMocks());

  it("reads the log's end back to the window's start", () => {
    const log = file(path.join(dir(), "sd.log"), text([exitLine(2 * HOUR), exitLine(min(30)), exitLine(min(1))]));
    const r = knownResult(readExits(source(log), opts()));
    expect([r.since, r.until, r.files, r.unread, r.unlogged]).toEqual([NOW - HOUR, NOW, [log], null, []]);
    expect(known(r.processes[0]).counts.memory).toBe(2);
  });

  it("reads LOG.1, then LOG, when the window reaches back past the log's start (rotation)", () => {
    const d = dir();
    const log = path.join(d, "sd.log");
    file(`${log}.1`, text([exitLine(2 * HOUR), exitLine(min(50), "terminated by SIGKILL; not expected"), exitLine(min(40))]));
    file(log, text([exitLine(min(20), "exit status 0; expected"), exitLine(min(10))]));
    file(`${log}.2`, text([exitLine(min(59))])); // out of order on purpose: .2 is never read
    const r = knownResult(readExits(source(log), opts([W], { recent: 10 })));
    expect([r.files, r.unread]).toEqual([[log, `${log}.1`], null]);
    const p = known(r.processes[0]);
    expect(p.counts).toMatchObject({ memory: 2, killed: 1, recycled: 1 });
    expect(p.recent.map((e) => e.time)).toEqual([NOW - min(10), NOW - min(20), NOW - min(40), NOW - min(50)]);
  });

  it("does not open LOG.1 when the log itself reaches back past the window", () => {
    const d = dir();
    const log = file(path.join(d, "sd.log"), text([exitLine(2 * HOUR), exitLine(min(10))]));
    fs.symlinkSync("/etc/passwd", `${log}.1`); // would be refused if it were opened
    const r = knownResult(readExits(source(log), opts()));
    expect([r.files, r.unread]).toEqual([[log], null]);
  });

  it("a log that has just been rotated (empty) is followed by LOG.1; no LOG.1 means nothing older is kept", () => {
    const d = dir();
    const log = file(path.join(d, "sd.log"), "");
    file(`${log}.1`, text([exitLine(min(5))]));
    expect(known(knownResult(readExits(source(log), opts())).processes[0]).counts.memory).toBe(1);
    const alone = file(path.join(dir(), "sd.log"), text([exitLine(min(5))]));
    expect(knownResult(readExits(source(alone), opts())).unread).toBeNull();
  });

  it("reads at most maxBytes from the end, over the log and LOG.1, dropping the line the bound cuts", () => {
    const d = dir();
    const log = path.join(d, "sd.log");
    const lines = [exitLine(min(50)), exitLine(min(40)), exitLine(min(30))];
    file(log, text(lines));
    const one = Buffer.byteLength(lines[0] as string) + 1;
    // The bound cuts the first line: its end ("...status 12; not expected)") must not count.
    const r = knownResult(readExits(source(log), opts([W], { maxBytes: 2 * one + 10 })));
    expect(known(r.processes[0]).counts.memory).toBe(2);
    expect(r.unread).toMatch(/^only the last \d+ bytes of supervisord's log were read/u);
    // A bound that ends exactly at a line's start keeps that line whole.
    expect(known(knownResult(readExits(source(log), opts([W], { maxBytes: 2 * one }))).processes[0]).counts.memory).toBe(2);
    expect(known(knownResult(readExits(source(log), opts([W], { maxBytes: 2 * one + 1 }))).processes[0]).counts.memory).toBe(2);
    // What the log leaves of the bound is what LOG.1 may use.
    file(`${log}.1`, text([exitLine(min(55)), exitLine(min(54))]));
    const both = knownResult(readExits(source(log), opts([W], { maxBytes: 4 * one })));
    expect([known(both.processes[0]).counts.memory, both.files.length]).toEqual([4, 2]);
    expect(both.unread).toMatch(/^only the last \d+ bytes/u);
    const all = knownResult(readExits(source(log), opts([W], { maxBytes: 5 * one })));
    expect([known(all.processes[0]).counts.memory, all.unread]).toEqual([5, null]);
  });

  it("costs what the window holds, not the log's size: the read stops at the first older record", () => {
    const old = Array.from({ length: 40_000 }, (_, i) => exitLine(2 * HOUR + i)).reverse(); // about 3 MB, all older
    const log = file(path.join(dir(), "sd.log"), text([...old, exitLine(min(5))]));
    const reads = vi.spyOn(fs, "readSync");
    const r = knownResult(readExits(source(log), opts()));
    const bytesRead = reads.mock.calls.reduce((sum, call) => sum + Number((call as unknown[])[3]), 0);
    expect([known(r.processes[0]).counts.memory, r.unread]).toEqual([1, null]);
    expect(bytesRead).toBeLessThanOrEqual(64 * 1024);
  });

  it("a line over 64 KiB ends the read there, and says so", () => {
    const log = file(path.join(dir(), "sd.log"), text([exitLine(min(50)), rec(min(45), "CRIT", "x".repeat(70_000)), exitLine(min(5))]));
    const r = knownResult(readExits(source(log), opts()));
    expect(known(r.processes[0]).counts.memory).toBe(1);
    expect(r.unread).toMatch(/over 65536 bytes ends what was read$/u);
  });

  it("a missing log is unknown, not zero exits", () => {
    expect(readExits(source(path.join(dir(), "nope.log")), opts())).toEqual({
      known: false,
      why: "missing",
      message: expect.stringMatching(/does not exist$/u),
    });
  });

  it("refuses a symlink, a FIFO and a hard-linked log (unknown, not an error, never a hang)", async () => {
    const d = dir();
    const real = file(path.join(d, "real.log"), text([exitLine(min(5))]));
    fs.symlinkSync(real, path.join(d, "link.log"));
    expect(readExits(source(path.join(d, "link.log")), opts())).toMatchObject({ known: false, why: "refused", message: /symbolic link/u });
    const fifo = await mkfifo(path.join(d, "fifo.log"));
    expect(readExits(source(fifo), opts())).toMatchObject({ known: false, why: "refused", message: /not a regular file/u });
    fs.linkSync(real, path.join(d, "held"));
    expect(readExits(source(real), opts())).toMatchObject({ known: false, why: "refused", message: /2 hard links/u });
    expect(readExits(source("/dev/null"), opts())).toMatchObject({ known: false, why: "refused" });
  });

  it("refuses a log or LOG.1 its group or others can write, or another user owns (review: a LOG.1 planted in /tmp)", () => {
    const d = dir();
    const log = file(path.join(d, "sd.log"), text([exitLine(min(5))]), 0o664);
    expect(readExits(source(log), opts())).toMatchObject({ known: false, why: "refused", message: /group or others \(mode 0664\)/u });
    fs.chmodSync(log, 0o644);
    file(`${log}.1`, text([exitLine(min(30)), exitLine(min(20))]), 0o666);
    const r = knownResult(readExits(source(log), opts()));
    expect([known(r.processes[0]).counts.memory, r.unread]).toEqual([
      1,
      expect.stringMatching(/\.1 was not read: .* by its group or others/u),
    ]);
    if (process.geteuid?.() !== 0) return; // chown needs root
    fs.chmodSync(`${log}.1`, 0o644);
    fs.chownSync(`${log}.1`, 4242, 4242);
    const theirs = knownResult(readExits(source(log), opts()));
    expect([known(theirs.processes[0]).counts.memory, theirs.unread]).toEqual([
      1,
      expect.stringMatching(/owned by uid 4242, not by uid 0/u),
    ]);
    // supervisord's own user (a private supervisord run by someone else) may own it.
    expect(known(knownResult(readExits(source(log), opts([W], { owners: [4242] }))).processes[0]).counts.memory).toBe(3);
  });

  it("a refused LOG.1 leaves the log's own counts, and says what was not read", async () => {
    const d = dir();
    const log = file(path.join(d, "sd.log"), text([exitLine(min(5))]));
    await mkfifo(`${log}.1`);
    const r = knownResult(readExits(source(log), opts()));
    expect(known(r.processes[0]).counts.memory).toBe(1);
    expect(r.unread).toBe(`${log}.1 was not read: ${log}.1 is not a regular file`);
  });

  it("a rotation between reading the log and LOG.1 is seen: the old log is not counted twice", () => {
    const d = dir();
    const log = file(path.join(d, "sd.log"), text([exitLine(min(5))]));
    const close = fs.closeSync;
    let rotated = false;
    vi.spyOn(fs, "closeSync").mockImplementation((fd) => {
      close(fd);
      if (!rotated) {
        // supervisord's doRollover: LOG -> LOG.1, and a new, empty LOG.
        rotated = true;
        fs.renameSync(log, `${log}.1`);
        file(log, "");
      }
    });
    const r = knownResult(readExits(source(log), opts()));
    expect(known(r.processes[0]).counts.memory).toBe(1);
    expect(r.unread).toBe(`supervisord rotated ${log} while it was read`);
  });

  it("syslog and /dev/stdout-like targets are unknown", () => {
    expect(readExits({ kind: "syslog" }, opts())).toMatchObject({ known: false, why: "syslog" });
    expect(readExits({ kind: "stream", path: "/dev/stdout" }, opts())).toMatchObject({ known: false, why: "stream" });
  });

  it("follows supervisord's loglevel: warn loses expected exits and FATALs, debug lets workers forge lines, error logs none", () => {
    const log = file(path.join(dir(), "sd.log"), text([exitLine(min(5))]));
    expect(knownResult(readExits(source(log, "warn"), opts())).unlogged).toEqual(["recycled", "fatal"]);
    expect(readExits(source(log, "debug"), opts())).toMatchObject({ known: false, why: "loglevel", message: /pose as an exit/u });
    expect(readExits(source(log, "error"), opts())).toMatchObject({ known: false, why: "loglevel", message: /does not log exits/u });
    expect(readExits(source(log, null), opts())).toMatchObject({ known: false, why: "loglevel" });
  });
});

describe("mainLogSource: where supervisord logs, as its configuration says", () => {
  const world = (supervisord: string, extra = "") => {
    const d = dir();
    const config = file(path.join(d, "supervisord.conf"), `[supervisord]\n${supervisord}\n[include]\nfiles = conf.d/*.conf\n`);
    fs.mkdirSync(path.join(d, "conf.d"));
    if (extra) file(path.join(d, "conf.d", "extra.conf"), extra);
    return { d, w: World.read({ config }) };
  };

  it.each([
    ["logfile=%(here)s/sd.log", (d: string) => ({ kind: "file", path: `${d}/sd.log`, loglevel: "info" })],
    ["logfile=sd.log\nloglevel=WARN", (d: string) => ({ kind: "file", path: `${d}/sd.log`, loglevel: "warn" })],
    ["", (d: string) => ({ kind: "file", path: `${d}/supervisord.log`, loglevel: "info" })],
    ["logfile=syslog", () => ({ kind: "syslog" })],
    ["logfile=/dev/stdout\nlogfile_maxbytes=0", () => ({ kind: "stream", path: "/dev/stdout" })],
    ["loglevel=loud", (d: string) => ({ kind: "file", path: `${d}/supervisord.log`, loglevel: null })],
  ])("%j", (conf, want) => {
    const { d, w } = world(conf);
    expect(mainLogSource(w)).toEqual(want(d));
  });

  it("reads loglevel= from the merged configuration, as supervisord does (an included file may set it)", () => {
    const { w } = world("logfile=sd.log", "[supervisord]\nloglevel=debug\n");
    expect(mainLogSource(w)).toMatchObject({ kind: "file", loglevel: "debug" });
  });

  it("-e and -l on the running supervisord's command line win over the config, as they do for it (review)", () => {
    const { d, w } = world("logfile=sd.log\nloglevel=info");
    const run = (...args: string[]) => mainLogSource(w, { args, cwd: "/srv" });
    expect(run("-c", "x.conf", "-e", "debug")).toMatchObject({ kind: "file", path: `${d}/sd.log`, loglevel: "debug" });
    expect(run("-nedebug")).toMatchObject({ loglevel: "debug" });
    expect(run("--loglevel=TRACE")).toMatchObject({ loglevel: "trace" });
    expect(run("--logl", "blather")).toMatchObject({ loglevel: "blather" });
    expect(run("-e", "debug", "-e", "warn")).toMatchObject({ loglevel: "warn" });
    // A cluster whose option takes the rest as its value: -c/etc/... sets no -e or -l.
    expect(run("-nc/etc/supervisor/supervisord.conf")).toEqual({ kind: "file", path: `${d}/sd.log`, loglevel: "info" });
    expect(run("-l", "/var/log/other.log")).toEqual({ kind: "file", path: "/var/log/other.log", loglevel: "info" });
    expect(run("--logfile=rel.log")).toEqual({ kind: "file", path: "/srv/rel.log", loglevel: "info" });
    expect(run("-l", "syslog")).toEqual({ kind: "syslog" });
    expect(run("-l", "/dev/stdout")).toEqual({ kind: "stream", path: "/dev/stdout" });
    // After an operand getopt reads nothing more; what supervisord would refuse reads as not known.
    expect(run("x", "-e", "debug")).toMatchObject({ loglevel: "info" });
    expect(run("--log=x")).toMatchObject({ loglevel: null });
    expect(run("-e")).toMatchObject({ loglevel: null });
  });

  it("finds supervisord's own arguments in /proc's cmdline (after the interpreter and the script)", () => {
    expect(supervisordArgs(["/usr/bin/python3", "/usr/bin/supervisord", "-n", "-e", "debug"])).toEqual(["-n", "-e", "debug"]);
    expect(supervisordArgs(["python3", "-m", "supervisor.supervisord", "-c", "x"])).toEqual(["-c", "x"]);
    expect(supervisordArgs(["/opt/venv/bin/supervisord"])).toEqual([]);
    expect(supervisordArgs(["/usr/bin/python3", "/opt/run.py"])).toBeNull();
  });
});
