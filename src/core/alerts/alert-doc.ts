import { exitReason, type ExitsResult } from "../exits.js";
import type { AlertDocument, ProcessStatus } from "../results.js";
import type { AlertOrder } from "./engine.js";
import type { AlertLog } from "./watch.js";

// The document an alert command reads on stdin, and its few environment variables. Everything
// from the event, the worker's log or supervisord (names, spawn errors, log lines) reaches the
// command only as JSON data on stdin; an environment variable carries a name only when it is a
// plain word (letters, digits, `.`, `_`, `-`, `:`, `@`), and is left out otherwise.

/** What the listener gathered for one alert. */
export interface AlertFacts {
  host: string;
  config: string;
  managed: boolean;
  /** The process as supervisorctl reported it when the alert was sent; null when not known. */
  status: ProcessStatus | null;
  exits: ExitsResult | null;
  log: AlertLog;
}

/** The latest exit of the process in supervisord's log (a FATAL line is not an exit), or null. */
export function latestExit(exits: ExitsResult | null, group: string, process: string): AlertDocument["exit"] {
  if (!exits?.known) return null;
  const p = exits.processes.find((x) => x.group === group && x.name === process);
  const e = p?.known ? p.recent.find((r) => r.reason !== "fatal") : undefined;
  return e ? { status: e.status, signal: e.signal, expected: e.expected, reason: exitReason(e) } : null;
}

function exitWords(exit: AlertDocument["exit"]): string {
  if (!exit) return "";
  return exit.signal !== null ? `; killed by ${exit.signal}` : `; exit status ${exit.status}`;
}

/** What happened, in one line. */
export function reasonOf(order: AlertOrder, status: ProcessStatus | null): string {
  switch (order.kind) {
    case "fatal":
      return status?.description ? `FATAL: ${status.description}` : "FATAL: supervisord gave up starting it";
    case "flapping":
      return `${order.exits?.count ?? "many"} unexpected exits within ${order.exits?.windowMinutes ?? "?"} minutes`;
    case "exited":
      return "exited unexpectedly";
    case "healing":
      return `FATAL: heal attempt ${order.heal?.attempt ?? "?"} starts it again${order.heal?.nextDelaySeconds ? ` (the next, should this fail, in ${order.heal.nextDelaySeconds}s)` : ""}`;
    case "healed":
      return `running again after heal attempt ${order.heal?.attempt ?? "?"}`;
    case "recovered":
      return "running again";
  }
}

const fullName = (order: AlertOrder) => (order.group === order.process ? order.group : `${order.group}:${order.process}`);

/** The document for one alert. Pure. */
export function alertDocument(order: AlertOrder, facts: AlertFacts): AlertDocument {
  const exit =
    order.kind === "fatal" || order.kind === "flapping" || order.kind === "exited"
      ? latestExit(facts.exits, order.group, order.process)
      : null;
  const reason = reasonOf(order, facts.status);
  const process = fullName(order);
  const held = order.suppressed > 0 ? ` (${order.suppressed} more held back)` : "";
  const doc: AlertDocument = {
    version: 1,
    event: order.kind,
    time: new Date(order.at).toISOString(),
    host: facts.host,
    worker: order.group,
    process,
    managed: facts.managed,
    state: facts.status?.state ?? null,
    reason,
    summary: oneLine(`${facts.host}: ${facts.managed ? "worker" : "program"} ${process} ${reason}${exitWords(exit)}${held}`),
    exit,
    suppressed: order.suppressed,
    log: facts.log,
    config: facts.config,
  };
  if (order.exits) doc.exits = order.exits;
  if (order.heal) doc.heal = order.heal;
  return doc;
}

/** No newline or other control character in a summary: chat messages and log lines stay one line. */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/gu, " ");
}

/** A value an environment variable may carry: a plain word, nothing a shell or a log could misread. */
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/u;

/**
 * The command's environment: the listener's own (supervisord's: PATH, LANG, ...), without any
 * VEXO_SV_* it had, plus VEXO_SV_EVENT, VEXO_SV_TIME, and VEXO_SV_WORKER, VEXO_SV_PROCESS and
 * VEXO_SV_HOST when each is a plain word.
 */
export function alertEnv(doc: AlertDocument, base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !k.startsWith("VEXO_SV_")) env[k] = v;
  env.VEXO_SV_EVENT = doc.event;
  env.VEXO_SV_TIME = doc.time;
  const plain: [string, string | null][] = [
    ["VEXO_SV_WORKER", doc.worker],
    ["VEXO_SV_PROCESS", doc.process],
    ["VEXO_SV_HOST", doc.host],
  ];
  for (const [k, v] of plain) if (v !== null && PLAIN.test(v)) env[k] = v;
  return env;
}

/** The document `alerts test` sends. */
export function testDocument(host: string, config: string, now: number): AlertDocument {
  return {
    version: 1,
    event: "test",
    time: new Date(now).toISOString(),
    host,
    worker: null,
    process: null,
    managed: false,
    state: null,
    reason: "a test alert: the alert command works",
    summary: oneLine(`${host}: a test alert from vexo-sv: the alert command works`),
    exit: null,
    suppressed: 0,
    log: { file: null, lines: [] },
    config,
  };
}
