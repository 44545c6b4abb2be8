import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { addArgs, ALLOW_ROOT, cli, cmdline, ME, SAMPLE_APP, snapshot, useSupervisor, waitRunning } from "../helpers/cli.js";
import { stateLines } from "../helpers/rpc.js";

const sv = useSupervisor();

/** supervisord's state as names, states and pids (uptimes move; those do not unless something changed). */
const supervisordState = () => stateLines(sv.dir);

const long = "x".repeat(10_000);
const add = (...extra: string[]) => [...addArgs("hostile"), ...extra];
const addAs = (name: string) => ["worker", "add", "--name", name, "--path", SAMPLE_APP, "--user", ME, ...ALLOW_ROOT];

// [label, argv, the flag the message must name]. Each must exit 2 and change nothing.
const rejected: [string, string[], string][] = [
  // --name
  ["name: newline", addAs("a\nb"), "--name"],
  ["name: CR", addAs("a\rb"), "--name"],
  ["name: %", addAs("a%b"), "--name"],
  ["name: ' ;'", addAs("a ;b"), "--name"],
  ["name: ' #'", addAs("a #b"), "--name"],
  ["name: quote", addAs('a"b'), "--name"],
  ["name: backslash", addAs("a\\b"), "--name"],
  ["name: section", addAs("[program:x]"), "--name"],
  ["name: ../", addAs("../x"), "--name"],
  ["name: /", addAs("/etc/x"), "--name"],
  ["name: empty", addAs(""), "--name"],
  ["name: 10,000 chars", addAs(long), "--name"],
  ["name: non-ASCII", addAs("ünï"), "--name"],
  ["name: colon", addAs("a:b"), "--name"],
  ["name: leading dash", addAs("-x"), "--name"],
  ["name: space", addAs("a b"), "--name"],
  // --path
  ["path: newline + section", ["worker", "add", "--name", "h", "--path", "/tmp/x\n[program:evil]"], "--path"],
  ["path: ;", ["worker", "add", "--name", "h", "--path", "/srv/a;b"], "--path"],
  ["path: #", ["worker", "add", "--name", "h", "--path", "/srv/a#b"], "--path"],
  ["path: relative", ["worker", "add", "--name", "h", "--path", "srv/app"], "--path"],
  ["path: empty", ["worker", "add", "--name", "h", "--path", ""], "--path"],
  ["path: 10,000 chars", ["worker", "add", "--name", "h", "--path", `/${long}`], "--path"],
  ["path: quote", ["worker", "add", "--name", "h", "--path", '/srv/"q"'], "--path"],
  ["path: backslash", ["worker", "add", "--name", "h", "--path", "/srv/a\\b"], "--path"],
  ["path: no artisan", ["worker", "add", "--name", "h", "--path", "/tmp"], "--path"],
  ["path: CR", ["worker", "add", "--name", "h", "--path", "/tmp/a\rb"], "--path"],
  // --connection
  ["connection: space", add("--connection", "a b"), "--connection"],
  ["connection: newline", add("--connection", "a\nb"), "--connection"],
  ["connection: empty", add("--connection", ""), "--connection"],
  ["connection: ;", add("--connection", "x;y"), "--connection"],
  // --queue
  ["queue: newline", add("--queue", "a\nb"), "--queue"],
  ["queue: ' ;'", add("--queue", "a ;b"), "--queue"],
  ["queue: #", add("--queue", "a#b"), "--queue"],
  ["queue: empty name", add("--queue", "a,,b"), "--queue"],
  ["queue: empty", add("--queue", ""), "--queue"],
  ["queue: 10,000 chars", add("--queue", long), "--queue"],
  ["queue: quote", add("--queue", 'a"b'), "--queue"],
  ["queue: tab", add("--queue", "a\tb"), "--queue"],
  // numbers
  ["procs: 0", add("--procs", "0"), "--procs"],
  ["procs: 101", add("--procs", "101"), "--procs"],
  ["procs: word", add("--procs", "abc"), "--procs"],
  ["procs: exponent", add("--procs", "1e2"), "--procs"],
  ["procs: fraction", add("--procs", "1.5"), "--procs"],
  ["procs: empty", add("--procs", ""), "--procs"],
  ["procs: spaced", add("--procs", " 3"), "--procs"],
  ["sleep: negative", add("--sleep", "-1"), "--sleep"],
  ["tries: too many", add("--tries", "1001"), "--tries"],
  ["max-time: word", add("--max-time", "abc"), "--max-time"],
  ["timeout: huge", add("--timeout", "99999999"), "--timeout"],
  ["memory: 0", add("--memory", "0"), "--memory"],
  ["backoff: word", add("--backoff", "x"), "--backoff"],
  ["max-jobs: negative", add("--max-jobs", "-5"), "--max-jobs"],
  ["stopwaitsecs: 0", add("--stopwaitsecs", "0"), "--stopwaitsecs"],
  ["stopwaitsecs: not above timeout", add("--timeout", "300", "--stopwaitsecs", "300"), "--stopwaitsecs"],
  // --php, --user
  ["php: newline", add("--php", "php\nx"), "--php"],
  ["php: relative", add("--php", "bin/php"), "--php"],
  ["php: missing file", add("--php", "/nonexistent/php"), "--php"],
  ["php: ;", add("--php", "php;rm"), "--php"],
  ["php: empty", add("--php", ""), "--php"],
  ["user: unknown", add("--user", "no-such-user-here"), "--user"],
  ["user: newline", add("--user", "root\n"), "--user"],
  ["user: space", add("--user", "a b"), "--user"],
  ["user: too long", add("--user", "x".repeat(40)), "--user"],
  // --env
  ["env: no =", add("--env", "NOEQUALS"), "--env"],
  ["env: key digit", add("--env", "1KEY=v"), "--env"],
  ["env: key dash", add("--env", "K-Y=1"), "--env"],
  ["env: empty key", add("--env", "=v"), "--env"],
  ["env: newline", add("--env", "K=a\nb"), "--env"],
  ["env: quote", add("--env", 'K=a"b'), "--env"],
  ["env: ;", add("--env", "K=a;b"), "--env"],
  ["env: backslash", add("--env", "K=a\\b"), "--env"],
  ["env: twice", add("--env", "K=1", "--env", "K=2"), "--env"],
  // unknown flags, missing values
  ["add: unknown flag", add("--bogus"), "--bogus"],
  ["add: missing value", add("--procs"), "--procs"],
  ["add: --force is not ours", add("--force"), "--force"],
  // other commands
  ["rm: newline", ["worker", "rm", "a\nb"], "NAME"],
  ["rm: ../", ["worker", "rm", "../x"], "NAME"],
  ["rm: empty", ["worker", "rm", ""], "NAME"],
  ["rm: unknown flag", ["worker", "rm", "x", "--bogus"], "--bogus"],
  ["start: slash", ["worker", "start", "a/b"], "NAME"],
  ["stop: newline", ["worker", "stop", "a\nb"], "NAME"],
  ["restart: unknown flag", ["worker", "restart", "x", "--now"], "--now"],
  ["restart: graceful and rolling", ["worker", "restart", "x", "--graceful", "--rolling"], "--graceful"],
  ["pause: %", ["worker", "pause", "a%b"], "NAME"],
  ["resume: ../", ["worker", "resume", "../etc"], "NAME"],
  ["logs: -n 0", ["logs", "x", "-n", "0"], "--lines"],
  ["logs: -n word", ["logs", "x", "-n", "abc"], "--lines"],
  ["logs: --process word", ["logs", "x", "--process", "x"], "--process"],
  ["logs: name ../", ["logs", "../../etc/passwd"], "NAME"],
  ["status: unknown flag", ["status", "--all"], "--all"],
  ["install: prefix newline", ["install", "--prefix", "/tmp/a\nb"], "--prefix"],
  ["install: prefix empty", ["install", "--prefix", ""], "--prefix"],
  ["global: --log-dir newline", [...add(), "--log-dir", "/tmp/a\n[program:x]"], "--log-dir"],
  ["global: --log-dir ;", [...add(), "--log-dir", "/tmp/a ;b"], "--log-dir"],
  ["global: unknown", ["--colour", "worker", "ls"], "--colour"],
  ["global: --config newline", ["--config", "/etc/x.conf\n[include]", "worker", "ls"], "--config"],
  ["global: --config #", ["--config", "/etc/x #y", "status"], "--config"],
  ["global: --conf-dir ;", [...add(), "--conf-dir", "/tmp/x ;y"], "--conf-dir"],
  ["completion: unknown shell", ["completion", "tcsh"], "tcsh"],
  // issue 13: words supervisorctl reads specially, options as positionals, values read back otherwise
  ["name: all (add)", addAs("all"), "--name"],
  ["name: all (rm)", ["worker", "rm", "all"], "NAME"],
  ["name: all (stop)", ["worker", "stop", "all"], "NAMES"],
  ["connection: an option", add("--connection=--force"), "--connection"],
  ["php: an option", add("--php=-v"), "--php"],
  ["env: quoted value", add("--env", "A='quoted'"), "--env"],
  ["env: quote at the end", add("--env", "B=x'"), "--env"],
  ["path: ends in U+0085", ["worker", "add", "--name", "h", "--path", `${SAMPLE_APP}\u0085`], "--path"],
  ["path: U+2028 inside", ["worker", "add", "--name", "h", "--path", "/srv/a\u2028b"], "--path"],
  ["queue: U+2029 inside", add("--queue", "a\u2029b"), "--queue"],
  ["php: not on supervisord's PATH (caught before anything is written)", add("--php", "php9-nowhere"), "--php"],
];

