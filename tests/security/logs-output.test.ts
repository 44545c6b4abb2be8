import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";
import { addArgs, BIN, cli, SAMPLE_APP, startSupervisor, stopSupervisor, type Sv, waitFor, waitRunning } from "../helpers/cli.js";

// docs/security.md, held: what reaches root's terminal and who reads the logs (issue 24: the
// `logs` and output items). A throw-away unprivileged user plays the attacker; root only.

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`tests/security skipped: ${skip}`);

let atk: Attacker;
let sv: Sv;
/** A directory the attacker can enter and read (not write). */
let tmp: string;

beforeAll(async () => {
  if (skip) return;
  atk = await createAttacker();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-out-"));
  fs.chmodSync(tmp, 0o755);
  sv = await startSupervisor();
}, 120_000);
afterAll(async () => {
  if (skip) return;
  await stopSupervisor(sv);
  await atk?.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const mode = (f: string) => fs.statSync(f).mode & 0o7777;
/** What a terminal would act on: ESC, BEL, CR and the C1 controls (U+009B is a CSI of its own). */
const TERMINAL_CONTROLS = /[\u0007\u001b\r\u0080-\u009f]/u;

/** `logs ... -f` until its output matches `until` (bounded), then interrupted as Ctrl-C would; its whole output. */
async function follow(args: string[], env: Record<string, string | undefined>, until: RegExp): Promise<string> {
  const child = execa("node", [BIN, ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, reject: false, buffer: false });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  try {
    await waitFor(async () => until.test(out) || child.exitCode !== null, 30, `logs -f to print ${until}`);
  } finally {
    child.kill("SIGTERM");
    await child;
  }
  return out;
}

/** A fixture app whose artisan prints escape sequences (OSC retitle, clear screen, a C1 CSI) and exits 1. */
function escapeApp(): string {
  const app = fs.mkdtempSync(path.join(tmp, "esc-"));
  fs.chmodSync(app, 0o755);
  fs.writeFileSync(path.join(app, "artisan"), `<?php\necho "boom \\033]0;pwned\\007\\033[2J\\u{9b}2J end\\n";\nexit(1);\n`, {
    mode: 0o755,
  });
  return app;
}

describe.skipIf(skip !== undefined)("logs and output as root against another local user (issue 24)", () => {
  describe("AUTO logs in a directory others can write (no childlogdir: /tmp)", () => {
    let sv2: Sv;
    const name = `auto${randomBytes(4).toString("hex")}`;
    const env = () => ({ ...sv2.env, TMPDIR: undefined });
    const tmpFiles = () => fs.readdirSync("/tmp").filter((n) => n.startsWith(`${name}-`));

    beforeAll(async () => {
      // A private supervisord whose config has no childlogdir, so AUTO logs go to /tmp.
      const s = await startSupervisor();
      await cli(["shutdown", "--json"], s.env);
      fs.writeFileSync(s.config, fs.readFileSync(s.config, "utf8").replace(/^childlogdir=.*\n/mu, ""));
      const again = await cli(["install", "--prefix", s.dir, "--json"]);
      expect(again.code, again.stdout).toBe(0);
      sv2 = { ...s, pid: again.json.pid };
      fs.writeFileSync(
        path.join(sv2.confDir, `${name}.conf`),
        `[program:${name}]\ncommand=/bin/sh -c "echo real-line-of-${name}; exec sleep 600"\nstartsecs=0\n`,
      );
      await execa("supervisorctl", ["-c", sv2.config, "update", name]);
      await waitRunning(sv2, name, 1);
      await waitFor(async () => tmpFiles().some((n) => fs.readFileSync(`/tmp/${n}`, "utf8").includes("real-line")), 30, "the AUTO log");
      // The attacker plants a newer "log" of the same name, and a dangling symbolic link.
      const fake = `/tmp/${name}-stdout---supervisor-zzzzzz.log`;
      const link = `/tmp/${name}-stdout---supervisor-yyyyyy.log`;
      const plant =
        'printf "ATTACKER-TEXT\\n" > "$1" && touch -d 2099-01-01 "$1" && ln -s /nonexistent-vx "$2" && touch -h -d 2099-01-02 "$2"';
      expect((await atk.run("/bin/sh", ["-c", plant, "_", fake, link])).code).toBe(0);
    }, 120_000);
    afterAll(async () => {
      await stopSupervisor(sv2);
      for (const n of tmpFiles()) fs.rmSync(`/tmp/${n}`, { force: true });
    });

    it("logs and logs -f show the file supervisord writes, never the attacker's newer one, and a dangling link is no crash", async () => {
      const r = await cli(["logs", name, "--json"], env());
      expect(r.code, r.stdout).toBe(0);
      expect(r.json.lines.map((l: { line: string }) => l.line)).toContain(`real-line-of-${name}`);
      expect(r.stdout).not.toMatch(/ATTACKER-TEXT/u);
      const f = await follow(["logs", name, "-f", "-n", "5"], env(), /real-line/u);
      expect(f).toMatch(/real-line/u);
      expect(f).not.toMatch(/ATTACKER-TEXT/u);
    });

    it("with the process stopped (its log closed), only a regular file of supervisord's user counts", async () => {
      await execa("supervisorctl", ["-c", sv2.config, "stop", name]);
      const r = await cli(["logs", name, "--json"], env());
      expect(r.code, r.stdout).toBe(0);
      expect(r.json.lines.map((l: { line: string }) => l.line)).toContain(`real-line-of-${name}`);
      expect(r.stdout).not.toMatch(/ATTACKER-TEXT/u);
    });

    it("review r2 #5: a root-owned AUTO log name with a second hard link (the attacker's file, after a chown) is skipped", async () => {
      await execa("supervisorctl", ["-c", sv2.config, "stop", name], { reject: false });
      const theirs = `/tmp/${name}-held`;
      const linked = `/tmp/${name}-stdout---supervisor-xxxxxx.log`;
      const plant = 'printf "LINKED-TEXT\\n" > "$1" && chmod 666 "$1" && ln "$1" "$2" && touch -d 2099-01-03 "$2"';
      expect((await atk.run("/bin/sh", ["-c", plant, "_", theirs, linked])).code).toBe(0);
      fs.chownSync(linked, 0, 0); // what a chown hint would have made of it
      expect(fs.statSync(linked).nlink).toBe(2);
      const r = await cli(["logs", name, "--json"], env());
      expect(r.code, r.stdout).toBe(0);
      expect(r.json.lines.map((l: { line: string }) => l.line)).toContain(`real-line-of-${name}`);
      expect(r.stdout).not.toMatch(/LINKED-TEXT/u);
    });
  });

  it("a worker's escape sequences never reach the terminal through add's failure report, and --json escapes C1 controls", async () => {
    const app = escapeApp();
    const r = await cli(addArgs("esc", [], app), sv.env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/failed to start\n {2}esc\S* \w+: .*\n {4}boom .*end/u); // the report's lines and indentation kept
    expect(r.stderr).not.toMatch(TERMINAL_CONTROLS);
    const logs = await cli(["logs", "esc", "--json"], sv.env);
    expect(logs.code).toBe(0);
    expect(logs.json.lines.map((l: { line: string }) => l.line)).toContain("boom \u001b]0;pwned\u0007\u001b[2J\u009b2J end");
    expect(logs.stdout).not.toMatch(TERMINAL_CONTROLS);
    expect(logs.stdout).toContain("\\u009b2J");
    const ndjson = await follow(["logs", "esc", "-f", "-n", "1", "--json"], sv.env, /end/u);
    expect(ndjson).toContain("\\u009b2J");
    expect(ndjson).not.toMatch(TERMINAL_CONTROLS);
    expect((await cli(["worker", "rm", "esc", "--json"], sv.env)).code).toBe(0);
  });

  it("a directory name another user chose cannot erase the warning that names it", async () => {
    const evil = path.join(tmp, "evil\u001b[2K\r");
    fs.mkdirSync(evil, { mode: 0o755 });
    fs.copyFileSync(path.join(SAMPLE_APP, "artisan"), path.join(evil, "artisan"));
    fs.chownSync(evil, atk.uid, atk.gid);
    const link = path.join(tmp, "app-link");
    fs.symlinkSync(evil, link);
    const r = await cli(["worker", "add", "--name", "warnw", "--path", link, "--user", "nobody", "--no-wait", "--dry-run"], sv.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`warning: .*evil.*owned by uid ${atk.uid}`, "u"));
    expect(r.stderr).not.toMatch(TERMINAL_CONTROLS);
  });

  it("review r2 #5: logs refuses a worker log with another hard link (unsafe_file), and reads it once that link is gone", async () => {
    expect((await cli([...addArgs("linked"), "--json"], sv.env)).code).toBe(0);
    const log = path.join(sv.logDir, "linked_00.log");
    await waitFor(async () => fs.existsSync(log) && fs.statSync(log).size > 0, 30, "the worker's first log line");
    const held = path.join(tmp, "held-log");
    fs.linkSync(log, held);
    const r = await cli(["logs", "linked", "--json"], sv.env);
    expect(r.code, r.stdout).toBe(1);
    expect(r.json.error.code).toBe("unsafe_file");
    expect(r.json.error.message).toBe(`${log} has 2 hard links: whoever holds another one can read and write it`);
    expect(r.json.error.hint).not.toContain("chown");
    fs.rmSync(held);
    const ok = await cli(["logs", "linked", "--json"], sv.env);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.json.lines.length).toBeGreaterThan(0);
    expect((await cli(["worker", "rm", "linked", "--json"], sv.env)).code).toBe(0);
  });

  it("worker logs in a log directory vexo-sv creates cannot be read by other users; an existing readable one is warned of", async () => {
    expect(mode(sv.logDir)).toBe(0o750); // made by install --prefix
    const logs = path.join(tmp, "made-logs");
    expect((await cli([...addArgs("private", ["--log-dir", logs]), "--json"], sv.env)).code).toBe(0);
    expect(mode(logs)).toBe(0o750);
    const log = path.join(logs, "private_00.log");
    await waitFor(async () => fs.existsSync(log) && fs.statSync(log).size > 0, 30, "the worker's first log line");
    const r = await atk.run("cat", [log]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toMatch(/working/u);
    expect((await cli(["worker", "rm", "private", "--json"], sv.env)).code).toBe(0);
    const open = path.join(tmp, "open-logs");
    fs.mkdirSync(open, { mode: 0o755 });
    const w = await cli([...addArgs("openlog", ["--log-dir", open, "--dry-run"]), "--json"], sv.env);
    expect(w.code, w.stdout).toBe(0);
    expect(w.json.warnings.join("\n")).toContain(`chmod 750 ${open}`);
  });
});
