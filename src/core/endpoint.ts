import path from "node:path";
import { VexoError } from "../errors.js";
import type { CtlVia } from "./ctl-io.js";
import { type Layout, parseServerUrl, type Server } from "./layout.js";
import { expandValue } from "./python/format.js";
import { shownPath } from "./trust.js";
import { getOption, type ParsedIni, parseConfigText } from "./supervisord/configparser.js";
import { configExpansions, envExpansions } from "./supervisord/expansions.js";
import type { SupervisorConfig } from "./supervisord/read-config.js";

// Where vexo-sv asks supervisord. supervisorctl 4.2.5 reads `[supervisorctl]` from the one file
// it is given (`-c MAIN`), never from the files MAIN includes, and refuses a MAIN without that
// section; supervisord listens where the merged configuration (includes too) says. So vexo-sv
// reads the merged configuration as supervisord does, and when it names another server than
// supervisorctl would take from MAIN alone (or other credentials, or MAIN has no [supervisorctl]),
// supervisorctl is sent there: `-s URL -u USER`, the password in a private config (ctl-config.ts), never in argv
// (docs/security.md). A MAIN that says it all is asked as always: `-c MAIN`.

/** supervisorctl's built-in server (options.py: ClientOptions). */
const CTL_DEFAULT_URL = "http://localhost:9001";

/** Where a command asks supervisord. */
export interface Endpoint {
  /** What supervisorctl connects to, for messages and the probe. */
  serverUrl: string;
  server: Server;
  /** How supervisorctl is sent there; undefined when `-c MAIN` takes it there itself (the usual case). */
  via: CtlVia | undefined;
  /** The file that says where (the main config, or the include that holds it). */
  from: string;
}

/** What supervisorctl uses: a URL, a user and a password. */
interface Settings {
  serverUrl: string;
  server: Server;
  username: string | null;
  password: string | null;
  from: string;
}

/** A value as supervisorctl expands it (its environment's ENV_X, and `here` where it passes one); as written when that fails. */
function expand(raw: string | undefined, here: string | null): string | undefined {
  if (raw === undefined) return undefined;
  const names = here === null ? envExpansions(process.env) : configExpansions(envExpansions(process.env), here);
  const r = expandValue(raw, names, "supervisorctl");
  return r.ok ? r.value : raw;
}

/** `[supervisorctl]` of one parser, as supervisorctl reads it from a file (ClientOptions.read_config); null without the section. */
function ctlSection(ini: ParsedIni, here: string, fallback: () => Omit<Settings, "username" | "password"> | null) {
  if (!ini.sections.has("supervisorctl")) return null;
  const opt = (key: string) => getOption(ini, "supervisorctl", key);
  const url = opt("serverurl");
  const at = url ? { serverUrl: expand(url.value, here) as string, from: url.file } : fallback();
  if (at === null) return null;
  const server = "server" in at ? at.server : parseServerUrl(at.serverUrl, here);
  return {
    serverUrl: server.kind === "unix" ? `unix://${server.path}` : at.serverUrl,
    server,
    from: at.from,
    username: expand(opt("username")?.value, null) ?? null,
    password: expand(opt("password")?.value, null) ?? null,
  };
}

/** What `supervisorctl -c MAIN` uses: MAIN's [supervisorctl] alone, its serverurl or supervisorctl's default; null when MAIN has none. */
export function mainSettings(config: string, text: string | null): Settings | null {
  if (text === null) return null;
  let ini: ParsedIni;
  try {
    ini = parseConfigText(text, config);
  } catch {
    return null;
  }
  const here = path.dirname(config);
  return ctlSection(ini, here, () => ({ serverUrl: CTL_DEFAULT_URL, server: parseServerUrl(CTL_DEFAULT_URL), from: config }));
}

/**
 * Where supervisord listens, from the merged configuration: `[unix_http_server] file=` first, else
 * `[inet_http_server] port=` (`HOST:PORT`, or a port alone: localhost, as supervisord's
 * inet_address reads it), with that section's own credentials (a `{SHA}` password cannot be sent).
 */
