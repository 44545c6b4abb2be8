// `node --import ./tests/helpers/crash-at.mjs ...` with VEXO_CRASH_AT=PHASE: the process kills
// itself with SIGKILL at that phase of a mutation, so a crash test hits every phase on purpose
// instead of hoping a random delay lands there. On the way it appends each phase it passes to
// VEXO_CRASH_LOG, so a test can tell which phases a run went through.
//   before-rename   the temp file is written, the program file not yet replaced
//   after-rename    the program file replaced, supervisord not yet told
//   during-update   `supervisorctl update NAME` started (it runs on; vexo-sv dies)
//   during-lock     waiting for (or holding) the lock: util-linux flock started
//   during-stop     `supervisorctl stop NAME:*` started (rm)
//   after-unlink    the program file removed (rm), supervisord not yet told
//   during-status   the first `supervisorctl status` after the change (the health wait)
//   during-reread   `supervisorctl reread` started (apply, before it skips identical workers)
//   during-start    `supervisorctl start ...` started (resume, start: one per lane)
//   during-restart  `supervisorctl restart ...` started (restart: one per lane)
// VEXO_CRASH_NTH=N kills at the Nth time the phase is passed (default 1): apply passes most
// phases once per worker.
import childProcess from "node:child_process";
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const at = process.env.VEXO_CRASH_AT ?? "";
const log = process.env.VEXO_CRASH_LOG;
const nth = Number(process.env.VEXO_CRASH_NTH ?? 1);
let passed = 0;
const pass = (phase) => {
  if (log) fs.appendFileSync(log, `${phase}\n`);
  if (phase === at && ++passed === nth) process.kill(process.pid, "SIGKILL");
};

const rename = fs.renameSync;
fs.renameSync = (from, to) => {
  const ours = String(from).includes(".vexo-sv-tmp-");
  if (ours) pass("before-rename");
  rename(from, to);
  if (ours) pass("after-rename");
};
const unlink = fs.unlinkSync;
fs.unlinkSync = (file) => {
  unlink(file);
  if (/\.(conf|ini)$/u.test(String(file))) pass("after-unlink");
};
const spawn = childProcess.spawn;
childProcess.spawn = (cmd, args, opts) => {
  const child = spawn(cmd, args, opts);
  if (String(cmd).endsWith("flock")) pass("during-lock");
  if (String(cmd).endsWith("supervisorctl")) {
    const verb = (args ?? [])[2];
    if (verb === "update") pass("during-update");
    if (verb === "stop") pass("during-stop");
    if (verb === "status") pass("during-status");
    if (verb === "reread") pass("during-reread");
    if (verb === "start") pass("during-start");
    if (verb === "restart") pass("during-restart");
  }
  return child;
};
syncBuiltinESMExports();
