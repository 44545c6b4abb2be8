import { describe, expect, it } from "vitest";
import { assertRereads, stopGroup } from "../../src/core/prestop.js";
import { VexoError } from "../../src/errors.js";
import { fakeSupervisor, ScriptedIO } from "../helpers/scripted.js";

// The checks around a stop made before the lock (src/core/prestop.ts), on scripted supervisorctl output.

const rejected = async (p: Promise<unknown>): Promise<string | null> => {
  try {
    await p;
    return null;
  } catch (e) {
    if (e instanceof VexoError) return e.code;
    throw e;
  }
};

describe("assertRereads", () => {
  it.each([
    ["No config updates to processes", 0, null],
    ["ERROR: changed\nerror-mailer: available\nFaulty: disappeared", 0, null], // workers named like errors
    ["ERROR: CANT_REREAD: Format string '50%x' for 'command' is badly formatted", 2, "supervisord_rejected"],
    ["error: <class 'xmlrpc.client.Fault'>, <Fault 92: 'CANT_REREAD: x'>", 0, "supervisord_rejected"], // exit 0, as 3.x does
  ] as const)("%j (exit %i): %s", async (output, exitCode, code) => {
    const io = new ScriptedIO(() => ({ exitCode, output }));
    expect(await rejected(assertRereads(fakeSupervisor(io)))).toBe(code);
    expect(io.verbs()).toEqual(["reread"]);
  });

  it("supervisord down: unreachable, and no supervisorctl run", async () => {
    const io = new ScriptedIO(() => "");
    io.reachable = false;
    expect(await rejected(assertRereads(fakeSupervisor(io)))).toBe("supervisord_unreachable");
    expect(io.calls).toEqual([]);
  });
});

describe("stopGroup", () => {
  it.each([
    ["w:w_00: stopped", 0, null],
    ["w: ERROR (no such group)", 2, null],
    ["w:w_00: ERROR (not running)", 0, null],
    ["w:w_00: ERROR (abnormal termination)", 1, "supervisorctl_failed"],
  ] as const)("%j (exit %i): %s", async (output, exitCode, code) => {
    const io = new ScriptedIO(() => ({ exitCode, output }));
    expect(await rejected(stopGroup(fakeSupervisor(io), "w", "nothing was removed"))).toBe(code);
    expect(io.calls).toEqual([["stop", "w:*"]]);
  });
});
