/** Exit codes, documented in docs/exit-codes.md. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unhealthy: 3 } as const;

export type ErrorCode =
  | "usage"
  | "invalid_input"
  | "not_found"
  | "exists"
  | "not_managed"
  | "config_not_found"
  | "conf_dir_not_included"
  | "supervisord_unreachable"
  | "permission_denied"
  | "supervisord_rejected"
  | "supervisorctl_failed"
  | "lock_timeout"
  | "io_error"
  | "not_root"
  | "unsupported_system"
  | "install_failed"
  | "start_failed"
  | "pause_failed"
  | "internal";

/** What to do next, for errors thrown without a more specific hint: every error says one. */
const DEFAULT_HINTS: Record<ErrorCode, string> = {
  usage: "see `vexo-sv --help` (or `vexo-sv COMMAND --help`)",
  invalid_input: "see `vexo-sv COMMAND --help` for what each flag takes",
  not_found: "see `vexo-sv worker ls` for the workers there are",
  exists: "add --replace to change it",
  not_managed: "vexo-sv only changes files it wrote (they start with `; managed-by: vexo-sv`)",
  config_not_found: "pass --config (or VEXO_SV_CONFIG), or run `vexo-sv install`",
  conf_dir_not_included: "drop --conf-dir, or add that directory to [include] files= in the config",
  supervisord_unreachable: "start it (`sudo systemctl start supervisor`, or `vexo-sv install`), then run again",
  permission_denied: "run with sudo, or as the user that owns supervisord's socket",
  supervisord_rejected: "fix the file supervisord names, then run again",
  supervisorctl_failed: "see supervisord's own log (`vexo-sv logs`) and `vexo-sv status`, then run again",
  lock_timeout: "wait for the other vexo-sv run to finish, then run again",
  io_error: "check the directory's permissions, its mount (read-only?) and free space (`df -h`), then run again",
  not_root: "run it with sudo",
  unsupported_system: "install supervisor with the system's package manager, then pass --config",
  install_failed: "run `apt-get update` and check dpkg's state (`dpkg --configure -a`), then run again",
  start_failed: "see the log lines above (`vexo-sv logs NAME`), fix the cause, then `vexo-sv worker start NAME`",
  pause_failed: "see `vexo-sv logs NAME` for why the worker exited",
  internal: "this is a bug in vexo-sv; please report it with the command you ran",
};

/**
 * The one error type the core throws. The CLI boundary turns it into a message,
 * a JSON error object and an exit code; nothing else decides how the process ends.
 */
export class VexoError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; exitCode?: number; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = "VexoError";
    this.code = code;
    this.exitCode = opts.exitCode ?? (code === "usage" || code === "invalid_input" ? EXIT.usage : EXIT.failure);
    this.hint = opts.hint ?? DEFAULT_HINTS[code];
    this.details = opts.details;
  }
}

/** An input error: exit 2, and the caller guarantees nothing was changed. */
export function invalid(flag: string, message: string, hint?: string): VexoError {
  return new VexoError("invalid_input", `${flag}: ${message}`, {
    ...(hint ? { hint } : {}),
    details: { flag },
  });
}
