import { describe, expect, it } from "vitest";
import { failedInOutput, parseStatus, parseStatusLine, parseUptime, unreachableReason } from "../../src/core/supervisorctl.js";

// src/core/supervisorctl.ts: the parsers of what supervisorctl prints.

// Real lines from supervisorctl 4.2.5 (fixed-width: name padded to 33, state to 10).
const cases: [string, string, Record<string, unknown> | null][] = [
  [
    "running group",
    "app:app_00                       RUNNING   pid 9544, uptime 0:00:03",
    { group: "app", process: "app_00", state: "RUNNING", pid: 9544, uptimeSeconds: 3 },
  ],
  [
    "STARTING with trailing space",
    "a:a_01                           STARTING  ",
    { group: "a", process: "a_01", state: "STARTING", pid: null, description: "" },
  ],
  [
    "single process",
    "b                                STOPPED   Nov 24 08:33 AM",
    { group: "b", process: "b", fullName: "b", state: "STOPPED" },
  ],
  [
    "FATAL with message",
    "w:w_00                           FATAL     Exited too quickly (process log may have details)",
    { state: "FATAL", description: "Exited too quickly (process log may have details)" },
  ],
  [
    "BACKOFF spawn error",
    "d                                BACKOFF   can't find command 'php9'",
    { state: "BACKOFF", description: "can't find command 'php9'" },
  ],
  ["uptime over a day", "x:x_00                           RUNNING   pid 12, uptime 1 day, 2:03:04", { uptimeSeconds: 93784 }],
  ["uptime of days", "x:x_00                           RUNNING   pid 12, uptime 12 days, 0:00:01", { uptimeSeconds: 1036801 }],
  [
    "long name, no padding left",
    "a-very-long-worker-name-that-is-long:a-very-long-worker-name-that-is-long_00   RUNNING   pid 1, uptime 0:00:01",
    { group: "a-very-long-worker-name-that-is-long", state: "RUNNING" },
  ],
  ["EXITED", "e                                EXITED    Nov 24 08:33 AM", { state: "EXITED" }],
  ["error line", "unix:///tmp/x.sock no such file", null],
  ["no such process", "nosuch: ERROR (no such process)", null],
  ["blank", "", null],
];

describe("parseStatusLine", () => {
  it.each(cases)("%s", (_label, line, want) => {
    const got = parseStatusLine(line);
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatchObject(want);
  });

  it("parses a whole output, skipping noise, with CRLF", () => {
    const out = "a:a_00    RUNNING   pid 1, uptime 0:00:01\r\na:a_01    STOPPED   Not started\r\n\r\n";
    expect(parseStatus(out).map((p) => [p.fullName, p.state])).toEqual([
      ["a:a_00", "RUNNING"],
      ["a:a_01", "STOPPED"],
    ]);
  });
});

describe("parseUptime", () => {
  it.each([
    ["0:00:00", 0],
    ["1:02:03", 3723],
    ["1 day, 0:00:00", 86400],
    ["junk", null],
  ])("%s", (s, n) => expect(parseUptime(s)).toBe(n));
});

describe("unreachableReason", () => {
  it.each([
    ["unix:///tmp/x.sock no such file", "unix:///tmp/x.sock no such file"],
    ["unix:///tmp/x.sock refused connection", "unix:///tmp/x.sock refused connection"],
    ["error: <class 'PermissionError'>, [Errno 13] Permission denied: file: ...", "Permission denied"],
    // A worker's own error text is not about the socket.
    ["w:w_00                           BACKOFF   couldn't chdir to /srv/app: Permission denied", undefined],
    ["a                                RUNNING   pid 1, uptime 0:00:01", undefined],
  ])("%s", (out, want) => expect(unreachableReason(out)).toBe(want));
});

describe("failedInOutput", () => {
  it.each([
    ["a:a_00: ERROR (spawn error)", ["a:a_00"]],
    ["a:a_00: started\na:a_01: ERROR (abnormal termination)", ["a:a_01"]],
    ["b: ERROR (no such file)", ["b"]],
    ["a:a_00: started", []],
    ["a:a_00: ERROR (not running)", []],
    ["", []],
  ])("%j", (out, want) => expect(failedInOutput(out)).toEqual(want));
});
