import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { parseBootTime, parseStat, parseStatusRss, readProcStats } from "../../src/core/procstat.js";
import { VexoError } from "../../src/errors.js";

// procstat.ts on a fake /proc made of files copied from a real one (Debian 12, Linux 6.x:
// tests/fixtures/proc), and on the real /proc of a child process the test starts.

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/proc");
/** In the fixtures: php after a busy loop, `sleep` started as "q) (w e" (a command name with spaces and parentheses), a zombie. */
const PHP = 13428;
const WEIRD = 13370;
const ZOMBIE = 13511;
const BTIME = 1796610247;

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "vexo-procstat-")));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

let seq = 0;
/** A fake /proc: the fixtures, with cwd links (only a real /proc has them), in a fresh directory. */
function fakeProc(): string {
  const root = path.join(tmp, `proc${++seq}`);
  fs.cpSync(FIXTURES, root, { recursive: true });
  fs.mkdirSync(path.join(root, "releases-1"));
  fs.symlinkSync(path.join(root, "releases-1"), path.join(root, String(PHP), "cwd"));
  fs.symlinkSync("/srv/app/releases/1 (deleted)", path.join(root, String(WEIRD), "cwd"));
  return root;
}

const realStat = (pid: number) => fs.readFileSync(path.join(FIXTURES, String(pid), "stat"), "latin1");

describe("parseStat", () => {
  const weird = realStat(WEIRD);
  it.each([
    ["a real php process", realStat(PHP), { state: "S", utime: 11, stime: 0, starttime: 1082024 }],
    ["a command name with spaces and parentheses", weird, { state: "S", utime: 0, stime: 0, starttime: 1081772 }],
    [
      "a command name with a newline and a ') '",
      weird.replace("(q) (w e)", "(a\n) 9 9 b)"),
      { state: "S", utime: 0, stime: 0, starttime: 1081772 },
    ],
    ["a zombie", realStat(ZOMBIE), { state: "Z", utime: 0, stime: 0, starttime: expect.any(Number) }],
  ])("%s", (_, text, fields) => {
    expect(parseStat(text)).toEqual(fields);
  });

  it.each([
    ["no parenthesis", "13428 php S 1 2 3"],
    ["cut short", "13428 (php) S 1 2 3"],
    ["empty", ""],
  ])("throws on %s", (_, text) => {
    expect(() => parseStat(text)).toThrow(VexoError);
  });
});

describe("parseStatusRss and parseBootTime", () => {
  it("read VmRSS in bytes (0 without the line, as for a zombie) and btime", () => {
    const status = (pid: number) => fs.readFileSync(path.join(FIXTURES, String(pid), "status"), "utf8");
    expect(parseStatusRss(status(PHP))).toBe(23284 * 1024);
    expect(parseStatusRss(status(ZOMBIE))).toBe(0);
    expect(parseBootTime(fs.readFileSync(path.join(FIXTURES, "stat"), "utf8"))).toBe(BTIME);
    expect(() => parseBootTime("cpu 1 2 3\n")).toThrow(VexoError);
  });
});

