import fs from "node:fs";
import path from "node:path";
import { VexoError } from "../../errors.js";
import { assertTrustedLayout } from "../config-trust.js";
import { convergeRunning } from "../converge.js";
import { ensureDir, LOG_DIR_MODE, readIfExists, removeFile, writeAtomic } from "../fsutil.js";
import { waitHealthy } from "../health.js";
import { programFile } from "../layout.js";
import { applyUpdate, assertNameFree, lockForMutation } from "../mutation.js";
import { isManaged } from "../program-file.js";
import type { ProcessGroup } from "../programs.js";
import { stateDir } from "../records.js";
import type { AlertsResult, Plan } from "../results.js";
import { type SupervisordClient, calls } from "../supervisorctl.js";
import { checkLogDir } from "../worker-trust.js";
import { assertOnCommandLine, checkExec, checkSelf } from "./checks.js";
import { listenerLog, listenerWrittenByVexo, renderListener } from "./listener-file.js";
import { ALERTS_LISTENER, type AlertSettings, revisionOf, settingsPath, settingsText } from "./settings.js";

// `alerts enable` and `alerts disable`, as plan then apply, with a worker's care: every refusal
// before anything is written, the files written atomically under the mutation lock, a scoped
// `update vexo-sv-alerts` that touches no other program and rolls both files back when
// supervisord rejects the change. The listener's file is 0644 (it holds no secret); the settings
// (CMD) are root's, 0600.

export interface EnableInput {
  settings: AlertSettings;
  /** How to run vexo-sv itself: the node binary and the script, absolute paths. */
  self: string[];
  /** Wait until the listener runs. */
  wait: boolean;
  lockWaitSeconds?: number;
}

/** What one change of the listener writes, removes and runs; a value (applying it changes nothing in it). */
export interface AlertsPlan {
  readonly file: string;
  readonly settingsFile: string;
  /** The texts to write; null for a removal. */
  readonly content: string | null;
  readonly settingsText: string | null;
  /** The files as planned: apply re-checks them under the lock. */
  readonly existing: string | null;
  readonly existingSettings: string | null;
  readonly wait: boolean;
  readonly lockWaitSeconds?: number | undefined;
  readonly result: Readonly<AlertsResult>;
}

/** The listener's program file, refused when it is someone else's (or one vexo-sv would not write). */
function ownListenerFile(sv: SupervisordClient): { file: string; existing: string | null } {
  assertTrustedLayout(sv.world);
  assertNameFree(sv, ALERTS_LISTENER, sv.world.config());
  const file = programFile(sv.layout, ALERTS_LISTENER);
  const existing = sv.world.ownFile(file);
  if (existing !== null && !listenerWrittenByVexo(existing)) {
    const why = isManaged(existing) ? "carries vexo-sv's marker but is not the listener file vexo-sv writes" : "was not written by vexo-sv";
    throw new VexoError("not_managed", `${file} ${why}; it is never overwritten or removed`, {
      details: { file },
      hint: `move ${file} away (it defines the program ${ALERTS_LISTENER}, which vexo-sv's alerts use), then run again`,
    });
  }
  return { file, existing };
}

const emptyPlan = (): Plan => ({ mkdirs: [], writes: [], removes: [], supervisorctl: [] });

/** The result a plan starts from. */
function resultOf(
  sv: SupervisordClient,
  file: string,
  action: AlertsResult["action"],
  plan: Plan,
  extra: Partial<AlertsResult>,
): AlertsResult {
  return {
    changed: action !== "unchanged",
    action,
    dryRun: false,
    config: sv.layout.config,
    file,
    settingsFile: settingsPath(sv.layout),
    settings: null,
    log: listenerLog(sv.layout.logDir),
    listener: null,
    plan,
    warnings: [],
    ...extra,
  };
}

/** Everything an enable checks before it writes (each refusal thrown): the paths its command line names, what it runs, the log directory. */
function checkEnable(sv: SupervisordClient, input: EnableInput, file: string): void {
  const svUid = sv.machine.supervisordUid(sv.layout);
  assertOnCommandLine([sv.layout.config, path.dirname(file)]);
  checkSelf(input.self, svUid);
  checkExec(sv, input.settings.exec, svUid);
  checkLogDir(sv.layout.logDir, svUid, { name: ALERTS_LISTENER, procs: 1 });
}

/** Works out an enable: every check, the two files and the call; changes nothing. */
export function planEnable(sv: SupervisordClient, input: EnableInput): AlertsPlan {
  const { layout } = sv;
  const { file, existing } = ownListenerFile(sv);
  checkEnable(sv, input, file);
  const text = settingsText(input.settings);
  const revision = revisionOf(text);
  const content = renderListener({ self: input.self, config: layout.config, confDir: path.dirname(file), revision, logDir: layout.logDir });
  const settingsFile = settingsPath(layout);
  const existingSettings = readIfExists(settingsFile);
  const same = existing === content && existingSettings === text;
  const plan = emptyPlan();
  plan.mkdirs = [layout.logDir, stateDir(layout)].filter((d) => !fs.existsSync(d));
  if (!same)
    plan.writes = [
      { path: settingsFile, content: text },
      { path: file, content },
    ];
  plan.supervisorctl = [sv.argv(calls.update(ALERTS_LISTENER))];
  const action = existing === null ? "created" : same ? "unchanged" : "replaced";
  // Every doubt is a refusal now (a CMD argument another user can change was a warning once): `warnings` stays in the result's schema, empty.
  const result = resultOf(sv, file, action, plan, { settings: input.settings, warnings: [] });
  const { wait, lockWaitSeconds } = input;
  return { file, settingsFile, content, settingsText: text, existing, existingSettings, wait, lockWaitSeconds, result };
}

