import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { ALLOW_ROOT, alive, cli, copyBuiltCli, ME, SAMPLE_APP, waitFor } from "../helpers/cli.js";

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join("/tmp", "vxi-"));
  dirs.push(d);
  return d;
}

afterAll(async () => {
  for (const d of dirs) {
    await cli(["shutdown", "--json"], { VEXO_SV_CONFIG: path.join(d, "sv/supervisord.conf") });
    fs.rmSync(d, { recursive: true, force: true });
  }
});

describe("install --prefix: a private supervisord", () => {
  it("sets up, starts, is idempotent, runs a worker, and shuts down cleanly", async () => {
    const prefix = path.join(tempDir(), "sv");
    const first = await cli(["install", "--prefix", prefix, "--json"]);
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ ok: true, changed: true, started: true, config: path.join(prefix, "supervisord.conf") });
    expect(first.json.export).toBe(`export VEXO_SV_CONFIG=${prefix}/supervisord.conf`);
    expect(fs.statSync(path.join(prefix, "supervisor.sock")).mode & 0o777).toBe(0o700);
    const pid = first.json.pid as number;
    expect(alive(pid)).toBe(true);

    const second = await cli(["install", "--prefix", prefix, "--json"]);
    expect(second.json).toMatchObject({ ok: true, changed: false, started: false, pid });

    const env = { VEXO_SV_CONFIG: first.json.config };
    const add = await cli(["worker", "add", "--name", "w", "--path", SAMPLE_APP, "--user", ME, ...ALLOW_ROOT, "--json"], env);
    expect(add.code).toBe(0);
    await waitFor(async () => (await cli(["worker", "ls", "--json"], env)).json.workers[0]?.state === "running", 30, "running");

    const down = await cli(["shutdown", "--json"], env);
    expect(down.code).toBe(0);
    expect(down.json).toMatchObject({ changed: true, pid });
    expect(alive(pid)).toBe(false);
    const again = await cli(["shutdown", "--json"], env);
    expect(again.json.changed).toBe(false);
  });

  it("recovers from a killed instance (stale socket and pidfile)", async () => {
    const prefix = path.join(tempDir(), "sv");
    const first = await cli(["install", "--prefix", prefix, "--json"]);
    const pid = first.json.pid as number;
    process.kill(pid, "SIGKILL");
    await waitFor(async () => !alive(pid), 10, "supervisord to die");
    expect(fs.existsSync(path.join(prefix, "supervisor.sock"))).toBe(true);
    const ls = await cli(["worker", "ls", "--json"], { VEXO_SV_CONFIG: first.json.config });
    expect(ls.json.reachable).toBe(false);
    const again = await cli(["install", "--prefix", prefix, "--json"]);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ started: true });
    expect(again.json.pid).not.toBe(pid);
    expect(alive(again.json.pid)).toBe(true);
  });

  it("refuses a prefix whose socket path would be too long, before creating anything", async () => {
    const prefix = path.join(tempDir(), "x".repeat(120));
    const r = await cli(["install", "--prefix", prefix, "--json"]);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toMatch(/^--prefix: .*107-byte/u);
    expect(fs.existsSync(prefix)).toBe(false);
  });

  it.runIf(isRoot)("under a non-root supervisord, worker add leaves user= out and says so", async () => {
    // Everything the unprivileged user needs, copied where it can read it: the bundled CLI and the app.
    // Owned by that user (0755): a prefix must be its owner's alone (docs/security.md).
    const dir = tempDir();
    const [uid, gid] = (
      fs
        .readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .find((l) => l.startsWith("nobody:")) ?? ""
    )
      .split(":")
      .slice(2, 4)
      .map(Number);
    fs.chmodSync(dir, 0o755);
    fs.chownSync(dir, uid as number, gid as number);
    const entry = copyBuiltCli(dir);
    fs.mkdirSync(path.join(dir, "app"));
    fs.copyFileSync(path.join(SAMPLE_APP, "artisan"), path.join(dir, "app/artisan"));
    fs.chmodSync(path.join(dir, "app"), 0o755);
    const asNobody = (args: string[]) =>
      execa("runuser", ["-u", "nobody", "--", "node", entry, ...args], {
        reject: false,
        env: { VEXO_SV_CONFIG: path.join(dir, "sv/supervisord.conf"), NO_COLOR: "1" },
        cwd: dir,
      });
    const inst = await asNobody(["install", "--prefix", path.join(dir, "sv"), "--json"]);
    expect(inst.exitCode).toBe(0);
    const add = await asNobody(["worker", "add", "--name", "w", "--path", path.join(dir, "app"), "--json"]);
    expect(add.exitCode).toBe(0);
    const doc = JSON.parse(String(add.stdout));
    expect(doc.worker.user).toBeNull();
    expect(doc.warnings.join(" ")).toMatch(/not root.*user=www-data is left out/u);
    expect(fs.readFileSync(path.join(dir, "sv/conf.d/w.conf"), "utf8")).not.toMatch(/^user=/mu);
    await waitFor(
      async () => JSON.parse(String((await asNobody(["worker", "ls", "--json"])).stdout)).workers[0]?.state === "running",
      30,
      "running as nobody",
    );
    expect((await asNobody(["shutdown", "--json"])).exitCode).toBe(0);
  });
});
