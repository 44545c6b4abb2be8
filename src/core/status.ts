import type { ProcessStatus, WorkerState } from "./results.js";

/** Process states supervisord reports. */
export const PROCESS_STATES = ["STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"] as const;
export type ProcessState = (typeof PROCESS_STATES)[number];

const LINE_RE = new RegExp(`^(\\S+)\\s+(${PROCESS_STATES.join("|")})(?:\\s+(.*?))?\\s*$`, "u");

/** `1 day, 2:03:04` / `3 days, 0:00:01` / `0:01:02` to seconds. */
export function parseUptime(s: string): number | null {
  const m = /^(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2})$/u.exec(s.trim());
  if (!m) return null;
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** Parses one status line; null for lines that are not process lines (errors, blanks). */
export function parseStatusLine(line: string): ProcessStatus | null {
  const m = LINE_RE.exec(line);
  if (!m) return null;
  const fullName = m[1] as string;
  const state = m[2] as ProcessState;
  const description = m[3] ?? "";
  const colon = fullName.indexOf(":");
  const group = colon < 0 ? fullName : fullName.slice(0, colon);
  const process = colon < 0 ? fullName : fullName.slice(colon + 1);
  let pid: number | null = null;
  let uptimeSeconds: number | null = null;
  const run = /^pid (\d+), uptime (.+)$/u.exec(description);
  if (run) {
    pid = Number(run[1]);
    uptimeSeconds = parseUptime(run[2] as string);
  }
  return { group, process, fullName, state, pid, uptimeSeconds, description };
}

/** Parses the whole output of `supervisorctl status`, keeping only process lines. */
export function parseStatus(output: string): ProcessStatus[] {
  const out: ProcessStatus[] = [];
  for (const line of output.split(/\r?\n/u)) {
    const p = parseStatusLine(line);
    if (p) out.push(p);
  }
  return out;
}

/** One word for a group from its processes' states. */
export function groupState(states: ProcessState[], expected: number): WorkerState {
  if (states.length === 0) return "unknown";
  if (states.some((s) => s === "FATAL")) return "fatal";
  const running = states.filter((s) => s === "RUNNING").length;
  if (running === states.length && running >= expected) return "running";
  if (states.every((s) => s === "STOPPED" || s === "EXITED")) return "stopped";
  return "partial";
}

export type { ProcessStatus, WorkerState };
