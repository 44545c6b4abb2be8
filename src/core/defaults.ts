// Kept apart from spec.ts (and zod) so that --help can show them without loading the core.

/** Defaults of `worker add`, shown in --help and applied by the schema. */
export const DEFAULTS = {
  connection: "database",
  queue: "default",
  procs: 1,
  php: "php",
  user: "www-data",
  sleep: 3,
  tries: 3,
  maxTime: 3600,
  stopwaitsecs: 3600,
} as const;

/** A worker (program) name: what Supervisor allows, minus anything a shell or path would read specially. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/u;
