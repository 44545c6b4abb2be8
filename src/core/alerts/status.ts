import os from "node:os";
import { VexoError } from "../../errors.js";
import { readIfExists } from "../fsutil.js";
import { jsonLine } from "../json-line.js";
import { tailLines } from "../logs.js";
import { programFile } from "../layout.js";
import type { AlertsStatus, AlertsTestResult, ProcessStatus } from "../results.js";
import type { SupervisordClient } from "../supervisorctl.js";
import { alertEnv, testDocument } from "./alert-doc.js";
import { spawnCommand } from "./exec.js";
import { listenerLog, listenerWrittenByVexo, readListenerFile } from "./listener-file.js";
import { ALERTS_LISTENER, readSettings, revisionOf, settingsPath } from "./settings.js";

// `alerts status`: the files, the settings, the listener's process and the end of its log;
// `alerts test`: CMD run once, now, with a test document, as the listener would run it.

/** Lines of the listener's log that status shows. */
const RECENT = 10;

/** What is there: the program file, the settings, and the listener as supervisord reports it. */
export async function alertsStatus(sv: SupervisordClient): Promise<AlertsStatus> {
  const { layout } = sv;
  const file = programFile(layout, ALERTS_LISTENER);
  const text = readIfExists(file);
  const warnings: string[] = [];
  const enabled = text !== null && listenerWrittenByVexo(text);
  if (text !== null && !enabled) warnings.push(`${file} is not the listener file vexo-sv writes: alerts are not vexo-sv's here`);
  const read = readSettings(layout);
  if (enabled && read === null) warnings.push(`${settingsPath(layout)} is missing: the listener answers events and sends no alert`);
  const revision = enabled ? readListenerFile(text as string)?.revision : undefined;
  const upToDate = !enabled || read === null ? null : revision === revisionOf(read.text);
  if (upToDate === false) warnings.push("the settings were changed since the listener was written: enable alerts again to apply them");
  let p: ProcessStatus | undefined;
  try {
    p = (await sv.status([ALERTS_LISTENER]))[0];
  } catch (e) {
    warnings.push(`supervisord was not asked: ${(e as Error).message}`);
  }
  if (enabled && p && p.state !== "RUNNING") warnings.push(`the listener is ${p.state}: see its log`);
  const log = listenerLog(layout.logDir);
  let recent: string[] = [];
  try {
    recent = tailLines(log, RECENT, true);
  } catch (e) {
    warnings.push(`its log was not read: ${(e as Error).message}`);
  }
  return {
    enabled,
    config: layout.config,
    file,
    settingsFile: settingsPath(layout),
    settings: read?.settings ?? null,
    upToDate,
    listener: p ? { state: p.state, pid: p.pid, description: p.description } : null,
    log,
    recent,
    warnings,
  };
}

/** Runs CMD once with a test document, as the listener would (its timeout, its environment variables); throws alert_failed when it fails. */
export async function testAlert(sv: SupervisordClient, env: NodeJS.ProcessEnv): Promise<AlertsTestResult> {
  const read = readSettings(sv.layout);
  if (!read) throw new VexoError("not_found", `alerts are not enabled here (no ${settingsPath(sv.layout)})`);
  const doc = testDocument(os.hostname(), sv.layout.config, Date.now());
  const s = read.settings;
  const o = await spawnCommand({
    argv: s.exec,
    stdin: `${jsonLine(doc)}\n`,
    env: alertEnv(doc, env),
    timeoutMs: s.timeoutSeconds * 1000,
    maxOutput: 4096,
  });
  const result: AlertsTestResult = {
    command: s.exec,
    exitCode: o.exitCode,
    signal: o.signal,
    timedOut: o.timedOut,
    output: o.output,
    outputBytes: o.outputBytes,
    ms: o.ms,
  };
  if (o.error === null && o.exitCode === 0) return result;
  const how =
    o.error ??
    (o.timedOut ? `it was killed after ${s.timeoutSeconds}s` : o.signal ? `it was ended by ${o.signal}` : `it exited ${o.exitCode}`);
  throw new VexoError(
    "alert_failed",
    `the alert command failed: ${how}${o.output ? `; it printed: ${jsonLine(o.output.slice(0, 500))}` : ""}`,
    {
      details: { ...result },
    },
  );
}
