// The global options, listed once: program.ts adds them to commander, early.ts and main.ts
// read them off argv before commander has loaded, and the docs list them from here.

export interface GlobalOptions {
  config?: string | undefined;
  confDir?: string | undefined;
  logDir?: string | undefined;
  json: boolean;
  quiet: boolean;
  color: boolean;
}

export interface GlobalOption {
  flags: string;
  description: string;
  /** The environment variable that sets it when the flag is absent. */
  env?: string;
}

export const GLOBAL_OPTIONS: readonly GlobalOption[] = [
  { flags: "--config <file>", env: "VEXO_SV_CONFIG", description: "supervisord's main config" },
  { flags: "--conf-dir <dir>", env: "VEXO_SV_CONF_DIR", description: "program directory (default: from [include] files=)" },
  {
    flags: "--log-dir <dir>",
    env: "VEXO_SV_LOG_DIR",
    description: "worker log directory (default: childlogdir, else /var/log/supervisor)",
  },
  { flags: "--json", description: "print exactly one JSON document on stdout; no colour, no progress" },
  { flags: "-q, --quiet", description: "print only data and errors" },
  { flags: "--no-color", description: "no colour (also NO_COLOR)" },
];

const names = (o: GlobalOption) => o.flags.split(/[ ,]+/u).filter((w) => w.startsWith("-"));

/** Global flags that take a value (`--config FILE`). */
export const GLOBAL_VALUE_FLAGS: readonly string[] = GLOBAL_OPTIONS.filter((o) => o.flags.includes("<")).flatMap(names);
/** Global switches (`--json`, `-q`). */
export const GLOBAL_SWITCHES: readonly string[] = GLOBAL_OPTIONS.filter((o) => !o.flags.includes("<")).flatMap(names);

/** How to print, read off argv before commander parses it (a usage error is printed as JSON too). */
export function outputFlags(argv: string[]): Pick<GlobalOptions, "json" | "quiet" | "color"> {
  const end = argv.indexOf("--");
  const before = end < 0 ? argv : argv.slice(0, end);
  return {
    json: before.includes("--json"),
    quiet: before.includes("-q") || before.includes("--quiet"),
    color: !before.includes("--no-color"),
  };
}

/**
 * Flags after which the rest of the command line is another program's argument list (`alerts
 * enable --exec sh -c '...'`): never read as vexo-sv's own options (`curl --config FILE` is not
 * vexo-sv's --config, nor `-q` its --quiet).
 */
export const REST_FLAGS: readonly string[] = ["--exec"];

/** argv with `--` after the first rest flag (one before any `--`), so that neither commander nor the scans above read what follows. */
export function restAsOperands(argv: string[]): string[] {
  const end = argv.indexOf("--");
  const i = argv.findIndex((a, k) => REST_FLAGS.includes(a) && (end < 0 || k < end));
  if (i < 0 || argv[i + 1] === "--") return argv;
  return [...argv.slice(0, i + 1), "--", ...argv.slice(i + 1)];
}
