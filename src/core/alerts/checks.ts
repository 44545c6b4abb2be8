import fs from "node:fs";
import path from "node:path";
import { invalid, VexoError } from "../../errors.js";
import { onPath } from "../machine.js";
import { unsafeReason } from "../rules.js";
import type { SupervisordClient } from "../supervisorctl.js";
import { shownPath, untrustedReason } from "../trust.js";
import { untrustedInTree } from "../worker-trust.js";

// Who could change what the listener runs. It runs as supervisord's user (root, as a rule), and
// it runs two things: vexo-sv itself (node and the installed script and bundle) and CMD. Either
// one that another user can write would be their code run as root: refused, as for a root worker.

/** The uids whose files supervisord's user may run: root, and that user. */
const trustedFor = (svUid: number | null) => (svUid === null || svUid === 0 ? [0] : [0, svUid]);

/**
 * vexo-sv as the listener runs it: each path absolute and writable on a command= line, owned and
 * writable only by root (or supervisord's user), with every directory above it; for a root
 * supervisord, also the whole bundle the script loads (dist/). Throws what it refuses.
 */
export function checkSelf(self: readonly string[], svUid: number | null): void {
  const trustedUids = trustedFor(svUid);
  assertOnCommandLine(self);
  for (const p of self) {
    const why = untrustedReason(p, { trustedUids, followFinal: true });
    if (why) throw selfRefusal(`${why}: the alerts listener would run vexo-sv as supervisord's user from files another user can change`);
  }
  const script = self[self.length - 1] as string;
  const dist = path.join(path.dirname(path.dirname(fs.realpathSync(script))), "dist");
  const inside = trustedUids.length === 1 && fs.existsSync(dist) ? untrustedInTree(dist) : undefined;
  if (inside) throw selfRefusal(`${inside}: the alerts listener would run code another user can change`);
}

/** Paths the listener's command= line names: absolute, and nothing a Supervisor config line cannot hold. */
export function assertOnCommandLine(paths: readonly string[]): void {
  for (const p of paths) {
    const problem = !path.isAbsolute(p) ? "is not an absolute path" : unsafeReason(p, { spaces: true, max: 4096 });
    if (problem) throw new VexoError("unsafe_file", `${shownPath(p)} ${problem}: the listener's command line cannot name it`);
  }
}

function selfRefusal(message: string): VexoError {
  return new VexoError("unsafe_file", message, {
    hint: "install vexo-sv as root where only root can write (`sudo npm install -g vexo-sv`), and run it from there",
  });
}

/** For an argument another user can change: a new file of root's, or the code run as its owner. */
const ARG_HINT =
  "keep what the alert command reads where only root can write it (a file written anew as root, not a copy of theirs); " +
  "to run an application's own code on an alert, run it as the application's user (the alert command sh -c 'exec runuser -u USER -- COMMAND'), " +
  "which then reads every alert it is given, log lines included (unless alerts are set to send none)";

/**
 * A path not there yet is whoever's creates it first: judged by the nearest directory that is
 * there, a sticky one too (anyone may create `/tmp/alert.sh` after the check). Undefined when it exists.
 */
function notYetReason(p: string, trustedUids: number[]): string | undefined {
  if (fs.existsSync(p)) return undefined;
  let dir = path.dirname(p);
  while (dir !== "/" && !fs.existsSync(dir)) dir = path.dirname(dir);
  return untrustedReason(dir, { trustedUids, followFinal: true });
}

/**
 * CMD: its program must be an executable file, named by an absolute path or found on
 * supervisord's PATH, that only root (or supervisord's user) can change; so must every file
 * an absolute path among its arguments names, there or not yet (a script given to `sh` or `php`, a `curl -K`
 * config): either would be another user's code run as supervisord's user.
 */
export function checkExec(sv: SupervisordClient, exec: readonly string[], svUid: number | null): void {
  const [program = "", ...args] = exec;
  if (program === "") throw invalid("exec", "needs a program to run (and its arguments, if any)");
  if (program.includes("/") && !path.isAbsolute(program))
    throw invalid("exec", `${shownPath(program)}: give an absolute path, or a command found on supervisord's PATH`);
  const m = sv.machine;
  const pathVar = m.supervisordPathVar(sv.layout);
  const resolved = path.isAbsolute(program)
    ? m.isExecutable(program)
      ? program
      : null
    : onPath(program, pathVar, (f) => m.isExecutable(f));
  if (resolved === null) {
    throw invalid(
      "exec",
      path.isAbsolute(program)
        ? `${shownPath(program)} is not an executable file`
        : `${shownPath(program)} is not on supervisord's PATH (${pathVar}); give an absolute path`,
    );
  }
  const trustedUids = trustedFor(svUid);
  const why = untrustedReason(resolved, { trustedUids, followFinal: true });
  if (why) throw invalid("exec", `${why}: the alert command would run as supervisord's user a program another user can change`);
  for (const a of args) {
    if (!path.isAbsolute(a)) continue;
    const bad = untrustedReason(a, { trustedUids, followFinal: true }) ?? notYetReason(a, trustedUids);
    if (bad)
      throw invalid(
        "exec",
        `${bad}: the alert command, run as supervisord's user, would be given a file another user can change or create`,
        ARG_HINT,
      );
  }
}
