import * as z from "zod";
import { describe, expect, it } from "vitest";
import { alertDocument, alertEnv, latestExit, testDocument } from "../../../src/core/alerts/alert-doc.js";
import type { AlertOrder } from "../../../src/core/alerts/engine.js";
import { alertDocumentSchema } from "../../../src/core/results.js";
import { processStatus, statusLine } from "../../helpers/scripted.js";

// src/core/alerts/alert-doc.ts: the document CMD reads on stdin fits its published schema, its
// summary stays one line, and only plain words ever reach an environment variable.

const order: AlertOrder = { kind: "fatal", group: "app", process: "app_00", at: Date.UTC(2024, 0, 2, 3, 4, 5), suppressed: 2 };
const exits = {
  known: true as const,
  since: 0,
  until: 1,
  files: [],
  unread: null,
  unlogged: [],
  processes: [
    {
      group: "app",
      name: "app_00",
      known: true as const,
      counts: { memory: 0, killed: 0, recycled: 0, crashed: 4, fatal: 1 },
      unexpected: 4,
      recent: [
        { time: 2, reason: "fatal" as const, status: null, signal: null, expected: null },
        { time: 1, reason: "crashed" as const, status: 255, signal: null, expected: false },
      ],
    },
  ],
};
const facts = {
  host: "web1",
  config: "/etc/supervisor/supervisord.conf",
  managed: true,
  status: processStatus(statusLine("app:app_00", "FATAL", "Exited too quickly (process log may have details)")),
  exits,
  log: { file: "/var/log/supervisor/app_00.log", lines: ["boom"] },
};

describe("the alert document", () => {
  it("says what happened, with the latest real exit (not the FATAL line), and fits its schema", () => {
    const doc = alertDocument(order, facts);
    expect(doc).toEqual({
      version: 1,
      event: "fatal",
      time: "2024-01-02T03:04:05.000Z",
      host: "web1",
      worker: "app",
      process: "app:app_00",
      managed: true,
      state: "FATAL",
      reason: "FATAL: Exited too quickly (process log may have details)",
      summary: "web1: worker app:app_00 FATAL: Exited too quickly (process log may have details); exit status 255 (2 more held back)",
      exit: { status: 255, signal: null, expected: false, reason: "crashed" },
      suppressed: 2,
      log: facts.log,
      config: facts.config,
    });
    expect(alertDocumentSchema.safeParse(doc).success).toBe(true);
    expect(alertDocumentSchema.safeParse(testDocument("h", "/c", 0)).success).toBe(true);
    expect(z.toJSONSchema(alertDocumentSchema)).toBeTruthy();
  });

  it("carries the flapping count and the heal attempt", () => {
    const flap = alertDocument({ ...order, kind: "flapping", suppressed: 0, exits: { count: 6, windowMinutes: 10 } }, facts);
    expect(flap).toMatchObject({
      event: "flapping",
      reason: "6 unexpected exits within 10 minutes",
      exits: { count: 6, windowMinutes: 10 },
    });
    const heal = alertDocument({ ...order, kind: "healing", suppressed: 0, heal: { attempt: 2, nextDelaySeconds: 40 } }, facts);
    expect(heal).toMatchObject({ event: "healing", exit: null, heal: { attempt: 2, nextDelaySeconds: 40 } });
    expect(heal.reason).toBe("FATAL: heal attempt 2 starts it again (the next, should this fail, in 40s)");
  });

  it("keeps the summary on one line whatever supervisord's reason holds", () => {
    const status = processStatus(statusLine("app:app_00", "FATAL", "can't find command 'x'"));
    const doc = alertDocument(order, { ...facts, status: { ...status, description: "line1\nline2\r\u2028forged" } });
    expect(doc.summary).not.toMatch(/[\n\r\u2028]/u);
  });

  it("finds no exit in an unknown log", () => {
    expect(latestExit(null, "app", "app_00")).toBeNull();
    expect(latestExit({ known: false, why: "syslog", message: "x" }, "app", "app_00")).toBeNull();
  });
});

describe("the alert's environment", () => {
  it("carries the event and time always, and names only when each is a plain word; none of the caller's VEXO_SV_*", () => {
    const doc = alertDocument(order, facts);
    const env = alertEnv(doc, { PATH: "/bin", VEXO_SV_CONFIG: "/x", VEXO_SV_WORKER: "forged" });
    expect(env).toEqual({
      PATH: "/bin",
      VEXO_SV_EVENT: "fatal",
      VEXO_SV_TIME: "2024-01-02T03:04:05.000Z",
      VEXO_SV_WORKER: "app",
      VEXO_SV_PROCESS: "app:app_00",
      VEXO_SV_HOST: "web1",
    });
    for (const bad of ["x$(id)", "a b", "a;b", "`id`", "-rf", "x\ny", ""]) {
      const e = alertEnv({ ...doc, worker: bad, process: bad, host: bad }, {});
      expect(Object.keys(e).sort(), JSON.stringify(bad)).toEqual(["VEXO_SV_EVENT", "VEXO_SV_TIME"]);
    }
  });
});
