import path from "node:path";
import { describe, expect, it } from "vitest";
import { ctlConfig, resolveEndpoint } from "../../src/core/endpoint.js";
import { ctlArgs } from "../../src/core/ctl-io.js";
import { calls, SupervisordClient } from "../../src/core/supervisorctl.js";
import { World } from "../../src/core/world.js";
import { getOption, parseConfigText } from "../../src/core/supervisord/configparser.js";
import { expandValue } from "../../src/core/python/format.js";
import { VexoError } from "../../src/errors.js";
import { ScriptedIO } from "../helpers/scripted.js";
import { tempDir, writeUnder } from "../helpers/tmp.js";

// src/core/endpoint.ts: where vexo-sv asks supervisord. supervisorctl reads [supervisorctl] from
// the one file it is given; vexo-sv reads the merged configuration (includes too), and sends
// supervisorctl elsewhere only when that says something MAIN alone does not.

/** A main config and the files it includes, under a fresh directory; the world as a command reads it. */
function setup(files: Record<string, string>): { dir: string; world: World } {
  const dir = tempDir("vx-ep-");
  for (const [name, text] of Object.entries(files)) writeUnder(dir, name, text);
  return { dir, world: World.read({ config: path.join(dir, "supervisord.conf") }) };
}

const endpointOf = (world: World) => resolveEndpoint(world.layout, world.mainText(), world.config());

const PROGRAMS = "[supervisord]\n[program:octane]\ncommand=sleep 1000\n[program:horizon]\ncommand=sleep 1000\n";

/** supervisorctl's reading of the private config: the password it would send. */
function passwordIn(text: string): string | undefined {
  const raw = getOption(parseConfigText(text), "supervisorctl", "password")?.value;
  const r = raw === undefined ? undefined : expandValue(raw, new Map());
  return r?.ok ? r.value : undefined;
}

