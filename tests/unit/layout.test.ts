import path from "node:path";
import { describe, expect, it } from "vitest";
import { programFile, resolveLayout } from "../../src/core/layout.js";
import { VexoError } from "../../src/errors.js";
import { tempDir, writeUnder } from "../helpers/tmp.js";

// src/core/layout.ts: which config, its include globs, program and log directories, the server URL.

const tmp = tempDir("vexo-unit-");
const write = (name: string, content: string): string => writeUnder(tmp, name, content);

describe("resolveLayout", () => {
  it("reads the Debian layout, with relative include and childlogdir", () => {
    const cfg = write(
      "deb/supervisord.conf",
      "[unix_http_server]\nfile=/run/x.sock   ; comment\n[supervisord]\nchildlogdir=logs\npidfile=%(here)s/sd.pid\n[include]\nfiles = conf.d/*.conf\n",
    );
    const l = resolveLayout({ config: cfg });
    expect(l.confDir).toBe(path.join(tmp, "deb/conf.d"));
    expect(l.ext).toBe(".conf");
    expect(l.logDir).toBe(path.join(tmp, "deb/logs"));
    expect(l.serverUrl).toBe("unix:///run/x.sock");
    expect(l.pidfile).toBe(path.join(tmp, "deb/sd.pid"));
  });

  it("reads the main config by configparser's rules: continued files=, a header comment, ':' and ENV in serverurl (issue 14)", () => {
    process.env.VX_TEST_PORT = "9123";
    try {
      const cfg = write(
        "cp/supervisord.conf",
        "[supervisorctl] ; a comment on the header\nserverurl : http://localhost:%(ENV_VX_TEST_PORT)s\n[include]\nfiles = conf.d/*.conf\n    more.d/*.ini\n",
      );
      const l = resolveLayout({ config: cfg });
      expect(l.server).toEqual({ kind: "http", host: "localhost", port: 9123 });
      expect(l.includeGlobs).toEqual([path.join(tmp, "cp/conf.d/*.conf"), path.join(tmp, "cp/more.d/*.ini")]);
      expect(l.confDir).toBe(path.join(tmp, "cp/conf.d"));
    } finally {
      delete process.env.VX_TEST_PORT;
    }
  });

  it("reads the RHEL layout (*.ini) and defaults the log dir", () => {
    const cfg = write("rhel/supervisord.conf", "[include]\nfiles = supervisord.d/*.ini\n");
    const l = resolveLayout({ config: cfg });
    expect(l.confDir).toBe(path.join(tmp, "rhel/supervisord.d"));
    expect(l.ext).toBe(".ini");
    expect(l.logDir).toBe("/var/log/supervisor");
    expect(programFile(l, "w")).toBe(path.join(tmp, "rhel/supervisord.d/w.ini"));
  });

  it("refuses a --conf-dir that supervisord would not read", () => {
    const cfg = write("deb2/supervisord.conf", "[include]\nfiles = conf.d/*.conf\n");
    const l = resolveLayout({ config: cfg, confDir: "/elsewhere" });
    expect(() => programFile(l, "w")).toThrow(/would not read/u);
  });

  it("reports a missing config with a hint", () => {
    expect(() => resolveLayout({ config: path.join(tmp, "nope.conf") })).toThrow(VexoError);
  });
});
