import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planRemove, planRemoveAll } from "../../src/core/remove.js";
import { applyRemoveAll } from "../../src/core/remove-batch.js";
import type { SupervisordClient } from "../../src/core/supervisorctl.js";
import { fakeSupervisor, running, ScriptedIO, ScriptedMachine, refusal } from "../helpers/scripted.js";

// planRemove and planRemoveAll on a scripted supervisord: every refusal, each before anything is
// stopped or removed; and applyRemoveAll leaving its plan as it was.

const w = (name: string) => ({ name, path: "/srv/app", php: "/usr/bin/php" });
const input = { force: false, missingOk: false };
const file = (sv: SupervisordClient, name: string) => path.join(sv.layout.confDir as string, `${name}.conf`);

/** A supervisord that has loaded `loaded` (status answers for them) and says `updated` to update. */
function setup(workers: string[], loaded: string[] = workers) {
  const io = new ScriptedIO((args) => {
    if (args[0] === "status")
      return args
        .slice(1)
        .map((g) => g.replace(/:\*$/u, ""))
        .filter((g) => loaded.includes(g))
        .map((g, i) => running(`${g}:${g}_00`, 100 + i))
        .join("\n");
    if (args[0] === "stop") return `${String(args[1]).replace(/:\*$/u, "")}:x_00: stopped`;
    if (args[0] === "update") return `${args[1]}: stopped\n${args[1]}: removed process group`;
    return "";
  });
  const sv = fakeSupervisor(io, workers.map(w), new ScriptedMachine());
  return { io, sv };
}

describe("planRemove", () => {
  it("plans the stop, the delete and the update of a managed worker, and does none of them", async () => {
    const { io, sv } = setup(["shop"]);
    const p = await planRemove(sv, { ...input, name: "shop" });
    expect(p.result.changed).toBe(true);
    expect(p.result.plan.removes).toEqual([file(sv, "shop")]);
    expect(p.result.plan.supervisorctl.map((c) => c.slice(3))).toEqual([
      ["stop", "shop:*"],
      ["update", "shop"],
    ]);
    expect(io.calls).toEqual([]);
    expect(fs.existsSync(file(sv, "shop"))).toBe(true);
  });

  it("refuses a worker that is neither a file nor loaded (not_found); with missingOk, nothing to do", async () => {
    const { sv } = setup([]);
    const e = await refusal(planRemove(sv, { ...input, name: "gone" }));
    expect([e.code, e.details?.names]).toEqual(["not_found", ["gone"]]);
    const p = await planRemove(sv, { ...input, missingOk: true, name: "gone" });
    expect([p.result.changed, p.result.plan.removes, p.result.plan.supervisorctl]).toEqual([false, [], []]);
  });

  it("finishes a removal whose file is gone but whose group supervisord still runs: only the update", async () => {
    const { sv } = setup([], ["half"]);
    const p = await planRemove(sv, { ...input, name: "half" });
    expect(p.result.changed).toBe(true);
    expect(p.result.plan.removes).toEqual([]);
    expect(p.result.plan.supervisorctl.map((c) => c.slice(3))).toEqual([["update", "half"]]);
  });

  it("refuses a program file vexo-sv did not write (not_managed), unless forced", async () => {
    const { sv } = setup([]);
    fs.writeFileSync(file(sv, "hand"), "[program:hand]\ncommand=/bin/true\n");
    expect((await refusal(planRemove(sv, { ...input, name: "hand" }))).code).toBe("not_managed");
    expect((await planRemove(sv, { ...input, force: true, name: "hand" })).result.changed).toBe(true);
  });

  it("refuses a name another file defines (name_taken), even forced", async () => {
    const { sv } = setup(["shop"]);
    fs.writeFileSync(file(sv, "other"), "[program:shop]\ncommand=/bin/true\n");
    const e = await refusal(planRemove(sv, { ...input, force: true, name: "shop" }));
    expect([e.code, e.details?.files]).toEqual(["name_taken", [file(sv, "other")]]);
  });
});

describe("planRemoveAll", () => {
  it("names every missing worker at once, and removes nothing (not_found)", async () => {
    const { io, sv } = setup(["a"]);
    const e = await refusal(planRemoveAll(sv, { ...input, names: ["a", "x", "y"] }));
    expect([e.code, e.details?.names]).toEqual(["not_found", ["x", "y"]]);
    expect(io.verbs().every((v) => v === "status")).toBe(true);
    expect(fs.existsSync(file(sv, "a"))).toBe(true);
  });

  it("plans each name once, in the order given", async () => {
    const { sv } = setup(["a", "b"]);
    const p = await planRemoveAll(sv, { ...input, names: ["b", "a", "b"] });
    expect(p.result.workers.map((x) => x.name)).toEqual(["b", "a"]);
    expect(p.result.plan.removes).toEqual([file(sv, "b"), file(sv, "a")]);
  });
});

describe("plans are values", () => {
  it("applyRemoveAll returns a new result and leaves the plan as planned, even when a worker turns out gone", async () => {
    const { io, sv } = setup(["a", "b"]);
    const p = await planRemoveAll(sv, { ...input, missingOk: true, names: ["a", "b"] });
    const planned = structuredClone(p.result);
    fs.rmSync(file(sv, "b")); // removed by someone else meanwhile
    const r = await applyRemoveAll(sv, p);
    expect(r.workers).toEqual([
      { name: "a", file: file(sv, "a"), changed: true },
      { name: "b", file: file(sv, "b"), changed: false },
    ]);
    expect(r).not.toBe(p.result);
    expect(p.result).toEqual(planned);
    expect(fs.existsSync(file(sv, "a"))).toBe(false);
    expect(io.verbs()).toEqual(["stop", "update"]);
  });
});