describe("resolveEndpoint", () => {
  it("main only: a main config with its own [supervisorctl] is asked as it is (-c MAIN)", () => {
    const { dir, world } = setup({
      "supervisord.conf": `${PROGRAMS}[unix_http_server]\nfile=%(here)s/s.sock\n[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n[include]\nfiles = conf.d/*.conf\n`,
      "conf.d/w.conf": "[program:w]\ncommand=sleep 1\n",
    });
    const ep = endpointOf(world);
    expect(ep.via).toBeUndefined();
    expect(ep.serverUrl).toBe(`unix://${dir}/s.sock`);
    expect(ep.server).toEqual({ kind: "unix", path: `${dir}/s.sock` });
    expect(ctlArgs(world.layout.config, ["status"], ep.via)).toEqual(["-c", world.layout.config, "status"]);
  });

  it("include only (an Octane image): [supervisorctl] and [inet_http_server] in the included file send supervisorctl there", () => {
    const { dir, world } = setup({
      "supervisord.conf": `${PROGRAMS}[include]\nfiles = etc/supervisord.conf conf.d/*.conf\n`,
      "etc/supervisord.conf":
        "[supervisorctl]\nserverurl = http://127.0.0.1:9123\n[inet_http_server]\nport = 127.0.0.1:9123\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
    });
    const ep = endpointOf(world);
    expect(ep.via).toEqual({ serverUrl: "http://127.0.0.1:9123", username: null, config: "[supervisorctl]\n" });
    expect(ep.server).toEqual({ kind: "http", host: "127.0.0.1", port: 9123 });
    expect(ep.from).toBe(path.join(dir, "etc/supervisord.conf"));
    expect(ctlArgs(world.layout.config, ["status"], ep.via)).toEqual(["-s", "http://127.0.0.1:9123", "status"]);
  });

  it("include only, as exaco's image has it: an empty [supervisorctl] is sent where [inet_http_server] listens, not to supervisorctl's default", () => {
    const { world } = setup({
      "supervisord.conf": `${PROGRAMS}[include]\nfiles = etc/supervisord.conf\n`,
      "etc/supervisord.conf": "[supervisorctl]\n\n[inet_http_server]\nport = 127.0.0.1:9124\n",
    });
    expect(endpointOf(world).via?.serverUrl).toBe("http://127.0.0.1:9124");
    // A port alone (or *:PORT) listens everywhere: supervisorctl reaches it on localhost.
    const all = setup({
      "supervisord.conf": `${PROGRAMS}[include]\nfiles = etc/x.conf\n`,
      "etc/x.conf": "[inet_http_server]\nport = *:9125\n",
    });
    expect(endpointOf(all.world).via?.serverUrl).toBe("http://localhost:9125");
  });

  it("include only, no [supervisorctl] anywhere: the unix socket supervisord listens on, relative to the main config", () => {
    const { dir, world } = setup({
      "supervisord.conf": `${PROGRAMS}[include]\nfiles = etc/*.conf\n`,
      "etc/server.conf": "[unix_http_server]\nfile = run/s.sock\n",
    });
    const ep = endpointOf(world);
    expect(ep.via?.serverUrl).toBe(`unix://${dir}/run/s.sock`);
    expect(ep.server).toEqual({ kind: "unix", path: `${dir}/run/s.sock` });
  });

  it("both, the same: nothing changes (-c MAIN)", () => {
    const same = "[supervisorctl]\nserverurl = http://127.0.0.1:9126\n";
    const { world } = setup({
      "supervisord.conf": `${PROGRAMS}[inet_http_server]\nport = 127.0.0.1:9126\n${same}[include]\nfiles = etc/*.conf\n`,
      "etc/again.conf": same,
    });
    expect(endpointOf(world).via).toBeUndefined();
  });

  it("both, an include overrides MAIN's serverurl: the merged value wins, as supervisord merges sections", () => {
    const { dir, world } = setup({
      "supervisord.conf": `${PROGRAMS}[supervisorctl]\nserverurl = http://127.0.0.1:9127\n[include]\nfiles = etc/*.conf\n`,
      "etc/later.conf": "[supervisorctl]\nserverurl = unix://%(here)s/later.sock\n",
    });
    const ep = endpointOf(world);
    expect(ep.via?.serverUrl).toBe(`unix://${dir}/etc/later.sock`);
    expect(ep.from).toBe(path.join(dir, "etc/later.conf"));
  });

  it("a main [supervisorctl] without serverurl beside a unix socket: supervisorctl alone would try localhost:9001, vexo-sv the socket", () => {
    const { dir, world } = setup({
      "supervisord.conf": `${PROGRAMS}[unix_http_server]\nfile = %(here)s/s.sock\n[supervisorctl]\n`,
    });
    const ep = endpointOf(world);
    expect(ep.via?.serverUrl).toBe(`unix://${dir}/s.sock`);
    expect(ep.server).toEqual(world.layout.server); // the probe and supervisorctl ask the same server
  });

  it("with credentials: -u USER in argv, the password only in the private config (its % doubled), never in argv", () => {
    process.env.VX_EP_PORT = "9128";
    try {
      const { world } = setup({
        "supervisord.conf": `${PROGRAMS}[include]\nfiles = etc/supervisord.conf\n`,
        "etc/supervisord.conf":
          "[supervisorctl]\nserverurl = http://127.0.0.1:%(ENV_VX_EP_PORT)s\nusername = octane\npassword = s3cr%%et\n[inet_http_server]\nport = 127.0.0.1:9128\nusername = octane\npassword = s3cr%%et\n",
      });
      const ep = endpointOf(world);
      expect(ep.via?.serverUrl).toBe("http://127.0.0.1:9128");
      expect(ep.via?.username).toBe("octane");
      expect(ep.via?.config).toBe("[supervisorctl]\npassword = s3cr%%et\n");
      expect(passwordIn(ep.via?.config ?? "")).toBe("s3cr%et");
      const argv = ctlArgs(world.layout.config, ["status"], ep.via);
      expect(argv).toEqual(["-s", "http://127.0.0.1:9128", "-u", "octane", "status"]);
      expect(argv.join(" ")).not.toContain("s3cr");
    } finally {
      delete process.env.VX_EP_PORT;
    }
  });

  it("with credentials that differ from MAIN's only: the merged ones are sent", () => {
    const { world } = setup({
      "supervisord.conf": `${PROGRAMS}[supervisorctl]\nserverurl = http://127.0.0.1:9129\nusername = old\npassword = old\n[include]\nfiles = etc/*.conf\n`,
      "etc/creds.conf": "[supervisorctl]\nusername = new\npassword = n3w\n",
    });
    const ep = endpointOf(world);
    expect(ep.via).toEqual({ serverUrl: "http://127.0.0.1:9129", username: "new", config: "[supervisorctl]\npassword = n3w\n" });
  });

  it("with the server's own credentials when [supervisorctl] names neither a URL nor a user; never a {SHA} hash", () => {
    const plain = setup({
      "supervisord.conf": `${PROGRAMS}[include]\nfiles = etc/*.conf\n`,
      "etc/s.conf": "[supervisorctl]\n[inet_http_server]\nport = 127.0.0.1:9130\nusername = u\npassword = p\n",
    });
    expect(endpointOf(plain.world).via).toEqual({
      serverUrl: "http://127.0.0.1:9130",
      username: "u",
      config: "[supervisorctl]\npassword = p\n",
    });
    const hashed = setup({
      "supervisord.conf": `${PROGRAMS}[include]\nfiles = etc/*.conf\n`,
      "etc/s.conf": "[inet_http_server]\nport = 127.0.0.1:9131\nusername = u\npassword = {SHA}0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33\n",
    });
    expect(endpointOf(hashed.world).via).toEqual({ serverUrl: "http://127.0.0.1:9131", username: "u", config: "[supervisorctl]\n" });
  });

  it("a configuration that says nothing of a server (or cannot be read) leaves MAIN as it is", () => {
    const { world } = setup({ "supervisord.conf": `${PROGRAMS}[include]\nfiles = conf.d/*.conf\n` });
    expect(endpointOf(world)).toEqual({
      serverUrl: world.layout.serverUrl,
      server: world.layout.server,
      via: undefined,
      from: world.layout.config,
    });
    const layout = world.layout;
    expect(resolveEndpoint(layout, null, null).via).toBeUndefined();
  });
});

