"""Reference for the differential tests: supervisor's own parser, run by Debian's python3.

Reads one JSON document on stdin, writes one on stdout.
  {"mode": "parse", "cases": [text, ...]}           -> UnhosedConfigParser per text
  {"mode": "config", "cases": [{"main", "env"}...]} -> ServerOptions.read_config + process groups
"""
import io
import json
import sys

from supervisor import datatypes
from supervisor.options import ServerOptions, UnhosedConfigParser


def parse_case(text):
    parser = UnhosedConfigParser()
    out = {"sections": [], "errors": [], "missing": None}
    try:
        # Universal newlines, as when supervisord opens a file.
        parser.read_file(io.StringIO(text, newline=None), "<case>")
    except Exception as e:  # ParsingError, MissingSectionHeaderError
        if type(e).__name__ == "MissingSectionHeaderError":
            out["missing"] = e.lineno
            return out
        out["errors"] = [lineno for lineno, _ in e.errors]
    out["sections"].append(["DEFAULT", [[k, v] for k, v in parser._defaults.items()]])
    for name, opts in parser._sections.items():
        out["sections"].append([name, [[k, v] for k, v in opts.items()]])
    return out


def logfile(v):
    if v is datatypes.Automatic:
        return "AUTO"
    if v is None:
        return "NONE"
    return "FILE:" + v


def config_case(case):
    options = ServerOptions()
    options.environ_expansions = {"ENV_" + k: v for k, v in case["env"].items()}
    options.configfile = case["main"]
    try:
        options.process_config(do_usage=False)
    except Exception as e:
        return {"error": str(e)}
    groups = []
    for g in options.process_group_configs:
        procs = [[p.name, logfile(p.stdout_logfile), p.stdout_syslog] for p in g.process_configs]
        groups.append([g.name, procs])
    infos = [i for i in options.parse_infos if i.startswith("Included extra file")]
    warnings = [w for w in options.parse_warnings if w.startswith("No file matches")]
    return {"groups": groups, "infos": infos, "warnings": warnings}


def main():
    req = json.load(sys.stdin)
    run = parse_case if req["mode"] == "parse" else config_case
    json.dump([run(c) for c in req["cases"]], sys.stdout)


main()
