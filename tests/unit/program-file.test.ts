import ini from "ini";
import { describe, expect, it } from "vitest";
import {
  decodeIni,
  MARKER,
  parseEnvironment,
  parseProgramFile,
  renderProgram,
  sameProgram,
  writtenByVexo,
  specFromSection,
  workerArgv,
} from "../../src/core/program-file.js";
import { type WorkerSpecInput, workerSpecSchema } from "../../src/core/spec.js";

// src/core/program-file.ts: spec -> program file text, and file text -> programs and spec.

const base = { name: "app-queue", path: "/var/www/app" };

// One line a case: specs whose rendering must read back to the same spec.
const roundTrip: [string, WorkerSpecInput][] = [
  ["defaults", base],
  [
    "all options",
    {
      ...base,
      connection: "redis",
      queue: "high,default,low",
      procs: 8,
      php: "/usr/bin/php8.2",
      user: "deploy",
      sleep: 1,
      tries: 0,
      maxTime: 0,
      timeout: 120,
      memory: 512,
      backoff: 5,
      maxJobs: 1000,
      stopwaitsecs: 180,
      startsecs: 10,
      logMaxMb: 5,
      logBackups: 3,
      forceMaintenance: true,
      env: { APP_ENV: "production", B: "x y" },
    },
  ],
  ["path with spaces", { ...base, path: "/srv/my app/current" }],
  ["percent in queue and env", { ...base, queue: "a%b,100%", env: { FMT: "%(ENV_HOME)s 50%" } }],
  ["non-ASCII", { ...base, path: "/srv/café", queue: "évènements", env: { GREETING: "grüß dich" } }],
  ["commas, equals and quotes in env", { ...base, env: { LIST: "a,b=c", Q: "it's" } }],
  ["dotted name", { ...base, name: "app.queue_v2" }],
  ["no user", { ...base, user: null }],
  ["empty env value", { ...base, env: { EMPTY: "" } }],
  ["apostrophe in path", { ...base, path: "/srv/bob's app" }],
];

describe("render -> parse round trip", () => {
  it.each(roundTrip)("%s", (_label, input) => {
    const spec = workerSpecSchema.parse(input);
    const text = renderProgram(spec, "/var/log/supervisor");
    const [entry] = parseProgramFile("/x.conf", text);
    expect(entry?.managed).toBe(true);
    expect(entry?.parseError).toBeUndefined();
    expect(entry?.spec).toEqual(spec);
    expect(entry?.numprocs).toBe(spec.procs);
  });

  it("every value sits on its own line, and the file opens with the marker", () => {
    const spec = workerSpecSchema.parse(roundTrip[1]?.[1]);
    const lines = renderProgram(spec, "/var/log/supervisor").trimEnd().split("\n");
    expect(lines[0]).toBe(MARKER);
    expect(lines.filter((l) => l.startsWith("[")).length).toBe(1);
    for (const l of lines.slice(3)) expect(l).toMatch(/^[a-z_]+=/u);
  });

  it("doubles % everywhere supervisord expands, and nowhere else", () => {
    const spec = workerSpecSchema.parse({ ...base, queue: "a%b", env: { P: "5%" } });
    const text = renderProgram(spec, "/logs/100%");
    expect(text).toContain("--queue=a%%b");
    expect(text).toContain('P="5%%"');
    expect(text).toContain("stdout_logfile=/logs/100%%/%(program_name)s_%(process_num)02d.log");
  });

  it("quotes a path with spaces in command= but not in directory=", () => {
    const spec = workerSpecSchema.parse({ ...base, path: "/srv/my app" });
    const text = renderProgram(spec, "/l");
    expect(text).toContain('command=php "/srv/my app/artisan" queue:work');
    expect(text).toContain("directory=/srv/my app\n");
  });

  it("renders the same bytes for the same spec, whatever the env order", () => {
    const a = workerSpecSchema.parse({ ...base, env: { A: "1", B: "2" } });
    const b = workerSpecSchema.parse({ ...base, env: { B: "2", A: "1" } });
    expect(renderProgram(a, "/l")).toBe(renderProgram(b, "/l"));
  });

  it("gives the argv the process will run", () => {
    const spec = workerSpecSchema.parse({ ...base, path: "/srv/my app", queue: "a%b", timeout: 30 });
    expect(workerArgv(spec)).toEqual([
      "php",
      "/srv/my app/artisan",
      "queue:work",
      "database",
      "--queue=a%b",
      "--sleep=3",
      "--tries=3",
      "--max-time=3600",
      "--timeout=30",
    ]);
  });

  it("the ini package reads our files back as rendered (no quote stripping, no cut values)", () => {
    const spec = workerSpecSchema.parse({ ...base, php: "/opt/my php/bin/php", queue: "x", path: "/srv/a b" });
    const text = renderProgram(spec, "/l");
    const sec = (ini.decode(text) as Record<string, Record<string, string>>)["program:app-queue"];
    const command = text
      .split("\n")
      .find((l) => l.startsWith("command="))
      ?.slice("command=".length);
    expect(sec?.command).toBe(command);
  });
});

