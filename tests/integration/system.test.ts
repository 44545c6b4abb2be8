import fs from "node:fs";
import net from "node:net";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { ALLOW_ROOT, cli, copyBuiltCli, ME, SAMPLE_APP, waitFor } from "../helpers/cli.js";

// The system path changes the machine (packages, /etc, a root supervisord): it runs only as
// root on a machine declared disposable (CI=true, or VEXO_SV_DISPOSABLE_HOST=1), and puts the
// service back as it found it. Elsewhere it says why it skipped.
const disposable = process.env.CI === "true" || process.env.VEXO_SV_DISPOSABLE_HOST === "1";
const enabled = disposable && process.getuid?.() === 0;
if (!enabled) {
  console.warn(
    `system.test.ts skipped: ${disposable ? "needs root" : "needs a disposable machine (CI=true or VEXO_SV_DISPOSABLE_HOST=1) and root"}`,
  );
}

function socketAnswers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path: file });
    s.once("connect", () => {
      s.end();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe.runIf(enabled)("install on the machine itself (CI, root)", () => {
  it("installs or finds supervisor, runs it, and manages a worker in /etc/supervisor/conf.d", async () => {
    const wasRunning = await socketAnswers("/var/run/supervisor.sock");
    const r = await cli(["install", "--json"]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toMatchObject({
      ok: true,
      service: "running",
      config: "/etc/supervisor/supervisord.conf",
      confDir: "/etc/supervisor/conf.d",
    });
    expect(r.json.version).toMatch(/^\d+\.\d+/u);
    const again = await cli(["install", "--json"]);
    expect(again.json).toMatchObject({ ok: true, changed: false, startedBy: "already-running" });

    const name = `vexo-ci-${process.pid}`;
    const add = await cli(["worker", "add", "--name", name, "--path", SAMPLE_APP, "--user", ME, ...ALLOW_ROOT, "--json"]);
    expect(add.code, add.stdout).toBe(0);
    expect(add.json.file).toBe(`/etc/supervisor/conf.d/${name}.conf`);
    await waitFor(
      async () => {
        const ls = await cli(["worker", "ls", "--json"]);
        return ls.json.workers.find((w: { name: string; state: string }) => w.name === name && w.state === "running");
      },
      30,
      "system worker running",
    );
    const rm = await cli(["worker", "rm", name, "--json"]);
    expect(rm.code).toBe(0);
    expect(fs.existsSync(add.json.file)).toBe(false);
    for (const l of add.json.logs as string[]) fs.rmSync(l, { force: true });

    if (!wasRunning) {
      const down = await cli(["shutdown", "--force", "--json"]);
      expect(down.code).toBe(0);
      await execa("service", ["supervisor", "stop"], { reject: false });
    }
  });

  it("as a non-root user: exit 1 with the sudo hint, nothing attempted", async () => {
    const dir = fs.mkdtempSync("/tmp/vexo-ci-");
    fs.chmodSync(dir, 0o755);
    const entry = copyBuiltCli(dir);
    const res = await execa("runuser", ["-u", "nobody", "--", "node", entry, "install", "--json"], { reject: false, cwd: "/tmp" });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(res.exitCode).toBe(1);
    const doc = JSON.parse(String(res.stdout));
    expect(doc.error.code).toBe("not_root");
    expect(doc.error.hint).toContain("sudo vexo-sv install");
  });
});
