// The names a `%(name)s` in supervisord's own sections can expand: `here`, `host_node_name` and
// one ENV_X per environment variable (options.py: ServerOptions.read_config, getdefault).

/** supervisord's environ_expansions: `ENV_X` for each variable of the environment. */
export function envExpansions(env: NodeJS.ProcessEnv): Map<string, string | number> {
  const out = new Map<string, string | number>();
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out.set(`ENV_${k}`, v);
  return out;
}

/** ENV_* plus `here` (the directory of the file that holds the value) and, when given, `host_node_name`. */
export function configExpansions(env: ReadonlyMap<string, string | number>, here: string, host?: string): Map<string, string | number> {
  const m = new Map(env);
  m.set("here", here);
  if (host !== undefined) m.set("host_node_name", host);
  return m;
}
