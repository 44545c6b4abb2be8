import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { installPrefix, installSystem } from "../../src/core/install.js";
import { prefixPaths, renderPrivateConfig } from "../../src/core/private-config.js";
import { fakeSupervisordOnPath, refusal, ScriptedIO } from "../helpers/scripted.js";
import { modeOf, tempDir } from "../helpers/tmp.js";
import { dir } from "../helpers/trust-fixtures.js";

// src/core/install.ts: a private supervisord under a prefix, and the system's. supervisord's
// socket is the scripted seam (virtual time); `supervisord` is a recording script alone on PATH,
// so no test installs or starts a real one, whoever runs it.

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("installPrefix: refusals before anything is made", () => {
  it.each([
    ["empty", "", "must not be empty"],
    ["blank", "   ", "must not be empty"],
    ["with a space", "my sv", "must not contain whitespace"],
    ["with a newline", "sv\n[program:x]", "must not contain a newline"],
    ["over 200 characters", "a".repeat(200), "characters long; at most 200 are allowed"],
    ["whose socket path is over 107 bytes", "a".repeat(80), "exceeds the 107-byte limit of unix sockets"],
  ])("a prefix %s", async (_what, name, why) => {
    const base = dir();
    fakeSupervisordOnPath();
    const io = new ScriptedIO(() => "");
    const e = await refusal(installPrefix(name.trim() === "" ? name : path.join(base, name), { io }));
    expect([e.code, e.details?.field]).toEqual(["invalid_input", "prefix"]);
    expect(e.message).toContain(why);
    expect(fs.readdirSync(base)).toEqual([]);
    expect(io.probes).toBe(0);
  });

  it("under a directory anyone can write: refused, naming it, nothing made", async () => {
    const open = dir(0o777);
    fakeSupervisordOnPath();
    const e = await refusal(installPrefix(path.join(open, "sv"), { io: new ScriptedIO(() => "") }));
    expect([e.code, e.details?.field]).toEqual(["invalid_input", "prefix"]);
    expect(e.message).toContain(`${open}: `);
    expect(fs.readdirSync(open)).toEqual([]);
  });

  it("a supervisord.conf vexo-sv did not write: not_managed, left as it is, nothing started", async () => {
    const p = prefixPaths(dir());
    fs.writeFileSync(p.config, "[supervisord]\n");
    const fake = fakeSupervisordOnPath();
    const e = await refusal(installPrefix(p.dir, { io: new ScriptedIO(() => "") }));
    expect([e.code, e.details?.file]).toEqual(["not_managed", p.config]);
    expect(fs.readFileSync(p.config, "utf8")).toBe("[supervisord]\n");
    expect(fs.readdirSync(p.dir)).toEqual(["supervisord.conf"]);
    expect(fake.ran()).toBeNull();
  });

  it("a config with vexo-sv's marker that is no longer what vexo-sv writes: refused, nothing started", async () => {
    const p = prefixPaths(dir());
    fs.writeFileSync(p.config, `${renderPrivateConfig(p.dir)}[program:x]\ncommand=/bin/id\n`);
    const fake = fakeSupervisordOnPath();
    const e = await refusal(installPrefix(p.dir, { io: new ScriptedIO(() => "") }));
    expect([e.code, e.details?.field]).toEqual(["invalid_input", "prefix"]);
    expect(e.message).toContain("[program:x] is not a section vexo-sv writes");
    expect(fake.ran()).toBeNull();
  });
});

describe("installPrefix", () => {
  it("sets up a prefix with exact modes under umask 000, and reuses a supervisord that answers", async () => {
    const p = prefixPaths(path.join(dir(), "sv"));
    const fake = fakeSupervisordOnPath();
    const io = new ScriptedIO(() => "");
    const saved = process.umask(0);
    try {
      expect(await installPrefix(p.dir, { io })).toEqual({
        changed: true,
        started: false,
        created: [p.dir, p.confDir, p.logDir, p.config],
        config: p.config,
        confDir: p.confDir,
        logDir: p.logDir,
        pid: null,
        export: `export VEXO_SV_CONFIG=${p.config}`,
      });
    } finally {
      process.umask(saved);
    }
    expect([p.dir, p.confDir, p.logDir, p.config].map(modeOf)).toEqual([0o755, 0o755, 0o750, 0o644]);
    expect(fs.readFileSync(p.config, "utf8")).toBe(renderPrivateConfig(p.dir));
    expect(fake.ran()).toBeNull();
    expect(io.calls).toEqual([]);
  });

  it("is idempotent: a second run changes nothing and does not rewrite the config", async () => {
    const p = prefixPaths(path.join(dir(), "sv"));
    fakeSupervisordOnPath();
    const io = new ScriptedIO(() => "");
    await installPrefix(p.dir, { io });
    const inode = fs.statSync(p.config).ino;
    expect(await installPrefix(p.dir, { io })).toMatchObject({ changed: false, started: false, created: [] });
    expect(fs.statSync(p.config).ino).toBe(inode);
  });

  it("takes a relative prefix from the working directory", async () => {
    const p = prefixPaths(path.join(dir(), "sv"));
    fakeSupervisordOnPath();
    const r = await installPrefix(path.relative(process.cwd(), p.dir), { io: new ScriptedIO(() => "") });
    expect(r.config).toBe(p.config);
  });

  it("starts supervisord from the config it wrote when none answers", async () => {
    const p = prefixPaths(path.join(dir(), "sv"));
    const fake = fakeSupervisordOnPath();
    const io = new ScriptedIO(() => "");
    io.reachable = () => fake.ran() !== null;
    expect(await installPrefix(p.dir, { io })).toMatchObject({ changed: true, started: true, pid: null });
    expect(fake.ran()?.args).toEqual(["-c", p.config]);
  });
});

describe("installSystem: refusals", () => {
  it("needs root", async () => {
    vi.spyOn(process, "getuid").mockReturnValue(1000);
    expect((await refusal(installSystem({ io: new ScriptedIO(() => "") }))).code).toBe("not_root");
  });

  it("without apt-get or a supervisord: unsupported_system, saying what to do on RHEL", async () => {
    vi.spyOn(process, "getuid").mockReturnValue(0);
    vi.stubEnv("PATH", tempDir("vx-empty-"));
    const io = new ScriptedIO(() => "");
    const e = await refusal(installSystem({ io }));
    expect(e.code).toBe("unsupported_system");
    expect(e.hint).toMatch(/dnf install supervisor/u);
    expect(io.probes).toBe(0);
  });
});