describe("helpers", () => {
  it("parses environment= as supervisord does", () => {
    expect(parseEnvironment('A="1,2",B="x=y",C=plain, D="50%%"')).toEqual({ A: "1,2", B: "x=y", C: "plain", D: "50%" });
  });

  it("reads environment= back with supervisord's own parser: quotes stripped as dict_of_key_value_pairs does (issue 25)", () => {
    expect(parseEnvironment("A='x y',B=\"p'q\",C=\"'z'\"")).toEqual({ A: "x y", B: "p'q", C: "z" });
    expect(() => parseEnvironment("A=1,B")).toThrow(/Unexpected end of key\/value pairs/u);
  });

  it("keeps dotted section names whole and values as strings", () => {
    const doc = decodeIni("[program:a.b]\nautostart=true\nnumprocs=2\n");
    expect(doc["program:a.b"]).toEqual({ autostart: "true", numprocs: "2" });
    // A dot after the header (in a value) needs no escaping; a dotted header further down does.
    const two = decodeIni("[program:plain]\ndirectory=/srv/a.b\n[program:x.y]  \nnumprocs=3\n");
    expect(Object.keys(two)).toEqual(["program:plain", "program:x.y"]);
    expect(two["program:x.y"]).toEqual({ numprocs: "3" });
  });

  it("reads an unmanaged file without a spec, and a hand-mangled managed one with a reason", () => {
    const [plain] = parseProgramFile("/x.conf", "[program:other]\ncommand=/bin/sleep 10\n");
    expect(plain).toMatchObject({ name: "other", managed: false, spec: null, numprocs: 1 });
    const [mangled] = parseProgramFile("/y.conf", `${MARKER}\n[program:y]\ncommand=/bin/true\n`);
    expect(mangled?.spec).toBeNull();
    expect(mangled?.parseError).toMatch(/queue:work/u);
  });

  it("specFromSection reads numbers back as numbers", () => {
    const s = specFromSection("w", {
      command: "php /a/artisan queue:work redis --queue=q --sleep=1 --tries=2 --max-time=3",
      numprocs: "4",
      stopwaitsecs: "90",
    });
    expect(s).toMatchObject({ connection: "redis", queue: ["q"], sleep: 1, tries: 2, maxTime: 3, procs: 4, stopwaitsecs: 90, user: null });
  });
});

describe("startsecs and log rotation (issue 29)", () => {
  it("are written only when not supervisord's default, so a worker written before them is still the same program", () => {
    const before = renderProgram(workerSpecSchema.parse(base), "/var/log/supervisor");
    expect(before).not.toMatch(/^(startsecs|stdout_logfile_maxbytes|stdout_logfile_backups)=/mu);
    // A file of an older vexo-sv (no such lines) reads back as the defaults: no upgrade restarts a worker.
    expect(parseProgramFile("/x.conf", before)[0]?.spec).toMatchObject({ startsecs: 1, logMaxMb: 50, logBackups: 10 });
    const set = renderProgram(workerSpecSchema.parse({ ...base, startsecs: 10, logMaxMb: 0, logBackups: 0 }), "/var/log/supervisor");
    expect(set).toMatch(/^startsecs=10\nstdout_logfile_maxbytes=0MB\nstdout_logfile_backups=0$/mu);
    expect(sameProgram(before, set)).toBe(false);
  });

  it("are validated like the rest", () => {
    for (const bad of [{ startsecs: 0 }, { startsecs: 601 }, { logMaxMb: -1 }, { logBackups: 101 }, { startsecs: "3s" }]) {
      expect(workerSpecSchema.safeParse({ ...base, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("sameProgram: what supervisord reads, not the text (review after issue 24)", () => {
  const spec = workerSpecSchema.parse({ name: "q1", path: "/srv/app", user: null });
  const text = renderProgram(spec, "/var/log/supervisor");
  it.each([
    ["the same text", text, true],
    ["only the header names another owner", renderProgram(spec, "/var/log/supervisor", "apply"), true],
    ["a comment added", `${text}; a note\n`, true],
    [
      "a section behind a comment and a bare CR (supervisord reads the CR as a line end)",
      `${text}; note\r[program:hid]\rcommand=/bin/id\r\n`,
      false,
    ],
    ["a key added", `${text}startsecs=5\n`, false],
    ["a value changed", text.replace("numprocs=1", "numprocs=2"), false],
  ] as const)("%s: %s", (_what, other, same) => {
    expect(sameProgram(text, other)).toBe(same);
  });
});

describe("writtenByVexo: the marker alone proves nothing (second review after issue 24)", () => {
  const spec = workerSpecSchema.parse({ name: "q1", path: "/srv/app", user: "www-data", env: { K: "v 1" }, procs: 2 });
  const text = renderProgram(spec, "/var/log/supervisor");
  it.each([
    ["as worker add writes it", text, true],
    ["as apply writes it", renderProgram(spec, "/var/log/supervisor", "apply"), true],
    ["a log directory with a % in it", renderProgram(spec, "/var/log/50%"), true],
    ["a forged program under the marker", `${MARKER}\n[program:zz]\ncommand=/bin/sh -c "id"\n`, false],
    ["a key added", `${text}startsecs=0\n`, false],
    ["a second program", `${text}[program:other]\ncommand=/bin/true\n`, false],
    ["no marker", text.replace(`${MARKER}\n`, ""), false],
  ] as const)("%s: %s", (_what, file, ok) => {
    expect(writtenByVexo("/etc/supervisor/conf.d/q1.conf", file)).toBe(ok);
  });
});
