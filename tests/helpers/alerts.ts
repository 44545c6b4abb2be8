import fs from "node:fs";
import path from "node:path";
import { alertDocumentSchema, type AlertDocument } from "../../src/core/results.js";
import { addArgs, type Sv, waitFor } from "./cli.js";

// What the alerts tests share: applications whose "artisan" is a shell script (run with
// `--php /bin/sh`: it starts in milliseconds, so a test decides exactly when it exits and what it
// logs), an alert command that records each alert, and the listener's own log.

/** An application dir with an `artisan` shell script (mode 0755, root's like the rest of the tree). */
export function shApp(sv: Sv, name: string, body: string): string {
  const dir = path.join(sv.dir, "apps", name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(path.dirname(dir), 0o755);
  fs.writeFileSync(path.join(dir, "artisan"), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return dir;
}

/**
 * For an app that exits at once: a startsecs well past supervisord's 1-second loop. With the
 * default (1 s), supervisord may reap an exit only after startsecs has passed, call the process
 * RUNNING, and start its retries over, which put FATAL anywhere from 10 to 50 s away; with 3 s,
 * every exit is seen within startsecs and FATAL comes after startretries' backoff (1 + 2 + 3 s).
 */
export const EXITS_AT_ONCE = ["--startsecs", "3"];

/** `worker add` of a shell-script application, without waiting for it to come up. */
export const shAddArgs = (name: string, app: string, extra: string[] = []) =>
  addArgs(name, ["--php", "/bin/sh", "--no-wait", ...extra], app);

/**
 * The alert command of the tests: each alert's stdin, one file each, and its VEXO_SV_* variables
 * beside it. For a few worker names it misbehaves first: fails, hangs, or prints megabytes.
 */
export function recorder(sv: Sv): { exec: string; dir: string } {
  const dir = path.join(sv.dir, "alerts");
  fs.mkdirSync(dir, { mode: 0o755 });
  const exec = path.join(sv.dir, "record-alert.sh");
  fs.writeFileSync(
    exec,
    `#!/bin/sh
case "$VEXO_SV_WORKER" in
  cmd-fails) echo "failing on purpose" >&2; exit 1 ;;
  cmd-hangs) sleep 1000 ;;
  cmd-spams) head -c 5000000 /dev/zero | tr '\\0' x ;;
esac
f="${dir}/$(date +%s%N)-$$"
cat > "$f.tmp"
env | grep '^VEXO_SV_' | sort > "$f.env"
mv "$f.tmp" "$f.json"
`,
    { mode: 0o755 },
  );
  return { exec, dir };
}

export interface Recorded {
  doc: AlertDocument;
  /** The VEXO_SV_* variables it ran with, NAME=value each. */
  env: string[];
}

/** Every alert recorded so far, oldest first, each checked against the published schema. */
export function recorded(dir: string): Recorded[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const text = fs.readFileSync(path.join(dir, f), "utf8");
      if (!text.endsWith("}\n") || text.indexOf("\n") !== text.length - 1) throw new Error(`not one JSON line: ${text.slice(0, 200)}`);
      const doc = alertDocumentSchema.parse(JSON.parse(text));
      const env = fs
        .readFileSync(path.join(dir, f.replace(/\.json$/u, ".env")), "utf8")
        .trim()
        .split("\n");
      return { doc, env };
    });
}

/** The alerts of one event for one worker. */
export const alertsOf = (dir: string, event: string, worker: string) =>
  recorded(dir).filter((r) => r.doc.event === event && r.doc.worker === worker);

/** The listener's own log. */
export function listenerLogText(sv: Sv): string {
  try {
    return fs.readFileSync(path.join(sv.logDir, "vexo-sv-alerts_00.log"), "utf8");
  } catch {
    return "";
  }
}

/** Waits until the listener's log holds `n` lines matching `re`; returns them. */
export function waitLog(sv: Sv, re: RegExp, n = 1, seconds = 90): Promise<string[]> {
  return waitFor(
    async () => {
      const lines = listenerLogText(sv)
        .split("\n")
        .filter((l) => re.test(l));
      return lines.length >= n ? lines : undefined;
    },
    seconds,
    `${n} listener log line(s) matching ${re}`,
  );
}