describe("ctlConfig", () => {
  it.each(["p", "s3cr%et", "%(ENV_HOME)s", "a;b#c", "two\nlines", "ünï cödé"])("%j reads back as itself", (pw) => {
    expect(passwordIn(ctlConfig(pw, "/x.conf"))).toBe(pw);
  });

  it.each([" leading", "trailing ", "a ;comment", "a #comment"])("%j cannot be written so that it reads back: refused", (pw) => {
    const e = (() => {
      try {
        ctlConfig(pw, "/etc/x.conf");
      } catch (err) {
        return err as VexoError;
      }
      return undefined;
    })();
    expect(e?.code).toBe("supervisorctl_failed");
    expect(e?.message).toContain("/etc/x.conf");
    expect(e?.message).not.toContain(pw.trim());
  });
});

describe("SupervisordClient asks where the endpoint says", () => {
  it("run, argv, probe and failures all use the resolved server; the normal case is -c MAIN", async () => {
    const octane = setup({
      "supervisord.conf": `${PROGRAMS}[include]\nfiles = etc/supervisord.conf\n`,
      "etc/supervisord.conf":
        "[supervisorctl]\nserverurl = http://127.0.0.1:9132\nusername = u\npassword = pw\n[inet_http_server]\nport = 127.0.0.1:9132\n",
    });
    const io = new ScriptedIO(() => ({
      exitCode: 1,
      output: "error: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>",
    }));
    const sv = new SupervisordClient(octane.world.layout, io, undefined, octane.world);
    expect(sv.argv(calls.status())).toEqual(["supervisorctl", "-s", "http://127.0.0.1:9132", "-u", "u", "status"]);
    const out = await sv.run(calls.status());
    expect(io.vias).toEqual([{ serverUrl: "http://127.0.0.1:9132", username: "u", config: "[supervisorctl]\npassword = pw\n" }]);
    await sv.probe();
    expect(io.servers).toEqual([{ kind: "http", host: "127.0.0.1", port: 9132 }]);
    const e = sv.failure(out.output, calls.status());
    expect(e.code).toBe("supervisorctl_failed");
    expect(e.message).toContain("401 Unauthorized");
    expect(e.message).toContain(octane.world.layout.config);
    expect(e.message).toContain("http://127.0.0.1:9132");
    expect(`${e.message} ${e.hint}`).not.toContain("pw\n");
    expect(e.hint).toContain("supervisorctl -s http://127.0.0.1:9132 -u u status");

    const plain = setup({
      "supervisord.conf": `${PROGRAMS}[unix_http_server]\nfile=%(here)s/s.sock\n[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n`,
    });
    const io2 = new ScriptedIO(() => "");
    const sv2 = new SupervisordClient(plain.world.layout, io2, undefined, plain.world);
    await sv2.run(calls.status());
    expect(io2.vias).toEqual([undefined]);
    expect(sv2.argv(calls.status())).toEqual(["supervisorctl", "-c", plain.world.layout.config, "status"]);
  });

  it("a read-only call to a MAIN with its own [supervisorctl] starts before the includes are read, and is made again where they say; a change never is", async () => {
    const files = {
      "supervisord.conf": `${PROGRAMS}[supervisorctl]\nserverurl = http://127.0.0.1:9133\n[include]\nfiles = etc/*.conf\n`,
      "etc/later.conf": "[supervisorctl]\nserverurl = http://127.0.0.1:9134\n",
    };
    const via = { serverUrl: "http://127.0.0.1:9134", username: null, config: "[supervisorctl]\n" };
    const read = setup(files);
    const io = new ScriptedIO(() => "");
    const sv = new SupervisordClient(read.world.layout, io, undefined, read.world);
    await Promise.all([sv.run(calls.version()), sv.run(calls.status())]);
    expect(io.calls).toEqual([["version"], ["status"], ["version"], ["status"]]);
    expect(io.vias).toEqual([undefined, undefined, via, via]);
    const change = setup(files);
    const io2 = new ScriptedIO(() => "");
    await new SupervisordClient(change.world.layout, io2, undefined, change.world).run(calls.update("w"));
    expect(io2.calls).toEqual([["update", "w"]]);
    expect(io2.vias).toEqual([via]);
  });
});