describe("readProcStats on a fake /proc", () => {
  it("reads memory, CPU seconds, start time and cwd of each pid", () => {
    const stats = readProcStats([PHP, WEIRD], fakeProc());
    const php = stats.get(PHP);
    expect(php).toMatchObject({ pid: PHP, rssBytes: 23_842_816, cwd: path.join(tmp, `proc${seq}`, "releases-1") });
    expect(php?.cpuSeconds).toBeCloseTo(0.11, 9);
    expect(php?.startTime).toBeCloseTo(BTIME + 10820.24, 6);
    const weird = stats.get(WEIRD);
    expect(weird).toMatchObject({ pid: WEIRD, rssBytes: 1736 * 1024, cpuSeconds: 0, cwd: "/srv/app/releases/1 (deleted)" });
    expect(weird?.startTime).toBeCloseTo(BTIME + 10817.72, 6);
  });

  it("gives null for a pid that is gone at any step, and for a zombie; never throws for them", () => {
    const root = fakeProc();
    fs.rmSync(path.join(root, String(WEIRD), "cwd")); // gone between status and cwd
    fs.mkdirSync(path.join(root, "777"));
    fs.copyFileSync(path.join(root, String(PHP), "stat"), path.join(root, "777", "stat")); // gone before status
    const stats = readProcStats([PHP, WEIRD, ZOMBIE, 777, 424242], root);
    expect([...stats].map(([pid, s]) => [pid, s === null])).toEqual([
      [PHP, false],
      [WEIRD, true],
      [ZOMBIE, true],
      [777, true],
      [424242, true],
    ]);
  });

  it("gives null when the pid was reused between the first and the last read (another start time)", () => {
    const root = fakeProc();
    const file = path.join(root, String(PHP), "stat");
    const real = fs.openSync;
    let reads = 0;
    let swapping = false;
    // Before the second open of its stat file, another process with another start time holds the pid.
    vi.spyOn(fs, "openSync").mockImplementation(((p: fs.PathLike, ...rest: unknown[]) => {
      if (p === file && !swapping && ++reads === 2) {
        swapping = true;
        fs.writeFileSync(file, fs.readFileSync(file, "latin1").replace(" 1082024 ", " 1082999 "));
        swapping = false;
      }
      return (real as (...a: unknown[]) => number)(p, ...rest);
    }) as typeof fs.openSync);
    expect(readProcStats([PHP], root).get(PHP)).toBeNull();
    expect(reads).toBe(2);
  });

  it("ESRCH (a process reaped while read) counts as gone", () => {
    const root = fakeProc();
    vi.spyOn(fs, "readlinkSync").mockImplementation(() => {
      throw Object.assign(new Error("ESRCH: no such process"), { code: "ESRCH" });
    });
    expect(readProcStats([PHP], root).get(PHP)).toBeNull();
  });

  it("a cwd the caller may not read (EACCES: another user's process) is null, the rest is read", () => {
    const root = fakeProc();
    vi.spyOn(fs, "readlinkSync").mockImplementation(() => {
      throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    });
    expect(readProcStats([PHP], root).get(PHP)).toMatchObject({ pid: PHP, rssBytes: 23_842_816, cwd: null });
  });

  it("reads /proc/stat once per call, and not at all for no pids", () => {
    const root = fakeProc();
    const spy = vi.spyOn(fs, "openSync");
    const statReads = () => spy.mock.calls.filter(([p]) => p === path.join(root, "stat")).length;
    readProcStats([PHP, WEIRD, ZOMBIE, PHP], root);
    expect(statReads()).toBe(1);
    expect(readProcStats([], path.join(tmp, "nowhere")).size).toBe(0);
    expect(statReads()).toBe(1);
  });

  it("throws io_error when /proc itself cannot be read, RangeError for what is not a pid", () => {
    expect(() => readProcStats([PHP], path.join(tmp, "nowhere"))).toThrow(expect.objectContaining({ code: "io_error" }));
    for (const pid of [0, -1, 1.5, Number.NaN]) expect(() => readProcStats([pid], fakeProc())).toThrow(RangeError);
  });
});

describe.skipIf(process.platform !== "linux")("readProcStats on the real /proc", () => {
  it("reads a child it started: rss > 0, its cwd, its start time within the test's bounds; null once it has exited", async () => {
    const cwd = fs.mkdtempSync(path.join(tmp, "child cwd "));
    const before = Date.now() / 1000;
    const child = spawn("sleep", ["60"], { cwd, stdio: "ignore" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const pid = child.pid as number;
      const after = Date.now() / 1000;
      const s = readProcStats([pid]).get(pid);
      expect(s?.rssBytes).toBeGreaterThan(0);
      expect(s?.cwd).toBe(cwd);
      expect(s?.cpuSeconds).toBeGreaterThanOrEqual(0);
      // btime is whole seconds (the true boot time is up to 1 s later) and ticks are 10 ms.
      expect(s?.startTime).toBeGreaterThanOrEqual(before - 1.02);
      expect(s?.startTime).toBeLessThanOrEqual(after + 0.02);
    } finally {
      child.kill("SIGKILL");
      await exited; // reaped by Node: the pid is gone
    }
    expect(readProcStats([child.pid as number]).get(child.pid as number)).toBeNull();
  });
});
