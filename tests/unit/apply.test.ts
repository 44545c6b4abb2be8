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