function listening(cfg: SupervisorConfig): Settings | null {
  const ini = cfg.ini;
  const value = (section: string, key: string) => {
    if (!ini.sections.has(section)) return undefined;
    return expand(getOption(ini, section, key)?.value, cfg.here);
  };
  const sock = value("unix_http_server", "file");
  const port = value("inet_http_server", "port");
  const section = sock ? "unix_http_server" : port ? "inet_http_server" : null;
  if (section === null) return null;
  let url: string;
  if (sock) url = `unix://${sock}`;
  else {
    const colon = (port as string).lastIndexOf(":");
    const host = colon < 0 ? "" : (port as string).slice(0, colon);
    url = `http://${host === "" || host === "*" ? "localhost" : host}:${(port as string).slice(colon + 1)}`;
  }
  const server = parseServerUrl(url, cfg.here);
  const password = value(section, "password") ?? null;
  return {
    serverUrl: server.kind === "unix" ? `unix://${server.path}` : url,
    server,
    username: value(section, "username") ?? null,
    password: password?.startsWith("{SHA}") ? null : password,
    from: ini.sections.get(section)?.file ?? cfg.mainConfig,
  };
}

/**
 * Where vexo-sv's reading of the merged configuration says supervisord is: `[supervisorctl]`
 * (from whichever file holds it; a later file's keys win, as supervisord merges sections), its
 * serverurl, else where supervisord listens (with that server's credentials when [supervisorctl]
 * names no user), else supervisorctl's default. Null when the configuration says nothing of it.
 */
export function mergedSettings(cfg: SupervisorConfig): Settings | null {
  const listen = listening(cfg);
  const fallback = () => listen ?? { serverUrl: CTL_DEFAULT_URL, server: parseServerUrl(CTL_DEFAULT_URL), from: cfg.mainConfig };
  const ctl = ctlSection(cfg.ini, cfg.here, fallback);
  if (ctl === null) return listen;
  const named = getOption(cfg.ini, "supervisorctl", "serverurl") !== undefined;
  if (!named && listen !== null && ctl.username === null && listen.username !== null) {
    return { ...ctl, username: listen.username, password: listen.password };
  }
  return ctl;
}

const sameServer = (a: Server, b: Server) => JSON.stringify(a) === JSON.stringify(b);

/** The config supervisorctl is given instead of the main one: `[supervisorctl]` and the password, written so that it reads back as exactly that password. */
export function ctlConfig(password: string | null, from: string): string {
  if (password === null) return "[supervisorctl]\n";
  const text = `[supervisorctl]\npassword = ${password.replaceAll("%", "%%").split("\n").join("\n ")}\n`;
  const back = getOption(parseConfigText(text), "supervisorctl", "password")?.value;
  const read = back === undefined ? undefined : expandValue(back, envExpansions(process.env));
  if (read?.ok && read.value === password) return text;
  throw new VexoError(
    "supervisorctl_failed",
    `the supervisorctl password in ${shownPath(from)} cannot be handed to supervisorctl as it is`,
    {
      hint: "use a password without leading or trailing spaces and without ' ;' or ' #' in it",
      details: { config: from },
    },
  );
}

/**
 * Where a command asks supervisord: what `-c MAIN` reaches when the merged configuration says the
 * same (or nothing), else the merged configuration's server, with `via` to send supervisorctl
 * there. `merged`: null when it could not be read (then MAIN is used as it is).
 */
export function resolveEndpoint(layout: Layout, mainText: string | null, merged: SupervisorConfig | null): Endpoint {
  const asMain: Endpoint = { serverUrl: layout.serverUrl, server: layout.server, via: undefined, from: layout.config };
  const want = merged ? mergedSettings(merged) : null;
  if (want === null || want.server.kind === "unknown") return asMain;
  const main = mainSettings(layout.config, mainText);
  const same = main !== null && sameServer(main.server, want.server) && main.username === want.username && main.password === want.password;
  if (same) return asMain;
  return {
    serverUrl: want.serverUrl,
    server: want.server,
    from: want.from,
    via: { serverUrl: want.serverUrl, username: want.username, config: ctlConfig(want.password, want.from) },
  };
}
