/**
 * A hand-written supervisord config like Debian's sample (no vexo-sv marker): a unix socket only
 * root can use, `[supervisorctl]` pointing at it, programs in conf.d/*.conf; supervisord's own log
 * at `logfile` (a path in supervisord's syntax: `%(here)s` is the config's directory).
 */
export const handWrittenConfig = (logfile = "%(here)s/logs/supervisord.log") => `[unix_http_server]
file = %(here)s/sv.sock
chmod = 0700

[supervisord]
logfile = ${logfile}
pidfile = %(here)s/supervisord.pid
childlogdir = %(here)s/logs

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl = unix://%(here)s/sv.sock

[include]
files = %(here)s/conf.d/*.conf
`;
