import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type CommandRun, spawnCommand } from "../../../src/core/alerts/exec.js";
import { tempDir } from "../../helpers/tmp.js";

// src/core/alerts/exec.ts on real processes: the alert on stdin, the environment exactly as given,
// the whole process group killed at the timeout (a child it left behind too), megabytes of output
// counted and not kept, and a program that is not there reported, never thrown.

const base: CommandRun = { argv: ["true"], stdin: "", env: { PATH: "/usr/bin:/bin" }, timeoutMs: 60_000, maxOutput: 4096 };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("running the alert command", () => {
  it("gives it the alert on stdin and exactly the environment given, with no shell between", async () => {
    const dir = tempDir("vx-exec-");
    const out = path.join(dir, "got");
    const o = await spawnCommand({
      ...base,
      argv: ["/bin/sh", "-c", 'cat > "$1"; env > "$1.env"', "sh", out],
      stdin: '{"event":"fatal","worker":"$(touch /tmp/x)"}\n',
      env: { PATH: "/usr/bin:/bin", VEXO_SV_EVENT: "fatal" },
    });
    expect(o).toMatchObject({ exitCode: 0, signal: null, timedOut: false, error: null, outputBytes: 0 });
    expect(fs.readFileSync(out, "utf8")).toBe('{"event":"fatal","worker":"$(touch /tmp/x)"}\n');
    const env = fs
      .readFileSync(`${out}.env`, "utf8")
      .split("\n")
      .filter((l) => l && !/^(PWD|SHLVL|_)=/u.test(l));
    expect(env.sort()).toEqual(["PATH=/usr/bin:/bin", "VEXO_SV_EVENT=fatal"]);
  });

  it("reports its exit status and what it printed, stdout and stderr together", async () => {
    const o = await spawnCommand({ ...base, argv: ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"] });
    expect(o).toMatchObject({ exitCode: 3, timedOut: false, error: null, outputBytes: 8 });
    expect(o.output.split("\n").sort()).toEqual(["", "err", "out"]);
  });

  it("kills its whole process group at the timeout, a child it started in the background too", async () => {
    const dir = tempDir("vx-exec-");
    const pidFile = path.join(dir, "child.pid");
    const o = await spawnCommand({
      ...base,
      argv: ["/bin/sh", "-c", 'sleep 1000 & echo $! > "$1"; wait', "sh", pidFile],
      timeoutMs: 300,
    });
    expect(o).toMatchObject({ exitCode: null, signal: "SIGKILL", timedOut: true });
    const child = Number(fs.readFileSync(pidFile, "utf8"));
    await until(() => !alive(child), `the background child ${child} to be gone`);
  });

  it("counts megabytes of output and keeps only the bound", async () => {
    const o = await spawnCommand({ ...base, argv: ["/bin/sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x"], maxOutput: 1000 });
    expect(o.exitCode).toBe(0);
    expect(o.outputBytes).toBe(5_000_000);
    expect(o.output).toBe("x".repeat(1000));
  });

  it("does not mind a command that never reads its stdin", async () => {
    const o = await spawnCommand({ ...base, argv: ["true"], stdin: "x".repeat(2_000_000) });
    expect(o).toMatchObject({ exitCode: 0, error: null });
  });

  it("reports a program that is not there as an error, never a throw", async () => {
    const o = await spawnCommand({ ...base, argv: ["/nonexistent/alert-command"] });
    expect(o.exitCode).toBeNull();
    expect(o.error).toMatch(/ENOENT/u);
  });

  it("is killed, group and all, when aborted (the listener stopping)", async () => {
    const abort = new AbortController();
    const running = spawnCommand({ ...base, argv: ["sleep", "1000"] }, abort.signal);
    setTimeout(() => abort.abort(), 100);
    expect(await running).toMatchObject({ exitCode: null, signal: "SIGKILL", timedOut: false });
  });
});
