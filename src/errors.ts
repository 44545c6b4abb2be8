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

/**
 * The one error type the core throws. The CLI boundary turns it into a message,
 * a JSON error object and an exit code; nothing else decides how the process ends.
 */
export class VexoError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; exitCode?: number; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = "VexoError";
    this.code = code;
    this.exitCode = opts.exitCode ?? (code === "usage" || code === "invalid_input" ? EXIT.usage : EXIT.failure);
    this.hint = opts.hint;
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
