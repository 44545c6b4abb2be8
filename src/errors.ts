/** Exit codes; docs/exit-codes.md is generated from these and ERROR_CODES. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unhealthy: 3 } as const;

/** Every error code vexo-sv reports, with its exit code and what it means (docs/exit-codes.md). */
export const ERROR_CODES = {
  usage: [EXIT.usage, "the command line is wrong: an unknown command or flag, a missing argument"],
  invalid_input: [EXIT.usage, "a value is not allowed; the message names the flag and what it takes"],
  not_found: [EXIT.failure, "no such worker (or program, or log file)"],
  exists: [EXIT.failure, "the worker exists with a different spec and --replace was not given"],
  name_taken: [
    EXIT.failure,
    "the name is a program, group, eventlistener or fcgi-program in another file supervisord reads (it would merge with it)",
  ],
  not_managed: [EXIT.failure, "the file was not written by vexo-sv, so it is never changed or removed without --force"],
  config_not_found: [EXIT.failure, "no supervisord config, or one without a usable [include] directory"],
  conf_dir_not_included: [EXIT.failure, "the program directory is not one supervisord reads"],
  supervisord_unreachable: [EXIT.failure, "supervisord is not running or its socket does not answer"],
  permission_denied: [EXIT.failure, "a file or supervisord's socket needs more rights than the caller has"],
  supervisord_rejected: [EXIT.failure, "supervisord refused the change (the previous state was restored)"],
  supervisorctl_failed: [EXIT.failure, "supervisorctl answered with an error"],
  lock_timeout: [EXIT.failure, "another vexo-sv run held the lock for too long"],
  io_error: [EXIT.failure, "a file could not be read or written (read-only file system, no space, ...)"],
  unsafe_file: [
    EXIT.failure,
    "a file another user could have planted or changed (a symlink, a FIFO, someone else's file); vexo-sv does not use it",
  ],
  not_root: [EXIT.failure, "the command needs root"],
  unsupported_system: [EXIT.failure, "the system has no package manager vexo-sv can install supervisor with"],
  install_failed: [EXIT.failure, "installing the supervisor package failed"],
  start_failed: [EXIT.failure, "a process did not come up (the spawn error and its log lines are in the message)"],
  pause_failed: [EXIT.failure, "a paused process exited instead of staying paused"],
  stale_unknown: [
    EXIT.failure,
    "whether a worker runs stale code cannot be told (its processes' working directory is not readable by this user, or its program file cannot be read back); nothing was restarted",
  ],
  still_stale: [EXIT.failure, "a worker restarted for stale code came back still running in a directory its path no longer resolves to"],
  alert_failed: [EXIT.failure, "the alert command failed (`alerts test`): it exited non-zero, was killed at its timeout, or could not run"],
  internal: [EXIT.failure, "a bug in vexo-sv"],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The one error type the core throws. It names fields (`path`, `procs`), never a flag or a
 * command: the CLI boundary maps fields to flags, adds a hint that names the real command, and
 * turns it into a message, a JSON error object and an exit code.
 */
export class VexoError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** A hint in the system's own terms (a package, a file to fix); the CLI adds one when absent. */
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string | undefined; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = "VexoError";
    this.code = code;
    this.exitCode = ERROR_CODES[code][0];
    this.hint = opts.hint;
    this.details = opts.details;
  }
}

/** An input error about one field of the input: exit 2, and the caller guarantees nothing was changed. */
export function invalid(field: string, message: string, hint?: string): VexoError {
  return new VexoError("invalid_input", message, { ...(hint ? { hint } : {}), details: { field } });
}
