import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyConvergence, planApply } from "../../src/core/apply.js";
import { removalRecordPath } from "../../src/core/records.js";
import { workerSpecSchema } from "../../src/core/spec.js";
import { fakeSupervisor, ScriptedIO, ScriptedMachine } from "../helpers/scripted.js";

describe("plans are values (apply)", () => {
  it("applyConvergence returns a new result and leaves the plan as planned, even when an action turns out otherwise", async () => {
    const appDir = fs.mkdtempSync(path.join(os.tmpdir(), "vx-app-"));
    try {
      fs.chmodSync(appDir, 0o755);
      const machine = new ScriptedMachine();
      machine.users.set("alice", 1000);
      machine.executables.add("/opt/php/bin/php");
      machine.files.add(path.join(appDir, "artisan"));
      const io = new ScriptedIO((args) => (args[0] === "update" ? "shop: added process group" : ""));
      const shop = { name: "shop", path: appDir, php: "/opt/php/bin/php", user: "alice" };
      const sv = fakeSupervisor(io, [shop], machine);
      fs.chmodSync(sv.layout.logDir, 0o750);
      const input = { specs: [workerSpecSchema.parse(shop)], prune: false, prunePath: null, wait: false, allowRoot: false };
      const p = await planApply(sv, input);
      expect(p.result.workers.map((w) => w.action)).toEqual(["unchanged"]);
      // A removal a killed run left half done: apply undoes it, and the worker counts as created.
      fs.mkdirSync(path.dirname(removalRecordPath(sv.layout, "shop")), { recursive: true, mode: 0o700 });
      fs.writeFileSync(removalRecordPath(sv.layout, "shop"), "{}\n", { mode: 0o600 });
      const planned = structuredClone(p.result);
      const r = await applyConvergence(sv, p);
      expect([r.changed, r.workers.map((w) => w.action)]).toEqual([true, ["created"]]);
      expect(r).not.toBe(p.result);
      expect(p.result).toEqual(planned);
      expect(io.verbs()).toEqual(["reread", "update", "start"]);
    } finally {
      fs.rmSync(appDir, { recursive: true, force: true });
    }
  });
});

describe("apply as one batch (issue 28)", () => {
  /** A machine and an app where workers may run as alice; `update` answers each group as `answer` says. */
  function setup(existing: string[], answer: (g: string) => string) {
    const appDir = fs.mkdtempSync(path.join(os.tmpdir(), "vx-app-"));
    fs.chmodSync(appDir, 0o755);
    const machine = new ScriptedMachine();
    machine.users.set("alice", 1000);
    machine.executables.add("/opt/php/bin/php");
    machine.files.add(path.join(appDir, "artisan"));
    const spec = (name: string, sleep = 3) => ({ name, path: appDir, php: "/opt/php/bin/php", user: "alice", sleep });
    const io = new ScriptedIO((args) => {
      const groups = args.slice(1).map((g) => g.replace(/:\*$/u, ""));
      if (args[0] === "update") return groups.map(answer).join("\n");
      if (args[0] === "stop") return groups.map((g) => `${g}:${g}_00: stopped`).join("\n");
      return "";
    });
    const sv = fakeSupervisor(
      io,
      existing.map((n) => spec(n)),
      machine,
    );
    fs.chmodSync(sv.layout.logDir, 0o750);
    const input = (names: string[], sleep: number) => ({
      specs: names.map((n) => workerSpecSchema.parse(spec(n, sleep))),
      prune: false,
      prunePath: null,
      wait: false,
      allowRoot: false,
    });
    return { io, sv, input, done: () => fs.rmSync(appDir, { recursive: true, force: true }) };
  }
  const names = (n: number) => Array.from({ length: n }, (_, i) => `w${String(i).padStart(2, "0")}`);

  it("12 new and 12 changed: the 12 stops in 12 lanes, then ONE update naming all 24; --dry-run plans those calls", async () => {
    const fresh = names(24).slice(12);
    const changed = names(12);
    const { io, sv, input, done } = setup(changed, (g) => `${g}: ${fresh.includes(g) ? "added" : "updated"} process group`);
    try {
      const p = await planApply(sv, input([...changed, ...fresh], 7));
      expect(p.result.plan.supervisorctl.map((c) => c[3])).toEqual([...Array(12).fill("stop"), "update"]);
      expect(p.result.plan.supervisorctl.at(-1)?.slice(4)).toEqual([...changed, ...fresh]);
      const r = await applyConvergence(sv, p);
      expect(r.workers.map((w) => w.action)).toEqual([...changed.map(() => "replaced"), ...fresh.map(() => "created")]);
      expect(io.calls.filter((c) => c[0] === "update")).toEqual([["update", ...changed, ...fresh]]);
      expect(io.calls.filter((c) => c[0] === "stop")).toHaveLength(12);
    } finally {
      done();
    }
  });

  it("a group supervisord refuses is put back as it was; the others are done, and the error says which", async () => {
    const { sv, input, done } = setup(["old"], (g) => (g === "nope" ? "ERROR: no such group: nope" : `${g}: added process group`));
    try {
      const before = fs.readFileSync(path.join(sv.layout.confDir as string, "old.conf"), "utf8");
      const p = await planApply(sv, input(["old", "fine", "nope"], 9));
      const e = await applyConvergence(sv, p).then(
        () => null,
        (x: unknown) => x as { code: string; message: string; details: Record<string, unknown> },
      );
      expect(e?.code).toBe("supervisord_rejected");
      expect(e?.message).toMatch(/rejected the change of nope \(ERROR: no such group: nope\)/u);
      expect(e?.details.done).toEqual([
        { name: "old", action: "replaced" },
        { name: "fine", action: "created" },
      ]);
      expect(e?.details.notDone).toEqual(["nope"]);
      expect(fs.existsSync(path.join(sv.layout.confDir as string, "nope.conf"))).toBe(false);
      expect(fs.readFileSync(path.join(sv.layout.confDir as string, "old.conf"), "utf8")).not.toBe(before);
    } finally {
      done();
    }
  });
});
