import { createHash } from "node:crypto";
import path from "node:path";
import * as z from "zod/mini";
import { VexoError } from "../../errors.js";
import { readIfExists } from "../fsutil.js";
import type { Layout } from "../layout.js";
import { stateDir } from "../records.js";
import { ALERTS_LISTENER } from "../rules.js";
import { shownPath, untrustedReason } from "../trust.js";

// What the alerts listener does, as `alerts enable` was told: the command to run (CMD, an
// argument list, never a shell string), whether to heal, and the windows. Kept in root's state
// directory (0600 in a 0700 directory no include glob reads), not in the program file: CMD may
// hold anything (quotes, `;`, `#`) that an INI line could not, and the program file is 0644.

export { ALERTS_LISTENER };

/** Defaults of `alerts enable`, shown in --help and in docs. */
export const ALERT_DEFAULTS = {
  /** Flapping: more than 5 unexpected exits in 10 minutes. */
  flapExits: 5,
  flapMinutes: 10,
  /** One alert per worker and kind per 15 minutes. */
  windowSeconds: 900,
  /** CMD (its whole process group) is killed after 30 s. */
  timeoutSeconds: 30,
  /** The first heal 10 s after FATAL, then 20 s, 40 s, ... at most 10 minutes apart. */
  healDelaySeconds: 10,
  healMaxDelaySeconds: 600,
  /** Lines of the worker's log in each alert. */
  logLines: 20,
} as const;

const int = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

/** An argument of CMD: anything but a NUL byte (which no argv can hold), at most 64 KiB. */
const execArg = z.string().check(
  z.maxLength(65536),
  z.refine((v) => !v.includes("\0"), "must not contain a NUL byte"),
);

export const alertSettingsSchema = z.object({
  version: z.literal(1),
  exec: z.array(execArg).check(z.minLength(1), z.maxLength(1024)),
  allPrograms: z.boolean(),
  onExit: z.boolean(),
  onRecovery: z.boolean(),
  flap: z.object({ exits: int(1, 1000), minutes: int(1, 1440) }),
  windowSeconds: int(10, 86400),
  timeoutSeconds: int(1, 3600),
  logLines: int(0, 200),
  heal: z.nullable(z.object({ delaySeconds: int(1, 3600), maxDelaySeconds: int(1, 86400) })),
});

export type AlertSettings = z.output<typeof alertSettingsSchema>;

/** Where the settings are: `.vexo-sv-state/vexo-sv-alerts.json` beside the program files. */
export function settingsPath(layout: Layout): string {
  return path.join(stateDir(layout), `${ALERTS_LISTENER}.json`);
}

/** The settings file's text: its keys always in one order, so the same settings are the same bytes. */
export function settingsText(s: AlertSettings): string {
  const ordered: AlertSettings = {
    version: 1,
    exec: s.exec,
    allPrograms: s.allPrograms,
    onExit: s.onExit,
    onRecovery: s.onRecovery,
    flap: { exits: s.flap.exits, minutes: s.flap.minutes },
    windowSeconds: s.windowSeconds,
    timeoutSeconds: s.timeoutSeconds,
    logLines: s.logLines,
    heal: s.heal === null ? null : { delaySeconds: s.heal.delaySeconds, maxDelaySeconds: s.heal.maxDelaySeconds },
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/**
 * A short digest of the settings text, written on the listener's command line: new settings
 * make a new program file, so the scoped `update` restarts the listener with them.
 */
export function revisionOf(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

/** Parses a settings text; throws not_managed naming the file when it is not one vexo-sv writes. */
export function parseSettings(file: string, text: string): AlertSettings {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw notSettings(file, (e as Error).message);
  }
  const r = alertSettingsSchema.safeParse(doc);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw notSettings(file, `${issue?.path.join(".") || "file"}: ${issue?.message ?? "not valid"}`);
  }
  return r.data;
}

function notSettings(file: string, why: string): VexoError {
  return new VexoError("not_managed", `${shownPath(file)} is not an alerts settings file vexo-sv writes (${why})`, {
    details: { file },
  });
}

/**
 * The settings as the listener reads them, or null when there are none: a regular file (no link,
 * no FIFO) that nobody but this process's user (root) owns or can write, nor any directory above
 * it. CMD runs as that user: a file another user could change would be their command run as root.
 */
export function readSettings(layout: Layout): { text: string; settings: AlertSettings } | null {
  const file = settingsPath(layout);
  const text = readIfExists(file);
  if (text === null) return null;
  const uid = process.geteuid?.() ?? 0;
  const why = untrustedReason(file, { trustedUids: [uid] });
  if (why) throw new VexoError("unsafe_file", `${why}: alerts would run a command another user can change`, { details: { file } });
  return { text, settings: parseSettings(file, text) };
}
