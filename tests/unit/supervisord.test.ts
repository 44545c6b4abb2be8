import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseServerUrl } from "../../src/core/layout.js";
import { SUPERVISORD_ENV } from "../../src/core/machine.js";
import { SupervisordClient } from "../../src/core/supervisorctl.js";
import { shutdownSupervisord, startSupervisord, waitReachable } from "../../src/core/supervisord.js";
import { fakeSupervisor, fakeSupervisordOnPath, refusal, ScriptedIO } from "../helpers/scripted.js";
import { tempDir } from "../helpers/tmp.js";

// src/core/supervisord.ts: is supervisord up, start it, shut it down. The socket and supervisorctl
// are the scripted seam, in virtual time; `supervisord` itself is a shell script on a PATH of the
// test's own, which records how it was run.

const children: ChildProcess[] = [];
afterEach(() => {
  vi.unstubAllEnvs();
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

/**
 * A client whose supervisord listens on TCP: a pidfile's process is then believed when it is the
 * caller's own (root or not), with no unix socket of its own to hold open (machine.ts).
 */
function overTcp(io: ScriptedIO): SupervisordClient {
  const url = "http://127.0.0.1:9";
  return new SupervisordClient({ ...fakeSupervisor(io).layout, serverUrl: url, server: parseServerUrl(url) }, io);
}

/** A live process of ours, as if it were supervisord, written to the layout's pidfile. */
function livePidfile(sv: SupervisordClient): ChildProcess {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  children.push(child);
  fs.writeFileSync(sv.layout.pidfile, `${child.pid}\n`);
  return child;
}

/** Virtual time that still lets the event loop turn, so that Node reaps a child killed meanwhile. */
class TurningIO extends ScriptedIO {
  override async sleep(ms: number): Promise<void> {
    await super.sleep(ms);
    await new Promise((r) => setImmediate(r));
  }
}

describe("waitReachable", () => {
  it("answers at once: true, after one probe", async () => {
    const io = new ScriptedIO(() => "");
    expect(await waitReachable(fakeSupervisor(io), 15)).toBe(true);
    expect([io.probes, io.clock]).toEqual([1, 0]);
  });

  it("probes every 100 ms until supervisord answers", async () => {
    const io = new ScriptedIO(() => "");
    io.reachable = (self) => self.clock >= 2500;
    expect(await waitReachable(fakeSupervisor(io), 15)).toBe(true);
    expect([io.probes, io.clock]).toEqual([26, 2500]);
  });

  it("never answering is false once the time is up, not an error", async () => {
    const io = new ScriptedIO(() => "");
    io.reachable = false;
    expect(await waitReachable(fakeSupervisor(io), 15)).toBe(false);
    expect([io.probes, io.clock]).toEqual([151, 15_000]);
  });

  it.each([true, false])("with 0 seconds, one probe says it (%s)", async (up) => {
    const io = new ScriptedIO(() => "");
    io.reachable = up;
    expect(await waitReachable(fakeSupervisor(io), 0)).toBe(up);
    expect(io.probes).toBe(1);
  });

  it("a serverurl vexo-sv cannot understand is never reachable, and nothing is dialled", async () => {
    const io = new ScriptedIO(() => "");
    const sv = fakeSupervisor(io);
    const odd = new SupervisordClient({ ...sv.layout, serverUrl: "ftp://x", server: parseServerUrl("ftp://x") }, io);
    expect(await waitReachable(odd, 1)).toBe(false);
    expect(io.probes).toBe(0);
  });
});

describe("shutdownSupervisord", () => {
  it("nothing answers and no pidfile: unchanged, and supervisorctl is not run", async () => {
    const io = new ScriptedIO(() => "");
    io.reachable = false;
    const sv = fakeSupervisor(io);
    expect(await shutdownSupervisord(sv)).toEqual({ changed: false, pid: null, config: sv.layout.config });
    expect(io.calls).toEqual([]);
  });

  it("asks supervisord to shut down; with no live pid there is nothing to wait for", async () => {
    const io = new ScriptedIO(() => "Shut down");
    const sv = fakeSupervisor(io);
    const onWait = vi.fn();
    expect(await shutdownSupervisord(sv, onWait)).toEqual({ changed: true, pid: null, config: sv.layout.config });
    expect(io.calls).toEqual([["shutdown"]]);
    expect(onWait).not.toHaveBeenCalled();
  });

  it("exit 0 is success whatever supervisorctl prints", async () => {
    const io = new ScriptedIO(() => "");
    expect((await shutdownSupervisord(fakeSupervisor(io))).changed).toBe(true);
  });

  it("a fault is supervisorctl_failed with supervisord's reason", async () => {
    const io = new ScriptedIO(() => ({
      exitCode: 2,
      output: "error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: ...",
    }));
    const e = await refusal(shutdownSupervisord(fakeSupervisor(io)));
    expect([e.code, e.message]).toEqual(["supervisorctl_failed", "shutdown failed: SHUTDOWN_STATE"]);
  });

  it("waits, saying so once, until the pidfile's process is gone", async () => {
    const io = new TurningIO(() => {
      child.kill("SIGTERM");
      return "Shut down";
    });
    const sv = overTcp(io);
    const child = livePidfile(sv);
    const onWait = vi.fn();
    expect(await shutdownSupervisord(sv, onWait)).toEqual({ changed: true, pid: child.pid, config: sv.layout.config });
    expect(onWait).toHaveBeenCalledTimes(1);
    expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
  });

  it("a live pid whose socket does not answer is still asked, and a refused connection is no failure", async () => {
    const io = new TurningIO(() => {
      child.kill("SIGTERM");
      return { exitCode: 2, output: "http://127.0.0.1:9 refused connection" };
    });
    io.reachable = false;
    const sv = overTcp(io);
    const child = livePidfile(sv);
    expect(await shutdownSupervisord(sv)).toEqual({ changed: true, pid: child.pid, config: sv.layout.config });
    expect(io.calls).toEqual([["shutdown"]]);
  });
});

describe("startSupervisord", () => {
  it("no supervisord on PATH: start_failed before anything is touched", async () => {
    vi.stubEnv("PATH", tempDir("vx-empty-"));
    const io = new ScriptedIO(() => "");
    const e = await refusal(startSupervisord(fakeSupervisor(io)));
    expect([e.code, e.message, e.hint]).toEqual(["start_failed", "supervisord is not installed", "install Debian's supervisor package"]);
    expect(io.probes).toBe(0);
  });

  it("runs `supervisord -c CONFIG` from /, with SUPERVISORD_ENV and nothing of the caller's", async () => {
    const fake = fakeSupervisordOnPath();
    vi.stubEnv("VX_CALLER_TOKEN", "secret");
    const io = new ScriptedIO(() => "");
    const sv = fakeSupervisor(io);
    await startSupervisord(sv);
    const ran = fake.ran();
    expect(ran?.args).toEqual(["-c", sv.layout.config]);
    expect(ran?.cwd).toBe("/");
    expect(ran?.env).toEqual(expect.arrayContaining([`PATH=${SUPERVISORD_ENV.PATH}`, "LANG=C.UTF-8"]));
    expect(ran?.env.some((v) => v.startsWith("VX_CALLER_TOKEN="))).toBe(false);
  });

  it("returns the pid once the pidfile is written, which may be a moment after the socket answers", async () => {
    fakeSupervisordOnPath();
    const io = new ScriptedIO(() => "");
    const sv = overTcp(io);
    const sleep = io.sleep.bind(io);
    io.sleep = async (ms) => {
      await sleep(ms);
      if (io.clock >= 200) fs.writeFileSync(sv.layout.pidfile, `${process.pid}\n`);
    };
    expect(await startSupervisord(sv)).toBe(process.pid);
    expect(io.clock).toBe(200);
  });

  it("a pidfile that never comes is a null pid (after 5 s of virtual time), not an error", async () => {
    fakeSupervisordOnPath();
    const io = new ScriptedIO(() => "");
    expect(await startSupervisord(fakeSupervisor(io))).toBeNull();
    expect(io.clock).toBe(5000);
  });

  it.each([
    ["echo 'Error: Another program is already listening on a port'; exit 2", "Error: Another program is already listening on a port"],
    ["exit 1", "exit 1"],
  ])("one that exits with an error (%s) is start_failed with its words", async (then, why) => {
    fakeSupervisordOnPath(then);
    const io = new ScriptedIO(() => "");
    const sv = fakeSupervisor(io);
    const e = await refusal(startSupervisord(sv));
    expect([e.code, e.message, e.hint]).toEqual(["start_failed", `supervisord did not start: ${why}`, `see ${sv.layout.supervisordLog}`]);
    expect(io.probes).toBe(0);
  });

  it("one that starts but never answers is start_failed once 15 s (virtual) are up", async () => {
    fakeSupervisordOnPath();
    const io = new ScriptedIO(() => "");
    io.reachable = false;
    const sv = fakeSupervisor(io);
    const e = await refusal(startSupervisord(sv));
    expect(e.message).toBe(`supervisord started but does not answer at ${sv.layout.serverUrl}`);
    expect(io.clock).toBe(15_000);
  });

  it.each([
    ["a socket a killed supervisord left", "socket", undefined, false],
    ["a socket inside socketWithin", "socket", "own", false],
    ["a socket outside socketWithin", "socket", "other", true],
    ["a regular file", "file", undefined, true],
  ] as const)("at the socket path, %s: left there is %s", async (_what, kind, within, left) => {
    fakeSupervisordOnPath("exit 1");
    const sv = fakeSupervisor(new ScriptedIO(() => ""));
    const sock = sv.layout.server.kind === "unix" ? sv.layout.server.path : "";
    if (kind === "socket")
      await execa(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(sock)}, () => process.exit(0))`]);
    else fs.writeFileSync(sock, "not a socket\n");
    expect(fs.lstatSync(sock).isSocket()).toBe(kind === "socket");
    const socketWithin = within === "own" ? path.dirname(sock) : within === "other" ? tempDir("vx-other-") : undefined;
    await refusal(startSupervisord(sv, { socketWithin }));
    expect(fs.existsSync(sock)).toBe(left);
  });
});