/** Works out a disable: the two files removed and the group unloaded; changes nothing. Nothing there: nothing to do. */
export function planDisable(sv: SupervisordClient, opts: { lockWaitSeconds?: number } = {}): AlertsPlan {
  const { file, existing } = ownListenerFile(sv);
  const settingsFile = settingsPath(sv.layout);
  const existingSettings = readIfExists(settingsFile);
  const plan = emptyPlan();
  const there = existing !== null || existingSettings !== null;
  if (there) {
    plan.removes = [file, settingsFile].filter((f) => (f === file ? existing : existingSettings) !== null);
    plan.supervisorctl = [sv.argv(calls.update(ALERTS_LISTENER))];
  }
  const result = resultOf(sv, file, there ? "removed" : "unchanged", plan, {});
  const { lockWaitSeconds } = opts;
  return { file, settingsFile, content: null, settingsText: null, existing, existingSettings, wait: false, lockWaitSeconds, result };
}

/** Puts a file back as it was (null: it was not there). */
function restore(file: string, text: string | null, mode: number): void {
  if (text === null) removeFile(file);
  else writeAtomic(file, text, mode);
}

/** Writes (or removes) both files as planned, under the lock, then `update vexo-sv-alerts`, rolled back if rejected. */
async function applyLocked(sv: SupervisordClient, p: AlertsPlan): Promise<void> {
  // Again under the lock, on purpose: another run may have changed it meanwhile.
  const current = readIfExists(p.file);
  if (current !== p.existing && current !== null && !listenerWrittenByVexo(current)) {
    throw new VexoError("not_managed", `${p.file} was changed meanwhile and is not vexo-sv's; nothing was written`, {
      details: { file: p.file },
    });
  }
  const currentSettings = readIfExists(p.settingsFile);
  if (p.content !== null && p.settingsText !== null) {
    ensureDir(sv.layout.logDir, LOG_DIR_MODE);
    // Again now that it exists: a directory another user created meanwhile would hold root's log.
    checkLogDir(sv.layout.logDir, sv.machine.supervisordUid(sv.layout), { name: ALERTS_LISTENER, procs: 1 });
    ensureDir(path.dirname(p.settingsFile), 0o700);
    writeAtomic(p.settingsFile, p.settingsText, 0o600);
    writeAtomic(p.file, p.content, 0o644);
  } else {
    removeFile(p.file);
    removeFile(p.settingsFile);
  }
  await applyUpdate(sv, ALERTS_LISTENER, () => {
    restore(p.file, current, 0o644);
    restore(p.settingsFile, currentSettings, 0o600);
  });
}

/** The listener as a process group, for the health wait's failure report (its log is its stderr). */
function listenerGroup(sv: SupervisordClient, file: string): ProcessGroup {
  const log = listenerLog(sv.layout.logDir);
  const processes = [
    {
      group: ALERTS_LISTENER,
      name: ALERTS_LISTENER,
      namespec: ALERTS_LISTENER,
      processNum: 0,
      stdoutLogfile: { kind: "file" as const, path: log },
    },
  ];
  return {
    name: ALERTS_LISTENER,
    kind: "eventlistener",
    file,
    files: [file],
    managed: false,
    numprocs: 1,
    processes,
    spec: null,
    logs: [log],
  };
}

/** Does a planned enable or disable; returns a new result with the listener's process as supervisord reports it after. */
export async function applyAlerts(sv: SupervisordClient, p: AlertsPlan): Promise<AlertsResult> {
  let action = p.result.action;
  if (action !== "unchanged" || p.content !== null) {
    const lock = await lockForMutation(sv, p.lockWaitSeconds);
    try {
      if (action !== "unchanged") await applyLocked(sv, p);
      // Also when unchanged: it completes a run killed between write and update (a no-op otherwise).
      else await applyUpdate(sv, ALERTS_LISTENER, () => {});
    } finally {
      lock.release();
    }
  }
  if (p.content !== null && action === "unchanged") {
    const run = (await convergeRunning(sv, [ALERTS_LISTENER], { wait: p.wait, start: true })).get(ALERTS_LISTENER);
    if (run === "started") action = "started";
  }
  if (p.content !== null && p.wait && action !== "unchanged") await waitHealthy(sv, [listenerGroup(sv, p.file)], [ALERTS_LISTENER]);
  const procs = p.content === null ? [] : await sv.status([ALERTS_LISTENER]);
  const listener = procs[0] ? { state: procs[0].state, pid: procs[0].pid, description: procs[0].description } : null;
  return { ...p.result, action, changed: action !== "unchanged", listener };
}
