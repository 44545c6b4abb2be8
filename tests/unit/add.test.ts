import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type AddInput, applyAdd, planAdd, previewAdd } from "../../src/core/add.js";
import { removalRecordPath } from "../../src/core/records.js";
import { renderProgram } from "../../src/core/program-file.js";
import { type WorkerSpecInput, workerSpecSchema } from "../../src/core/spec.js";
import type { SupervisordClient } from "../../src/core/supervisorctl.js";
import { fakeSupervisor, ScriptedIO, ScriptedMachine, refusal } from "../helpers/scripted.js";

// planAdd against a scripted machine (users, supervisord's uid and PATH, which files are there):
// every refusal, each before anything is written; and applyAdd leaving its plan as it was.

const apps: string[] = [];
afterAll(() => {
  for (const d of apps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A root-owned application directory with an artisan file (the trust checks read the real tree). */
function app(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vx-app-"));
  apps.push(dir);
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, "artisan"), "<?php\n", { mode: 0o644 });
  return dir;
}

const PHP = "/opt/php/bin/php";

/** A machine with user alice (uid 1000), supervisord as root, php at PHP on its PATH, and the app's artisan. */
function machineFor(appDir: string): ScriptedMachine {
  const m = new ScriptedMachine();
  m.users.set("alice", 1000);
  m.pathVar = "/opt/php/bin:/usr/bin";
  m.executables.add(PHP);
  m.files.add(path.join(appDir, "artisan"));
  return m;
}

interface Setup {
  sv: SupervisordClient;
  io: ScriptedIO;
  machine: ScriptedMachine;
  appDir: string;
  input: (spec?: Partial<WorkerSpecInput>, more?: Partial<AddInput>) => AddInput;
}

function setup(workers: WorkerSpecInput[] = [], answer: (args: string[]) => string = () => ""): Setup {
  const appDir = app();
  const machine = machineFor(appDir);
  const io = new ScriptedIO(answer);
  const sv = fakeSupervisor(io, workers, machine);
  fs.chmodSync(sv.layout.logDir, 0o750);
  const input = (spec: Partial<WorkerSpecInput> = {}, more: Partial<AddInput> = {}): AddInput => ({
    spec: workerSpecSchema.parse({ name: "shop", path: appDir, php: PHP, user: "alice", ...spec }),
    replace: false,
    wait: false,
    ...more,
  });
  return { sv, io, machine, appDir, input };
}

const programFiles = (sv: SupervisordClient) => fs.readdirSync(sv.layout.confDir as string).sort();

describe("planAdd: what the machine says", () => {
  it("plans a new worker from the scripted machine alone: its user, php on supervisord's PATH, the artisan file", async () => {
    const s = setup();
    const p = await planAdd(s.sv, s.input({ php: "php" }));
    expect(p.result.action).toBe("created");
    expect(p.result.plan.writes.map((w) => w.path)).toEqual([path.join(s.sv.layout.confDir as string, "shop.conf")]);
    expect(p.result.plan.supervisorctl).toEqual([["supervisorctl", "-c", s.sv.layout.config, "update", "shop"]]);
    expect(s.machine.lookups).toEqual([
      "supervisord uid",
      "supervisord PATH",
      `file ${path.join(s.appDir, "artisan")}`,
      "executable /opt/php/bin/php",
      "user alice",
    ]);
    expect(s.io.calls).toEqual([]);
    expect(programFiles(s.sv)).toEqual([]);
  });

  it("refuses an application directory without artisan (path)", async () => {
    const s = setup();
    s.machine.files.clear();
    s.machine.dirs.set(s.appDir, { mode: 0o755, uid: 0, gid: 0 });
    const e = await refusal(planAdd(s.sv, s.input()));
    expect([e.code, e.details?.field]).toEqual(["invalid_input", "path"]);
    expect(e.message).toContain("holds no artisan file");
  });

  it("says a path that does not exist, or is no directory, as such, not as a missing artisan (issue 29)", async () => {
    const s = setup();
    s.machine.files.clear();
    const gone = await refusal(planAdd(s.sv, s.input()));
    expect([gone.details?.field, gone.message]).toEqual(["path", `${s.appDir} does not exist`]);
    s.machine.files.add(s.appDir);
    const file = await refusal(planAdd(s.sv, s.input()));
    expect(file.message).toMatch(/is not a directory/u);
  });

  it("refuses an application the worker's user cannot enter, naming the user and the directory (issue 29)", async () => {
    const s = setup();
    s.machine.users.set("deploy", 1001);
    const top = `/${s.appDir.split("/").filter(Boolean)[0]}`;
    s.machine.dirs.set(top, { mode: 0o700, uid: 0, gid: 0 });
    const e = await refusal(planAdd(s.sv, s.input({ user: "deploy" })));
    expect([e.code, e.details?.field]).toEqual(["invalid_input", "path"]);
    expect(e.message).toBe(
      `user deploy (uid 1001) cannot enter ${top} (mode 0700, owner uid 0): the worker could not start in ${s.appDir}`,
    );
    // Its own directory, or one its group may enter (membership not looked up), is no reason to refuse.
    s.machine.dirs.set(top, { mode: 0o700, uid: 1001, gid: 0 });
    expect((await planAdd(s.sv, s.input({ user: "deploy" }))).result.action).toBe("created");
    s.machine.dirs.set(top, { mode: 0o750, uid: 0, gid: 1001 });
    expect((await planAdd(s.sv, s.input({ user: "deploy" }))).result.action).toBe("created");
  });

  it("refuses an absolute php that is not executable (php)", async () => {
    const s = setup();
    s.machine.executables.clear();
    const e = await refusal(planAdd(s.sv, s.input()));
    expect([e.code, e.details?.field]).toEqual(["invalid_input", "php"]);
    expect(e.message).toBe(`${PHP} is not an executable file`);
  });

  it("refuses a php command that is not on supervisord's PATH (php), naming that PATH", async () => {
    const s = setup();
    s.machine.pathVar = "/usr/bin:/bin";
    const e = await refusal(planAdd(s.sv, s.input({ php: "php" })));
    expect([e.code, e.details?.field]).toEqual(["invalid_input", "php"]);
    expect(e.message).toContain("is not on supervisord's PATH (/usr/bin:/bin)");
  });

  it("refuses a user the machine does not have (user)", async () => {
    const s = setup();
    const e = await refusal(planAdd(s.sv, s.input({ user: "bob" })));
    expect([e.code, e.details?.field]).toEqual(["invalid_input", "user"]);
    expect(e.message).toBe("no user named bob on this machine");
  });

  it("refuses a worker that would run as root without allowRoot: user root, or no user under a root supervisord", async () => {
    const s = setup();
    for (const user of ["root", null]) {
      const e = await refusal(planAdd(s.sv, s.input({ user })));
      expect([e.code, e.details?.field]).toEqual(["invalid_input", "allowRoot"]);
    }
    expect((await planAdd(s.sv, s.input({ user: "root" }, { allowRoot: true }))).result.action).toBe("created");
  });

  it("refuses a root worker whose application another user can change (path)", async () => {
    const s = setup();
    fs.chmodSync(s.appDir, 0o777);
    const e = await refusal(planAdd(s.sv, s.input({ user: "root" }, { allowRoot: true })));
    expect([e.code, e.details?.field]).toEqual(["invalid_input", "path"]);
    expect(e.message).toContain("a root worker would run code that another user can change");
  });

  it("under a supervisord that is not root, leaves user= out and warns (no user lookup)", async () => {
    const s = setup();
    s.machine.svUid = 1000;
    const p = await planAdd(s.sv, s.input({ user: "bob" }));
    expect(p.result.worker.user).toBeNull();
    expect(p.result.warnings[0]).toContain("supervisord runs as uid 1000, not root, so user=bob is left out");
    expect(s.machine.lookups.some((l) => l.startsWith("user "))).toBe(false);
  });
});

describe("planAdd: what is already there", () => {
  const shop = (appDir: string, more: Partial<WorkerSpecInput> = {}): WorkerSpecInput => ({
    name: "shop",
    path: appDir,
    php: PHP,
    user: "alice",
    ...more,
  });

  it("refuses a name another file defines (name_taken)", async () => {
    const s = setup();
    fs.writeFileSync(path.join(s.sv.layout.confDir as string, "other.conf"), "[program:shop]\ncommand=/bin/true\n");
    const e = await refusal(planAdd(s.sv, s.input()));
    expect(e.code).toBe("name_taken");
    expect(e.details?.files).toEqual([path.join(s.sv.layout.confDir as string, "other.conf")]);
  });

  it("never writes over a program file vexo-sv did not write (not_managed)", async () => {
    const s = setup();
    fs.writeFileSync(path.join(s.sv.layout.confDir as string, "shop.conf"), "[program:shop]\ncommand=/bin/true\n");
    expect((await refusal(planAdd(s.sv, s.input()))).code).toBe("not_managed");
    expect((await refusal(planAdd(s.sv, s.input({}, { replace: true })))).code).toBe("not_managed");
  });

  it("refuses a different spec without replace (exists); with replace, stops the worker first, then updates", async () => {
    const s = setup();
    const spec = workerSpecSchema.parse(shop(s.appDir, { procs: 2 }));
    fs.writeFileSync(path.join(s.sv.layout.confDir as string, "shop.conf"), renderProgram(spec, s.sv.layout.logDir));
    const e = await refusal(planAdd(s.sv, s.input()));
    expect([e.code, e.details?.names]).toEqual(["exists", ["shop"]]);
    // Field by field, as apply's plan says it (issue 29).
    expect(e.message).toMatch(/exists with a different spec: procs: 2 -> 1$/u);
    expect(e.details?.changes).toEqual([{ field: "procs", from: 2, to: 1 }]);
    const p = await planAdd(s.sv, s.input({}, { replace: true }));
    expect(p.result.action).toBe("replaced");
    expect(p.result.plan.supervisorctl.map((c) => c.slice(3))).toEqual([
      ["stop", "shop:*"],
      ["update", "shop"],
    ]);
  });

  it("plans nothing to write for the same spec (unchanged), still its update", async () => {
    const s = setup();
    const spec = workerSpecSchema.parse(shop(s.appDir));
    fs.writeFileSync(path.join(s.sv.layout.confDir as string, "shop.conf"), renderProgram(spec, s.sv.layout.logDir));
    const p = await planAdd(s.sv, s.input());
    expect([p.result.action, p.result.changed, p.result.plan.writes]).toEqual(["unchanged", false, []]);
  });
});

describe("plans are values", () => {
  it("applyAdd returns a new result and leaves the plan as planned, even when the action turns out otherwise", async () => {
    const s = setup([], (args) => (args[0] === "update" ? "shop: added process group" : ""));
    const spec = workerSpecSchema.parse({ name: "shop", path: s.appDir, php: PHP, user: "alice" });
    fs.writeFileSync(path.join(s.sv.layout.confDir as string, "shop.conf"), renderProgram(spec, s.sv.layout.logDir));
    const p = await planAdd(s.sv, s.input());
    expect(p.result.action).toBe("unchanged");
    // A removal a killed run left half done: the add undoes it, and the worker counts as created.
    fs.mkdirSync(path.dirname(removalRecordPath(s.sv.layout, "shop")), { recursive: true, mode: 0o700 });
    fs.writeFileSync(removalRecordPath(s.sv.layout, "shop"), "{}\n", { mode: 0o600 });
    const planned = structuredClone(p.result);
    const r = await applyAdd(s.sv, p);
    expect([r.action, r.changed]).toEqual(["created", true]);
    expect(r).not.toBe(p.result);
    expect(p.result).toEqual(planned);
    expect(s.io.verbs()).toEqual(["update", "start"]);
  });

  it("previewAdd returns a new result and leaves the plan as planned", async () => {
    const s = setup([], (args) => (args[0] === "status" ? "shop:shop_00                     STOPPED   Not started" : ""));
    const spec = workerSpecSchema.parse({ name: "shop", path: s.appDir, php: PHP, user: "alice" });
    fs.writeFileSync(path.join(s.sv.layout.confDir as string, "shop.conf"), renderProgram(spec, s.sv.layout.logDir));
    const p = await planAdd(s.sv, s.input());
    const planned = structuredClone(p.result);
    const r = await previewAdd(s.sv, p);
    expect(r.action).toBe("started");
    expect(r.plan.supervisorctl.map((c) => c.slice(3))).toEqual([
      ["update", "shop"],
      ["start", "shop:*"],
    ]);
    expect(p.result).toEqual(planned);
  });
});
