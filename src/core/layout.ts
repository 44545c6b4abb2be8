import os from "node:os";
import path from "node:path";
import { invalid, VexoError } from "../errors.js";
import { expandValue } from "./python/format.js";
import { globMatch } from "./python/glob.js";
import { pySplit } from "./python/str.js";
import { findConfig } from "./config-path.js";
import { unsafeReason } from "./rules.js";
import { getOption, type ParsedIni, parseConfigText } from "./supervisord/configparser.js";
import { configExpansions, envExpansions } from "./supervisord/expansions.js";
import { readFileStrict } from "./supervisord/read-config.js";

// Where supervisord's files are: its main config (given, or the system's), the include globs,
// the program and log directories, and the server URL, parsed once, as supervisorctl reads them.

/** What supervisorctl connects to, parsed once from serverurl (or [unix_http_server] file=). */
export type Server = { kind: "unix"; path: string } | { kind: "http"; host: string; port: number } | { kind: "unknown" };

/** Parses a supervisorctl serverurl; relative unix paths resolve against the config's directory. */
export function parseServerUrl(url: string, here = "/"): Server {
  const unix = /^unix:\/\/(.*)$/u.exec(url);
  if (unix) return { kind: "unix", path: path.resolve(here, unix[1] as string) };
  const http = /^https?:\/\/([^:/]+|\[[^\]]+\])(?::(\d+))?/u.exec(url);
  if (http) return { kind: "http", host: (http[1] as string).replace(/^\[|\]$/gu, ""), port: Number(http[2] ?? 80) };
  return { kind: "unknown" };
}

export const DEFAULT_LOG_DIR = "/var/log/supervisor";

export interface LayoutOptions {
  config?: string | undefined;
  confDir?: string | undefined;
  logDir?: string | undefined;
}

/** Where supervisord's files are, as its main config says. */
export interface Layout {
  config: string;
  /** The program directory vexo-sv writes into; null when the config includes no DIR/*.EXT (then nothing can be added). */
  confDir: string | null;
  /** File extension of program files, with the dot (".conf", ".ini"). */
  ext: string;
  /** Every `[include] files=` pattern, absolute. */
  includeGlobs: string[];
  logDir: string;
  /** supervisord's own childlogdir (where AUTO logs go): its default is the temp directory. */
  childLogDir: string;
  /** `unix:///path` or `http://host:port`, what supervisorctl connects to (for messages). */
  serverUrl: string;
  server: Server;
  pidfile: string;
  supervisordLog: string;
}

/**
 * A value of the main config as supervisord and supervisorctl expand it: `%(here)s` (the config's
 * directory), `%(ENV_X)s` (the environment: supervisorctl's is ours), `%(host_node_name)s`, `%%`.
 * An expansion that fails leaves the value as written (supervisord would refuse to start).
 */
function expanded(ini: ParsedIni, section: string, key: string, here: string): string | undefined {
  const raw = getOption(ini, section, key)?.value;
  if (raw === undefined) return undefined;
  const r = expandValue(raw, configExpansions(envExpansions(process.env), here, os.hostname()), `${section}.${key}`);
  return r.ok ? r.value : raw;
}

/** The directory of the first include glob of the form DIR/*.EXT (or --conf-dir), and EXT; null when there is none. */
function programDir(includeGlobs: string[], given: string | undefined): { confDir: string | null; ext: string } {
  let found: { confDir: string; ext: string } | undefined;
  for (const g of includeGlobs) {
    const m = /^\*(\.[A-Za-z0-9]+)$/u.exec(path.basename(g));
    if (m && !/[*?[]/u.test(path.dirname(g))) {
      found = { confDir: path.dirname(g), ext: m[1] as string };
      break;
    }
  }
  if (given) {
    const bad = unsafeReason(given, { spaces: true, max: 4096 });
    if (bad) throw invalid("confDir", bad);
    return { confDir: path.resolve(given), ext: found?.ext ?? ".conf" };
  }
  return found ?? { confDir: null, ext: ".conf" };
}

/** The program directory, for what writes there; a config without one cannot take workers. */
export function requireConfDir(layout: Layout): string {
  if (layout.confDir !== null) return layout.confDir;
  throw new VexoError(
    "config_not_found",
    `${layout.config} has no [include] files= pattern of the form DIR/*.EXT, so there is no program directory`,
    {
      hint: "add `[include]` with `files = conf.d/*.conf` to it",
    },
  );
}

const unreadable = (config: string, e: unknown) =>
  new VexoError("io_error", `cannot read ${config}: ${(e as Error).message}`, {
    hint: "run with sudo, or use a config file you can read",
  });

/** The main config's text (a link followed; non-blocking and regular files only: a FIFO in its place must not hang the command). */
export function readMainConfig(config: string): string {
  try {
    return readFileStrict(config);
  } catch (e) {
    throw unreadable(config, e);
  }
}

/** The layout of the main config's text, parsed by configparser's rules (continuation lines, `:`, header comments). */
export function layoutOfMain(config: string, text: string, opts: LayoutOptions): Layout {
  let ini: ParsedIni;
  try {
    ini = parseConfigText(text, config);
  } catch (e) {
    throw unreadable(config, e);
  }
  return layoutOf(config, ini, opts);
}

/** Reads supervisord's main config and works out where programs and logs go (a command's World reads it once for both). */
export function resolveLayout(opts: LayoutOptions): Layout {
  const config = findConfig(opts.config);
  return layoutOfMain(config, readMainConfig(config), opts);
}

/** The layout of a main config already read (by a caller that reads it its own way). */
export function layoutFromText(config: string, text: string, opts: LayoutOptions = {}): Layout {
  return layoutOf(config, parseConfigText(text, config), opts);
}

function layoutOf(config: string, ini: ParsedIni, opts: LayoutOptions): Layout {
  const here = path.dirname(config);
  const value = (section: string, key: string) => expanded(ini, section, key, here);
  const abs = (v: string) => path.resolve(here, v);
  const includeGlobs = pySplit(value("include", "files") ?? "").map(abs);
  const { confDir, ext } = programDir(includeGlobs, opts.confDir);
  const unixFile = value("unix_http_server", "file");
  const rawUrl = value("supervisorctl", "serverurl") ?? (unixFile ? `unix://${unixFile}` : "http://localhost:9001");
  const server = parseServerUrl(rawUrl, here);
  const childlogdir = value("supervisord", "childlogdir");
  const childLogDir = childlogdir && childlogdir !== "AUTO" ? abs(childlogdir) : os.tmpdir();
  return {
    config,
    confDir,
    ext,
    includeGlobs,
    logDir: opts.logDir ? path.resolve(opts.logDir) : childlogdir && childlogdir !== "AUTO" ? childLogDir : DEFAULT_LOG_DIR,
    childLogDir,
    serverUrl: server.kind === "unix" ? `unix://${server.path}` : rawUrl,
    server,
    pidfile: abs(value("supervisord", "pidfile") ?? "supervisord.pid"),
    supervisordLog: abs(value("supervisord", "logfile") ?? "supervisord.log"),
  };
}

/** The program file of worker NAME, checked to be one supervisord will actually read. */
export function programFile(layout: Layout, name: string): string {
  const file = path.join(requireConfDir(layout), `${name}${layout.ext}`);
  if (layout.includeGlobs.length > 0 && !layout.includeGlobs.some((g) => globMatch(g, file))) {
    throw new VexoError(
      "conf_dir_not_included",
      `supervisord would not read ${file}: ${layout.config} includes only ${layout.includeGlobs.join(" ")}`,
    );
  }
  return file;
}
