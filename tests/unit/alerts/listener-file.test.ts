import { describe, expect, it } from "vitest";
import { listenerArgv, listenerWrittenByVexo, readListenerFile, renderListener } from "../../../src/core/alerts/listener-file.js";
import { writtenByVexo } from "../../../src/core/program-file.js";
import { parseConfigText } from "../../../src/core/supervisord/configparser.js";
import { shlexSplit } from "../../../src/core/python/shlex.js";

// src/core/alerts/listener-file.ts: the listener's program file, rendered and read back, and
// recognised as vexo-sv's only when it is exactly what vexo-sv writes.

const input = {
  self: ["/usr/bin/node", "/usr/lib/node_modules/vexo-sv/bin/vexo-sv.cjs"],
  config: "/etc/supervisor/supervisord.conf",
  confDir: "/etc/supervisor/conf.d",
  revision: "0123456789ab",
  logDir: "/var/log/supervisor",
};

describe("the listener's program file", () => {
  it("is an eventlistener running vexo-sv in listener mode, stdout never logged, stderr in the log directory", () => {
    const text = renderListener(input);
    const ini = parseConfigText(text);
    expect(ini.errors).toEqual([]);
    const sec = ini.sections.get("eventlistener:vexo-sv-alerts");
    const v = (k: string) => sec?.options.get(k)?.value;
    expect(shlexSplit(v("command") ?? "")).toEqual(listenerArgv(input));
    expect(listenerArgv(input)).toEqual([
      ...input.self,
      "alerts",
      "listen",
      "--config",
      input.config,
      "--conf-dir",
      input.confDir,
      "--revision",
      input.revision,
    ]);
    expect(v("events")).toBe("PROCESS_STATE_EXITED,PROCESS_STATE_FATAL,TICK_60");
    expect(v("buffer_size")).toBe("1000");
    expect(v("stdout_logfile")).toBe("NONE");
    expect(v("stderr_logfile")).toBe("/var/log/supervisor/vexo-sv-alerts_00.log");
    expect(v("autorestart")).toBe("true");
  });

  it("reads back what it was rendered from, paths with spaces and percent signs too", () => {
    const odd = {
      ...input,
      self: ["/opt/my node/node", "/opt/100% vexo/bin/vexo-sv.cjs"],
      config: "/etc/sv 1/supervisord.conf",
      logDir: "/var/log/a%b",
    };
    const text = renderListener(odd);
    expect(text).toContain("%%");
    expect(readListenerFile(text)).toEqual(odd);
    expect(listenerWrittenByVexo(text)).toBe(true);
  });

  it("is not vexo-sv's when edited, without the marker, or with a section added; nor is it a worker's file", () => {
    const text = renderListener(input);
    expect(listenerWrittenByVexo(text.replace("buffer_size=1000", "buffer_size=5"))).toBe(false);
    expect(listenerWrittenByVexo(text.replace("; managed-by: vexo-sv\n", ""))).toBe(false);
    expect(listenerWrittenByVexo(`${text}[program:x]\ncommand=/bin/sh\n`)).toBe(false);
    expect(listenerWrittenByVexo(text.replace("alerts listen", "alerts listen --extra"))).toBe(false);
    // A section hidden behind a bare carriage return, which supervisord reads as a line of its own.
    expect(listenerWrittenByVexo(text.replace("directory=/", "directory=/\r[program:evil]\rcommand=/bin/sh"))).toBe(false);
    expect(writtenByVexo("/x/vexo-sv-alerts.conf", text)).toBe(false);
  });

  it("with how this vexo-sv runs, is its own only when it runs this vexo-sv (review 2: `/bin/sh -c ...` has the shape too)", () => {
    const text = renderListener(input);
    expect(listenerWrittenByVexo(text, input.self)).toBe(true);
    const forged = renderListener({ ...input, self: ["/bin/sh", "-c", "id > /tmp/x"] });
    expect(listenerWrittenByVexo(forged)).toBe(true);
    expect(listenerWrittenByVexo(forged, input.self)).toBe(false);
    expect(listenerWrittenByVexo(text, ["/usr/bin/node", "/opt/other/bin/vexo-sv.cjs"])).toBe(false);
    expect(listenerWrittenByVexo(text, [...input.self, "x"])).toBe(false);
  });
});
