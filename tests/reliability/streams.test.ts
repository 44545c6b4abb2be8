import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { addArgs, ALLOW_ROOT, BIN, cli, ME, SAMPLE_APP, useSupervisor, waitRunning } from "../helpers/cli.js";

// Standard streams under a slow or absent other end (issue 24): `logs -f` into a reader that does
// not read, and `apply -` from a writer that has not written yet.

const sv = useSupervisor();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-streams-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Resident memory of a process in KiB (VmRSS), or 0 once it is gone. */
function rssKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/mu.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime, in USER_HZ ticks (100 a second on Linux, whatever the kernel's own HZ).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A fixture app whose artisan writes lines to stdout as fast as supervisord takes them. */
function floodApp(): string {
  const app = fs.mkdtempSync(path.join(tmp, "flood-"));
  fs.writeFileSync(
    path.join(app, "artisan"),
    `<?php\n$line = str_repeat("flood ", 30) . "\\n";\n$block = str_repeat($line, 4000);\nfor (;;) fwrite(STDOUT, $block);\n`,
    { mode: 0o755 },
  );
  return app;
}

describe("standard streams", () => {
  it("logs -f into a reader that does not read keeps its memory bounded (it waits for the pipe to drain)", async () => {
    expect((await cli([...addArgs("flood", [], floodApp()), "--json"], sv.env)).code).toBe(0);
    await waitRunning(sv, "flood", 1);
    // stdout is a pipe (as in `vexo-sv logs flood -f | less`) that nobody reads: once its 64 KiB
    // are full, every write has to wait. A FIFO gives a real pipe (spawn's own is a socket pair).
    const fifo = path.join(tmp, "stdout.fifo");
    await execa("mkfifo", [fifo]);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const writer = fs.openSync(fifo, fs.constants.O_WRONLY);
    const child = spawn("node", [BIN, "logs", "flood", "-f", "-n", "0"], {
      env: { ...process.env, ...sv.env, NO_COLOR: "1" },
      stdio: ["ignore", writer, "pipe"],
    });
    fs.closeSync(writer);
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const log = path.join(sv.logDir, "flood_00.log");
    let peak = 0;
    let written = 0;
    let lastSize = fs.statSync(log, { throwIfNoEntry: false })?.size ?? 0;
    try {
      // The reader stays away for 15 s (a pager at a full screen, a stalled ssh): meanwhile the
      // flood writes hundreds of MB (supervisord rotates the log every 50 MB). An unbounded
      // follow grows by about 100 MB a second; the sampling stops early once it passed the bound.
      const until = Date.now() + 15_000;
      while (Date.now() < until && peak < 200 * 1024) {
        peak = Math.max(peak, rssKiB(child.pid as number));
        // Between supervisord's rename of the full log and its reopen, there is no file: size 0.
        const size = fs.existsSync(log) ? (fs.statSync(log, { throwIfNoEntry: false })?.size ?? 0) : 0;
        written += size >= lastSize ? size - lastSize : size; // smaller: rotated, a new file
        lastSize = size;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(child.exitCode, stderr).toBe(null); // still following, not crashed
    } finally {
      child.kill("SIGKILL");
      fs.closeSync(reader);
      expect((await cli(["worker", "rm", "flood", "--json"], sv.env)).code).toBe(0);
    }
    expect(written).toBeGreaterThan(100 * 1024 * 1024);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(200 * 1024);
  }, 180_000);

  it("apply - waits for a slow writer on a non-blocking pipe without spinning on the CPU, then applies what it reads", async () => {
    const doc = JSON.stringify({ workers: [{ name: "slowin", path: SAMPLE_APP, user: ME }] });
    // A FIFO opened O_NONBLOCK for reading: a read with no data yet fails EAGAIN, as on a pipe or
    // terminal that another program has made non-blocking.
    const fifo = path.join(tmp, "stdin.fifo");
    await execa("mkfifo", [fifo]);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const writer = fs.openSync(fifo, fs.constants.O_WRONLY);
    const child = spawn("node", [BIN, "apply", "-", ...ALLOW_ROOT, "--no-wait", "--json"], {
      env: { ...process.env, ...sv.env, NO_COLOR: "1" },
      stdio: [reader, "pipe", "pipe"],
    });
    fs.closeSync(reader);
    let stdout = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    // The writer takes 4 s to write (a slow stage before `apply -` in a pipeline): the case under test.
    await new Promise((r) => setTimeout(r, 4000));
    const cpu = cpuSeconds(child.pid as number);
    fs.writeSync(writer, doc);
    fs.closeSync(writer);
    expect(await exited, stdout).toBe(0);
    expect(JSON.parse(stdout).workers).toEqual([expect.objectContaining({ name: "slowin", action: "created" })]);
    // Loading node and vexo-sv costs well under a second of CPU; a read loop that spins on EAGAIN costs the whole wait.
    expect(cpu).toBeLessThan(1.5);
    expect((await cli(["worker", "rm", "slowin", "--json"], sv.env)).code).toBe(0);
  });
});
