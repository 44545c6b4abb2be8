import fs from "node:fs";
import path from "node:path";
import { type IniSection, parseConfigText } from "./supervisord/configparser.js";
import { escapePercent } from "./program-file.js";

// A private supervisord's main config: what vexo-sv writes for a directory, and whether a config
// that carries vexo-sv's marker is still that. The marker is one line anyone who can write the
// file keeps; what supervisord runs is everything else in it, so that is what is compared.

/** Where a private supervisord keeps its pieces, all under one directory. */
export function prefixPaths(dir: string) {
  return {
    dir,
    config: path.join(dir, "supervisord.conf"),
    confDir: path.join(dir, "conf.d"),
    logDir: path.join(dir, "logs"),
    socket: path.join(dir, "supervisor.sock"),
    pidfile: path.join(dir, "supervisord.pid"),
  };
}

/** The main config of a private supervisord. Pure. */
export function renderPrivateConfig(dir: string): string {
  const p = prefixPaths(dir);
  const e = escapePercent;
  return `; managed-by: vexo-sv
; A private supervisord, made by \`vexo-sv install --prefix ${dir}\`.
[unix_http_server]
file=${e(p.socket)}
chmod=0700

[supervisord]
logfile=${e(path.join(p.logDir, "supervisord.log"))}
pidfile=${e(p.pidfile)}
childlogdir=${e(p.logDir)}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${e(p.socket)}

[include]
files = ${e(path.join(p.confDir, "*.conf"))}
`;
}

/** What in one section is not what vexo-sv writes there (a key it does not write, or another value). */
function sectionChanges(name: string, got: IniSection, want: IniSection | undefined): string[] {
  if (!want) return [`[${name}] is not a section vexo-sv writes`];
  const out: string[] = [];
  for (const [key, o] of got.options) {
    const expected = want.options.get(key);
    if (expected === undefined) out.push(`[${name}] ${key} is not a key vexo-sv writes`);
    else if (o.value !== expected.value) out.push(`[${name}] ${key} is not the value vexo-sv writes`);
  }
  return out;
}

/** The changes against what vexo-sv writes for `dir`, both parsed as supervisord parses them. */
function changesFor(dir: string, text: string, config: string): string[] {
  const got = parseConfigText(text, config);
  const want = parseConfigText(renderPrivateConfig(dir), config);
  const out = got.errors.map((e) => `line ${e.line} is not one supervisord can parse`);
  out.push(...sectionChanges("DEFAULT", got.defaults, want.defaults));
  for (const [name, section] of got.sections) out.push(...sectionChanges(name, section, want.sections.get(name)));
  return out;
}

/**
 * What in a main config is not what vexo-sv writes for the config's own directory (compared as
 * parsed: every section and key must be one vexo-sv writes, with its value; a key may be missing).
 * Empty when it is vexo-sv's. The directory is taken as named, or with its links resolved.
 */
export function privateConfigChanges(config: string, text: string): string[] {
  const dir = path.dirname(config);
  const changes = changesFor(dir, text, config);
  if (changes.length === 0) return changes;
  let real = dir;
  try {
    real = fs.realpathSync(dir);
  } catch {
    return changes;
  }
  return real === dir || changesFor(real, text, config).length > 0 ? changes : [];
}
