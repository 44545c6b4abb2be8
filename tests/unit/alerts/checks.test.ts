import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkExec, checkSelf } from "../../../src/core/alerts/checks.js";
import { fakeSupervisor, refusal, ScriptedIO, ScriptedMachine } from "../../helpers/scripted.js";
import { tempDir } from "../../helpers/tmp.js";

// src/core/alerts/checks.ts: what the listener would run as root must be something only root can
// change; CMD's program must be there, on supervisord's PATH or by absolute path.

function setup() {
  const m = new ScriptedMachine();
  m.pathVar = "/usr/bin:/bin";
  m.executables = new Set(["/usr/bin/curl", "/bin/sh"]);
  return { m, sv: fakeSupervisor(new ScriptedIO(() => ""), [], m) };
}

describe("the alert command's program", () => {
  it("is found on supervisord's PATH or by absolute path", () => {
    const { sv } = setup();
    expect(() => checkExec(sv, ["curl", "-K", "/etc/x"], 0)).not.toThrow();
    expect(() => checkExec(sv, ["/bin/sh", "-c", "x"], 0)).not.toThrow();
  });

  it("is refused (exit 2, naming the field) when missing, relative, or not on that PATH", async () => {
    const { sv } = setup();
    for (const [exec, msg] of [
      [[""], /needs a program/u],
      [["./alert.sh"], /give an absolute path/u],
      [["nope"], /is not on supervisord's PATH \(\/usr\/bin:\/bin\)/u],
      [["/usr/local/bin/nope"], /is not an executable file/u],
    ] as const) {
      const e = await refusal(() => checkExec(sv, exec, 0));
      expect([e.code, e.details?.field], exec.join(" ")).toEqual(["invalid_input", "exec"]);
      expect(e.message).toMatch(msg);
    }
  });

  it("is refused when another user can change it, or an argument naming such a file (review 2: `php /var/www/app/artisan x` ran the app owner's code as root)", async () => {
    const dir = tempDir("vx-exec-trust-");
    fs.chmodSync(dir, 0o755);
    const script = path.join(dir, "alert.sh");
    fs.writeFileSync(script, "#!/bin/sh\n", { mode: 0o755 });
    fs.chmodSync(script, 0o777);
    const { m, sv } = setup();
    m.executables.add(script);
    const e = await refusal(() => checkExec(sv, [script], 0));
    expect([e.code, e.details?.field]).toEqual(["invalid_input", "exec"]);
    expect(e.message).toMatch(/writable by others.*another user can change/u);
    for (const exec of [
      ["/bin/sh", script],
      ["curl", "-K", script],
      ["/bin/sh", path.join(dir, "link")],
    ]) {
      if (exec[1]?.endsWith("link")) fs.symlinkSync(script, exec[1]);
      const arg = await refusal(() => checkExec(sv, exec, 0));
      expect([arg.code, arg.details?.field], exec.join(" ")).toEqual(["invalid_input", "exec"]);
      expect(arg.message).toMatch(/writable by others.*a file another user can change/u);
      expect(arg.hint).toMatch(/runuser/u);
    }
    // Not there yet, where anyone may create it (a sticky /tmp): theirs once they do.
    const later = await refusal(() => checkExec(sv, ["/bin/sh", `/tmp/vx-not-yet-${process.pid}/alert.sh`], 0));
    expect([later.code, later.details?.field]).toEqual(["invalid_input", "exec"]);
    expect(later.message).toMatch(/\/tmp is writable by others/u);
    expect((await refusal(() => checkExec(sv, ["/bin/sh", `/tmp/vx-not-yet-${process.pid}`], 0))).code).toBe("invalid_input");
    // A root-only file, or a word that is no file, is fine.
    expect(() => checkExec(sv, ["/bin/sh", "/bin/true", "/api/hook"], 0)).not.toThrow();
  });
});

describe("vexo-sv as the listener runs it", () => {
  it("must be absolute paths that a command= line can hold and that only root can change", async () => {
    expect(() => checkSelf([process.execPath, path.resolve("bin/vexo-sv.cjs")], 0)).not.toThrow();
    expect((await refusal(() => checkSelf(["node", path.resolve("bin/vexo-sv.cjs")], 0))).code).toBe("unsafe_file");
    expect((await refusal(() => checkSelf([process.execPath, '/x/"quoted"/vexo-sv.cjs'], 0))).message).toMatch(/cannot name it/u);
    const dir = tempDir("vx-self-");
    fs.chmodSync(dir, 0o777);
    const script = path.join(dir, "vexo-sv.cjs");
    fs.writeFileSync(script, "");
    expect((await refusal(() => checkSelf([process.execPath, script], 0))).message).toMatch(/another user can change/u);
  });
});
