import fs from "node:fs";
import path from "node:path";
import { invalid, VexoError } from "../errors.js";
import { decodeIni } from "./parse.js";
import { findConfig } from "./config-path.js";
import { unsafeReason } from "./values.js";

export { DEFAULT_CONFIGS } from "./config-path.js";

export const DEFAULT_LOG_DIR = "/var/log/supervisor";

export interface LayoutOptions {
  config?: string | undefined;
  confDir?: string | undefined;
  logDir?: string | undefined;
}

/** Where supervisord's files are, as its main config says. */
export interface Layout {
  config: string;
  /** The program directory vexo-sv writes into. */
  confDir: string;
  /** File extension of program files, with the dot (".conf", ".ini"). */
  ext: string;
  /** Every `[include] files=` pattern, absolute. */
  includeGlobs: string[];
  logDir: string;
  /** `unix:///path` or `http://host:port`, what supervisorctl connects to. */
  serverUrl: string;
  pidfile: string;
  supervisordLog: string;
}

/** supervisord's own expansions that can appear in paths of the main config. */
function expand(v: string, here: string): string {
  return v
    .replace(/%\(here\)s/gu, here)
    .replace(/%\(ENV_([A-Za-z0-9_]+)\)s/gu, (_m, k: string) => process.env[k] ?? "")
    .replaceAll("%%", "%");
}

/** Python-glob semantics for one path: `*` and `?` stay within a segment and skip dotfiles. */
export function globMatch(pattern: string, file: string): boolean {
  const ps = pattern.split("/");
  const fs_ = file.split("/");
  if (ps.length !== fs_.length) return false;
  return ps.every((seg, i) => {
    const name = fs_[i] as string;
    if (seg === name) return true;
    if (name.startsWith(".") && !seg.startsWith(".")) return false;
    let re = "^";
    for (let j = 0; j < seg.length; j++) {
      const c = seg[j] as string;
      if (c === "*") re += "[^/]*";
      else if (c === "?") re += "[^/]";
      else if (c === "[") {
        const end = seg.indexOf("]", j + 2);
        if (end < 0) re += "\\[";
        else {
          let cls = seg.slice(j + 1, end).replace(/\\/gu, "\\\\");
          if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
          re += `[${cls}]`;
          j = end;
        }
      } else re += c.replace(/[.+^${}()|\\]/gu, "\\$&");
    }
    return new RegExp(`${re}$`, "u").test(name);
  });
}

/** Reads supervisord's main config and works out where programs and logs go. */
export function resolveLayout(opts: LayoutOptions): Layout {
  const config = findConfig(opts.config);
  const here = path.dirname(config);
  let text: string;
  try {
    text = fs.readFileSync(config, "utf8");
  } catch (e) {
    throw new VexoError("io_error", `cannot read ${config}: ${(e as Error).message}`, {
      hint: "run with sudo, or pass a readable --config",
    });
  }
  const doc = decodeIni(text);
  const abs = (v: string) => path.resolve(here, expand(v, here));
  const includeGlobs = (doc.include?.files ?? "").split(/\s+/u).filter(Boolean).map(abs);

  let confDir: string | undefined;
  let ext = ".conf";
  for (const g of includeGlobs) {
    const m = /^\*(\.[A-Za-z0-9]+)$/u.exec(path.basename(g));
    if (m && !/[*?[]/u.test(path.dirname(g))) {
      confDir = path.dirname(g);
      ext = m[1] as string;
      break;
    }
  }
  if (opts.confDir) {
    const bad = unsafeReason(opts.confDir, { spaces: true, max: 4096 });
    if (bad) throw invalid("--conf-dir", bad);
    confDir = path.resolve(opts.confDir);
  }
  if (!confDir) {
    throw new VexoError(
      "config_not_found",
      `${config} has no [include] files= pattern of the form DIR/*.EXT, so there is no program directory`,
      { hint: "add `[include]\\nfiles = conf.d/*.conf` to it, or pass --conf-dir" },
    );
  }

  const sd = doc.supervisord ?? {};
  const unixFile = doc.unix_http_server?.file;
  let serverUrl = doc.supervisorctl?.serverurl ?? (unixFile ? `unix://${unixFile}` : "http://localhost:9001");
  const unixMatch = /^unix:\/\/(.*)$/u.exec(serverUrl);
  if (unixMatch) serverUrl = `unix://${abs(unixMatch[1] as string)}`;
  const logDir = opts.logDir
    ? path.resolve(opts.logDir)
    : sd.childlogdir && sd.childlogdir !== "AUTO"
      ? abs(sd.childlogdir)
      : DEFAULT_LOG_DIR;
  return {
    config,
    confDir,
    ext,
    includeGlobs,
    logDir,
    serverUrl,
    pidfile: abs(sd.pidfile ?? "supervisord.pid"),
    supervisordLog: abs(sd.logfile ?? "supervisord.log"),
  };
}

/** The program file of worker NAME, checked to be one supervisord will actually read. */
export function programFile(layout: Layout, name: string): string {
  const file = path.join(layout.confDir, `${name}${layout.ext}`);
  if (layout.includeGlobs.length > 0 && !layout.includeGlobs.some((g) => globMatch(g, file))) {
    throw new VexoError(
      "conf_dir_not_included",
      `supervisord would not read ${file}: ${layout.config} includes only ${layout.includeGlobs.join(" ")}`,
      { hint: "drop --conf-dir, or add that directory to [include] files= in the config" },
    );
  }
  return file;
}
