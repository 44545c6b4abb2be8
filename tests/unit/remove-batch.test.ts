import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planRemoveAll } from "../../src/core/remove.js";
import { applyRemoveAll } from "../../src/core/remove-batch.js";
import { removalRecords } from "../../src/core/records.js";
import type { SupervisordClient } from "../../src/core/supervisorctl.js";
import { fakeSupervisor, refusal, running, ScriptedIO, ScriptedMachine } from "../helpers/scripted.js";

// src/core/remove-batch.ts: `worker rm` of several workers on a scripted supervisord: the stops
// in lanes before the lock, one `update` naming every worker under it, and a worker supervisord
// refuses put back as it was while the others are removed.

const input = { force: false, missingOk: false };
const file = (sv: SupervisordClient, name: string) => path.join(sv.layout.confDir as string, `${name}.conf`);
const names = (n: number) => Array.from({ length: n }, (_, i) => `w${String(i).padStart(2, "0")}`);

/** A supervisord with every worker loaded; `update` says `problem` has problems (it is not removed). */
function setup(workers: string[], problem?: string) {
  const io = new ScriptedIO((args) => {
    const groups = args.slice(1).map((g) => g.replace(/:\*$/u, ""));
    if (args[0] === "status") return groups.map((g, i) => running(`${g}:${g}_00`, 100 + i)).join("\n");
    if (args[0] === "stop") return groups.map((g) => `${g}:${g}_00: stopped`).join("\n");
    if (args[0] === "update")
      return groups
        .map((g) => (g === problem ? `${g}: stopped\n${g}: has problems; not removing` : `${g}: stopped\n${g}: removed process group`))
        .join("\n");
    return "";
  });
  const sv = fakeSupervisor(
    io,
    workers.map((name) => ({ name, path: "/srv/app", php: "/usr/bin/php" })),
    new ScriptedMachine(),
  );
  return { io, sv };
}

describe("applyRemoveAll of several workers", () => {
  it("20 workers: 12 stops in lanes, then one update naming all 20; every file gone, no removal record left", async () => {
    const all = names(20);
    const { io, sv } = setup(all);
    const p = await planRemoveAll(sv, { ...input, names: all });
    const r = await applyRemoveAll(sv, p);
    expect(io.calls.filter((c) => c[0] === "stop")).toHaveLength(12);
    expect(io.calls.filter((c) => c[0] === "stop").flatMap((c) => c.slice(1))).toEqual(all.map((n) => `${n}:*`));
    expect(io.calls.filter((c) => c[0] === "update")).toEqual([["update", ...all]]);
    expect(r.workers.every((w) => w.changed)).toBe(true);
    expect(all.some((n) => fs.existsSync(file(sv, n)))).toBe(false);
    expect([...removalRecords(sv.layout)]).toEqual([]);
  });

  it("--dry-run's plan is the batch's calls: the lanes' stops and one update", async () => {
    const all = names(15);
    const { io, sv } = setup(all);
    const p = await planRemoveAll(sv, { ...input, names: all });
    expect(p.result.plan.supervisorctl.map((c) => c[3])).toEqual([...Array(12).fill("stop"), "update"]);
    expect(p.result.plan.supervisorctl.at(-1)?.slice(4)).toEqual(all);
    expect(p.result.plan.removes).toEqual(all.map((n) => file(sv, n)));
    expect(io.verbs().every((v) => v === "status")).toBe(true);
  });

  it("one worker supervisord will not remove: put back as it was (its file, started again), the others removed, exit 1 naming both", async () => {
    const all = names(3);
    const { io, sv } = setup(all, "w01");
    const before = fs.readFileSync(file(sv, "w01"), "utf8");
    const p = await planRemoveAll(sv, { ...input, names: all });
    const e = await refusal(applyRemoveAll(sv, p));
    expect(e.code).toBe("supervisord_rejected");
    expect(e.message).toMatch(/^1 of 3 worker\(s\) could not be removed: removed: w00, w02; not removed: w01 \(.*has problems/u);
    expect(e.details?.removed).toEqual(["w00", "w02"]);
    expect(e.details?.notRemoved).toEqual(["w01"]);
    expect(fs.readFileSync(file(sv, "w01"), "utf8")).toBe(before);
    expect(fs.existsSync(file(sv, "w00")) || fs.existsSync(file(sv, "w02"))).toBe(false);
    // Started again after its stop; nothing else was.
    expect(io.calls.filter((c) => c[0] === "start")).toEqual([["start", "w01:*"]]);
    expect([...removalRecords(sv.layout)]).toEqual([]);
  });

  it("a config supervisord cannot read refuses the whole update: every worker put back, none removed", async () => {
    const all = names(3);
    const { io, sv } = setup(all);
    const answer = io.answer;
    io.answer = (args, x) =>
      args[0] === "update"
        ? { exitCode: 2, output: "error: <class 'xmlrpc.client.Fault'>, <Fault 92: \"CANT_REREAD: x\">" }
        : answer(args, x);
    const p = await planRemoveAll(sv, { ...input, names: all });
    const e = await refusal(applyRemoveAll(sv, p));
    expect(e.message).toMatch(/3 of 3 worker\(s\) could not be removed: none was removed/u);
    expect(all.every((n) => fs.existsSync(file(sv, n)))).toBe(true);
    expect([...removalRecords(sv.layout)]).toEqual([]);
  });
});
