import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { addArgs, cli, copyBuiltCli, SAMPLE_APP, snapshot, useSupervisor, waitRunning } from "../helpers/cli.js";
import { stateLines } from "../helpers/rpc.js";

const sv = useSupervisor();
const isRoot = process.getuid?.() === 0;

/** supervisord's state (names, states, pids); never empty: the kept worker runs in it. */
async function statusText(): Promise<string> {
  const state = await stateLines(sv.dir);
  expect(state).toMatch(/^keep:keep_00 RUNNING pid [1-9]\d*$/mu);
  return state;
}

/** A tmpfs over the include directory, or the reason there cannot be one here. */
async function mountTmpfs(options: string): Promise<string | null> {
  if (!isRoot) return "needs root to mount a tmpfs";
  // mode=0755: a tmpfs root is 1777 by default, a program directory anyone can write, which is refused before any write (issue 24).
  const r = await execa("mount", ["-t", "tmpfs", "-o", `${options},mode=0755`, "tmpfs", sv.confDir], { reject: false, all: true });
  return r.exitCode === 0 ? null : `mount failed: ${String(r.all).trim()}`;
}
afterEach(async () => {
  if (isRoot) await execa("umount", [sv.confDir], { reject: false });
});

describe("environment faults: a clear error, exit 1, nothing half-done", () => {
  // One running worker whose state must survive every fault, set up before any case (each can run alone).
  beforeAll(async () => {
    expect((await cli([...addArgs("keep"), "--json"], sv.env)).code).toBe(0);
    await waitRunning(sv, "keep", 1);
  }, 120_000);

  it("read-only include directory", async (ctx) => {
    const why = await mountTmpfs("size=1m");
    if (why) return ctx.skip(why);
    await execa("mount", ["-o", "remount,ro", sv.confDir]);
    const state = await statusText();
    const r = await cli([...addArgs("ro"), "--json"], sv.env);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("io_error");
    expect(r.json.error.message).toMatch(/read-only file system/u);
    expect(fs.readdirSync(sv.confDir)).toEqual([]);
    expect(await statusText()).toBe(state);
  });

  it("no space left on device", async (ctx) => {
    const why = await mountTmpfs("size=16k");
    if (why) return ctx.skip(why);
    // Fill it with a dotfile (never read by supervisord's glob) until the device is full.
    const filler = path.join(sv.confDir, ".filler");
    const fd = fs.openSync(filler, "w");
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(1024));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC");
    }
    fs.closeSync(fd);
    const state = await statusText();
    const before = snapshot(sv.confDir);
    const r = await cli([...addArgs("full"), "--json"], sv.env);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("io_error");
    expect(r.json.error.message).toMatch(/no space left/u);
    expect(snapshot(sv.confDir)).toEqual(before);
    expect(fs.readdirSync(sv.confDir).filter((n) => n.includes("tmp"))).toEqual([]);
    expect(await statusText()).toBe(state);
  });

  it.runIf(isRoot)("socket permission denied (the CLI as an unprivileged user)", async () => {
    fs.chmodSync(sv.dir, 0o755);
    const app = path.join(sv.dir, "perm-app");
    fs.mkdirSync(app);
    fs.copyFileSync(path.join(SAMPLE_APP, "artisan"), path.join(app, "artisan"));
    const entry = copyBuiltCli(sv.dir);
    const asNobody = async (args: string[]) => {
      const r = await execa("runuser", ["-u", "nobody", "--", "node", entry, ...args, "--json"], {
        reject: false,
        env: { ...sv.env, NO_COLOR: "1" },
        cwd: "/tmp",
      });
      return { code: r.exitCode, doc: JSON.parse(String(r.stdout)) };
    };
    const state = await statusText();
    const before = snapshot(sv.confDir);
    for (const args of [
      ["worker", "add", "--name", "perm", "--path", app, "--user", "nobody"],
      ["worker", "rm", "keep"],
      ["worker", "restart", "keep"],
      ["worker", "pause", "keep"],
    ]) {
      const r = await asNobody(args);
      expect(r.code, JSON.stringify(r.doc)).toBe(1);
      expect(r.doc.error.code).toBe("permission_denied");
      expect(r.doc.error.hint).toMatch(/sudo/u);
    }
    // Listing still works from the files, and says why states are unknown.
    const ls = await asNobody(["worker", "ls"]);
    expect(ls.code).toBe(0);
    expect(ls.doc.workers[0]).toMatchObject({ name: "keep", state: "unknown" });
    expect(ls.doc.warnings[0]).toMatch(/Permission denied/iu);
    expect(ls.doc.workers[0].running).toBeNull(); // not known: never 0 (issue 26)
    // Permission denied is not "down": status and its check fail with that reason, exit 1, never 3 (issue 26).
    for (const argv of [["status"], ["status", "--check"]]) {
      const st = await asNobody(argv);
      expect(st.code, argv.join(" ")).toBe(1);
      expect(st.doc.error.code).toBe("permission_denied");
    }
    expect(snapshot(sv.confDir)).toEqual(before);
    expect(await statusText()).toBe(state);
  });

  it("supervisord down: mutations exit 1 and write nothing; status --check exits 3", async () => {
    expect((await cli(["shutdown", "--json"], sv.env)).code).toBe(0);
    const before = snapshot(sv.confDir);
    for (const args of [[...addArgs("down")], ["worker", "rm", "keep"], ["worker", "start", "keep"], ["worker", "pause", "keep"]]) {
      const r = await cli([...args, "--json"], sv.env);
      expect(r.code).toBe(1);
      expect(r.json.error.code).toBe("supervisord_unreachable");
      // A private supervisord: the hint names the command that starts this one (issue 15.8).
      expect(r.json.error.hint).toContain(`vexo-sv install --prefix ${path.dirname(sv.config)}`);
    }
    const check = await cli(["status", "--check"], sv.env);
    expect(check.code).toBe(3);
    expect(check.stdout).toMatch(/not reachable/u);
    // Without --check, a status that cannot be had is an error, not a report (issue 26).
    const plain = await cli(["status", "--json"], sv.env);
    expect(plain.code).toBe(1);
    expect(plain.json.error.code).toBe("supervisord_unreachable");
    expect(snapshot(sv.confDir)).toEqual(before);
  });
});
