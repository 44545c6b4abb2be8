import path from "node:path";
import { DEFAULT_CONFIGS } from "../core/rules.js";
import type { ErrorCode, VexoError } from "../errors.js";

// What to do next, for errors the core raised without a hint of its own: the core speaks of
// fields and files, the CLI of commands and flags. Hints name the real command and workers.

/** Where the hint is given: the command that failed, and the flag of the error's field. */
export interface HintContext {
  command: string;
  flag?: string | undefined;
  /** The config in use, if known (for a private supervisord's own `install --prefix DIR`). */
  config?: string | undefined;
}

const list = (v: unknown) => (Array.isArray(v) && v.length ? v.map(String).join(" ") : "NAME");

const HINTS: Record<ErrorCode, (e: VexoError, h: HintContext) => string> = {
  usage: (_e, h) => `see \`vexo-sv ${h.command ? `${h.command} ` : ""}--help\``,
  invalid_input: (_e, h) =>
    h.flag?.startsWith("workers")
      ? "a worker takes the fields of `vexo-sv worker add` (see its --help); the JSON Schema is docs/schemas/workers-file.json"
      : `see \`vexo-sv ${h.command} --help\` for what ${h.flag ?? "each flag"} takes`,
  not_found: () => "see `vexo-sv worker ls` for the workers there are",
  exists: (e) => `add --replace to rewrite it (restarts ${list(e.details?.names)} only); --replace --dry-run shows the new file first`,
  name_taken: (_e, h) =>
    h.command === "worker rm"
      ? "remove it from the file named, by hand: vexo-sv never changes a program it did not write"
      : "pick another --name: vexo-sv never changes a program it did not write",
  not_managed: (e, h) => {
    if (h.command === "worker rm") return "add --force to remove it anyway";
    if (h.command === "worker restart") return `restart it without --stale: \`vexo-sv worker restart ${list(e.details?.names)}\``;
    return "pick another --name, or move that file away first";
  },
  config_not_found: () =>
    "pass --config (or VEXO_SV_CONFIG), or run `sudo vexo-sv install` (`vexo-sv install --prefix DIR` for a private supervisord)",
  conf_dir_not_included: () => "drop --conf-dir, or add that directory to [include] files= in the config",
  supervisord_unreachable: (e, h) => {
    const config = String(e.details?.config ?? h.config ?? "");
    if (config && !DEFAULT_CONFIGS.includes(config))
      return `start it with \`vexo-sv install --prefix ${path.dirname(config)}\`, then run again`;
    return "start it (`sudo systemctl start supervisor`, or `sudo vexo-sv install`), then run again";
  },
  permission_denied: () => "run with sudo, or as the user that owns supervisord's socket",
  supervisord_rejected: () => "fix the file supervisord names, then run again",
  supervisorctl_failed: () => "see supervisord's own log (`vexo-sv logs`) and `vexo-sv status`, then run again",
  lock_timeout: () => "wait for the other vexo-sv run to finish, then run again",
  unsafe_file: () =>
    "look at the file named: another user could have written it, and a chown would keep what they planted (and files they hold open): remove it or move it aside, let vexo-sv or root create it anew, then run again",
  io_error: () => "check the directory's permissions, its mount (read-only?) and free space (`df -h`), then run again",
  not_root: (_e, h) =>
    `run \`sudo vexo-sv ${h.command}\`${h.command === "install" ? ", or `vexo-sv install --prefix DIR` for a private supervisord without root" : ""}`,
  unsupported_system: () => "install supervisor with the system's package manager, then pass --config",
  install_failed: () => "run `apt-get update` and check dpkg's state (`dpkg --configure -a`), then run again",
  start_failed: (e) => {
    const names = list(e.details?.workers);
    return `see the log lines above (\`vexo-sv logs ${names}\`), fix the cause, then \`vexo-sv worker start ${names}\``;
  },
  pause_failed: (e) => {
    const max = list(e.details?.maxTime);
    if (max !== "NAME")
      return `re-add ${max} with --max-time 0 --replace to be able to pause it (Laravel exits a paused worker that has --max-time)`;
    return `see \`vexo-sv logs ${list(e.details?.workers)}\` for why it exited`;
  },
  stale_unknown: (e) =>
    `run it as root (only root and a process's own user can see where it runs), or restart those workers by name, without --stale: \`vexo-sv worker restart ${list(e.details?.workers)}\``,
  still_stale: (e) =>
    `see where each process runs (\`vexo-sv worker ls --json\`: processes[].cwd) and where the worker's --path resolves, then \`vexo-sv worker restart ${list(e.details?.workers)}\``,
  alert_failed: () => "run the command by hand with the same argument list, the alert JSON on its stdin, and fix what it says",
  internal: () => "this is a bug in vexo-sv; please report it with the command you ran",
};

/**
 * The error's own hint, else the CLI's for its code. A core hint that ends in setting a private
 * supervisord up anew (`details.recreate`) gets the command that does it.
 */
export function hintFor(e: VexoError, h: HintContext): string {
  const recreate = e.details?.recreate;
  if (e.hint && typeof recreate === "string") return `${e.hint}: \`vexo-sv install --prefix ${recreate}\``;
  return e.hint ?? HINTS[e.code](e, h);
}