// Live workers beside every case: their names, states and pids must not change.
beforeAll(async () => {
  for (const [name, procs] of [
    ["live-a", "2"],
    ["live-b", "1"],
  ] as const) {
    expect((await cli([...addArgs(name, ["--procs", procs]), "--json"], sv.env)).code).toBe(0);
    await waitRunning(sv, name, Number(procs));
  }
}, 120_000);

describe(`hostile input: ${rejected.length} values refused with exit 2, nothing changed`, () => {
  it.for(rejected)("%s", async ([_label, argv, flag], { expect }) => {
    const before = snapshot(sv.confDir);
    const state = await supervisordState();
    // The comparison is of something: three live processes with their pids.
    expect(state.match(/^live-[ab]:live-[ab]_0\d +RUNNING +pid \d+$/gmu)).toHaveLength(3);
    const r = await cli([...argv, "--json"], sv.env);
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.ok).toBe(false);
    expect(r.json.error.message).toContain(flag);
    expect(snapshot(sv.confDir)).toEqual(before);
    expect(await supervisordState()).toBe(state);
  });
});

describe("legitimate unusual values work and reach the process byte for byte", () => {
  it.each([
    ["path with spaces, % and an apostrophe", "app dir 100% bob's", ["--queue", "default"], "--queue=default"],
    ["queue with %", "plain", ["--queue", "a%b,50%"], "--queue=a%b,50%"],
    ["non-ASCII queue", "plain2", ["--queue", "évènements,日本"], "--queue=évènements,日本"],
    ["literal %(ENV_HOME)s", "plain3", ["--queue", "%(ENV_HOME)s"], "--queue=%(ENV_HOME)s"],
    ["dotted connection", "plain4", ["--connection", "redis.cache", "--queue", "q"], "--queue=q"],
  ])("%s", async (_label, dirName, extra, queueArg) => {
    const app = path.join(sv.dir, dirName);
    fs.mkdirSync(app, { recursive: true });
    fs.copyFileSync(path.join(SAMPLE_APP, "artisan"), path.join(app, "artisan"));
    const name = `ok-${dirName.replace(/[^a-z0-9]/gu, "")}`;
    const r = await cli(
      ["worker", "add", "--name", name, "--path", app, "--user", ME, ...ALLOW_ROOT, "--env", "V=50% ü'x", ...extra, "--json"],
      sv.env,
    );
    expect(r.code, r.stdout).toBe(0);
    const [pid] = await waitRunning(sv, name, 1);
    const argv = cmdline(pid as number);
    expect(argv[1]).toBe(path.join(app, "artisan"));
    expect(argv).toContain(queueArg);
    // The connection is queue:work's first argument, as given (a dotted one included).
    const connection = extra.includes("--connection") ? extra[extra.indexOf("--connection") + 1] : "database";
    expect(argv.slice(2, 4)).toEqual(["queue:work", connection]);
    expect(fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")).toContain("V=50% ü'x");
    expect((await cli(["worker", "rm", name, "--json"], sv.env)).code).toBe(0);
  });
});
