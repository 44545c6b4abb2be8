import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyConvergence, fieldChanges, planApply } from "../../src/core/apply.js";
import { removalRecordPath } from "../../src/core/records.js";
import { workerSpecSchema } from "../../src/core/spec.js";
import { fakeSupervisor, ScriptedIO, ScriptedMachine } from "../helpers/scripted.js";

const spec = (extra: Record<string, unknown> = {}) => workerSpecSchema.parse({ name: "w", path: "/srv/app", ...extra });

describe("fieldChanges", () => {
  it("is empty for the same spec", () => {
    expect(fieldChanges(spec(), spec())).toEqual([]);
  });
  it("names each differing field with old and new, an absent optional as null", () => {
    expect(fieldChanges(spec({ procs: 2 }), spec({ procs: 3, memory: 256, queue: "high,default" }))).toEqual([
      { field: "queue", from: ["default"], to: ["high", "default"] },
      { field: "procs", from: 2, to: 3 },
      { field: "memory", from: null, to: 256 },
    ]);
  });
  it("names changed env keys and never their values", () => {
    const changes = fieldChanges(spec({ env: { A: "1", B: "x", C: "same" } }), spec({ env: { B: "y", C: "same", D: "new" } }));
    expect(changes).toEqual([
      { field: "env.A", from: "(hidden)", to: null },
      { field: "env.B", from: "(hidden)", to: "(hidden)" },
      { field: "env.D", from: null, to: "(hidden)" },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/"(1|x|y|new)"/u);
  });
});

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
