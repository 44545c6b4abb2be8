import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { type ExitCounts, type ProcessExits, readExits, mainLogSource, type ProcessRef } from "../../src/core/exits.js";
import { World } from "../../src/core/world.js";
import { useSupervisor, waitFor } from "../helpers/cli.js";
import { processInfo } from "../helpers/rpc.js";

// exits.ts against a real private supervisord 4.2.5: processes that exit 12, kill themselves with
// SIGKILL, exit 0, exit 1, one that never starts (FATAL), and one stopped with SIGKILL on request.
// Each exits once (later runs stay up), so every count is exact; supervisord's own log is the input.

const sv = useSupervisor();

// The first run does ACTION after 2 s (past startsecs=1, so supervisord logs a real exit, not a
// failed start); later runs mark that they came back and stay up.
const ONCE = `#!/bin/sh
if [ -e "$1" ]; then touch "$1.again"; exec sleep 1000; fi
touch "$1"
sleep 2
case "$2" in
  kill) kill -9 $$ ;;
  *) exit "$2" ;;
esac
`;

const ZERO: ExitCounts = { memory: 0, killed: 0, recycled: 0, crashed: 0, fatal: 0 };

describe("exit reasons from a real supervisord's log", () => {
  let marks: string;
  let before: number;

  beforeAll(async () => {
    marks = path.join(sv.dir, "marks");
    fs.mkdirSync(marks);
    const once = path.join(sv.dir, "once.sh");
    fs.writeFileSync(once, ONCE, { mode: 0o755 });
    const program = (name: string, body: string) => fs.writeFileSync(path.join(sv.confDir, `${name}.conf`), `[program:${name}]\n${body}\n`);
    const runOnce = (name: string, action: string, mark = name) =>
      program(name, `command=/bin/sh ${once} ${marks}/${mark} ${action}\nautorestart=true\nstartsecs=1`);
    runOnce("mem", "12");
    runOnce("killed", "kill");
    runOnce("recycled", "0");
    runOnce("crashed", "1");
    // A dotted name with two processes, named app.v2_00 and app.v2_01 in the log (no group).
    program(
      "app.v2",
      `command=/bin/sh ${once} ${marks}/app.v2_%(process_num)02d 12\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)02d\nautorestart=true`,
    );
    // Exits at once: two failed starts (startretries=1), then FATAL.
    program("fatal", "command=/bin/sh -c 'exit 3'\nstartretries=1\nautorestart=true");
    // Stopped on request with SIGKILL: a stop, not an exit.
    program("steady", "command=/bin/sleep 1000\nstopsignal=KILL\nautorestart=true");
    before = Date.now();
    const up = await execa("supervisorctl", ["-c", sv.config, "update"], { reject: false });
    expect(up.stdout).toMatch(/mem: added process group/u);
  }, 120_000);

  it("counts each exit under its reason, and nothing else", async () => {
    const states = async () => new Map((await processInfo(sv.dir)).map((p) => [p.name, p.statename]));
    // Every run-once process has come back after its one exit, and supervisord gave up on the other.
    const back = ["mem", "killed", "recycled", "crashed", "app.v2_00", "app.v2_01"];
    await waitFor(
      async () => {
        const s = await states();
        return (
          back.every((n) => fs.existsSync(`${marks}/${n}.again`) && s.get(n) === "RUNNING") &&
          s.get("fatal") === "FATAL" &&
          s.get("steady") === "RUNNING"
        );
      },
      120,
      "every process back after its exit, and fatal FATAL",
    );
    const stop = await execa("supervisorctl", ["-c", sv.config, "stop", "steady"], { reject: false });
    expect(stop.stdout).toMatch(/steady: stopped/u);

    const world = World.read({ config: sv.config });
    const source = mainLogSource(world);
    expect(source).toEqual({ kind: "file", path: path.join(sv.logDir, "supervisord.log"), loglevel: "info" });
    const processes: ProcessRef[] = world.programs().flatMap((e) => e.processes.map((p) => ({ group: e.name, name: p.name })));
    const r = readExits(source, { processes, now: Date.now() });
    if (!r.known) throw new Error(`${r.why}: ${r.message}`);
    expect([r.files, r.unread, r.unlogged]).toEqual([[source.kind === "file" ? source.path : ""], null, []]);

    const by = new Map(r.processes.map((p) => [`${p.group}:${p.name}`, p]));
    const want: Record<string, [Partial<ExitCounts>, number]> = {
      "mem:mem": [{ memory: 1 }, 1],
      "killed:killed": [{ killed: 1 }, 1],
      "recycled:recycled": [{ recycled: 1 }, 0],
      "crashed:crashed": [{ crashed: 1 }, 1],
      "app.v2:app.v2_00": [{ memory: 1 }, 1],
      "app.v2:app.v2_01": [{ memory: 1 }, 1],
      // Each failed start is an exit (status 3, before startsecs: "not expected"), then supervisord gives up.
      "fatal:fatal": [{ crashed: 2, fatal: 1 }, 2],
      "steady:steady": [{}, 0],
    };
    const got = (p: ProcessExits | undefined) => (p?.known ? [p.counts, p.unexpected] : p);
    expect(Object.fromEntries([...by].map(([k, p]) => [k, got(p)]))).toEqual(
      Object.fromEntries(Object.entries(want).map(([k, [c, u]]) => [k, [{ ...ZERO, ...c }, u]])),
    );

    const latest = (k: string) => {
      const p = by.get(k);
      return p?.known ? p.recent[0] : undefined;
    };
    expect(latest("mem:mem")).toMatchObject({ reason: "memory", status: 12, signal: null, expected: false });
    expect(latest("killed:killed")).toMatchObject({ reason: "killed", status: null, signal: "SIGKILL", expected: false });
    expect(latest("recycled:recycled")).toMatchObject({ reason: "recycled", status: 0, expected: true });
    expect(latest("fatal:fatal")).toMatchObject({ reason: "fatal", expected: null });
    // supervisord's zoneless times, read as this machine's local time, fall within the test's own span.
    for (const k of back.map((n) => (n.startsWith("app") ? `app.v2:${n}` : `${n}:${n}`))) {
      const t = latest(k)?.time ?? 0;
      expect(t).toBeGreaterThanOrEqual(before - 1000);
      expect(t).toBeLessThanOrEqual(Date.now());
    }

    // A window that ends before any of it, or starts after all of it, counts nothing.
    for (const window of [{ now: before - 1000 }, { now: Date.now() + 3 * 3_600_000 }]) {
      const none = readExits(source, { processes, ...window });
      if (!none.known) throw new Error(none.message);
      expect(none.processes.every((p) => p.known && Object.values(p.counts).every((n) => n === 0))).toBe(true);
    }
  }, 240_000);
});
