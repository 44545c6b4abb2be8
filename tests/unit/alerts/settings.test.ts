import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  parseSettings,
  readSettings,
  revisionOf,
  settingsPath,
  settingsText,
  type AlertSettings,
} from "../../../src/core/alerts/settings.js";
import { fakeSupervisor, refusal, ScriptedIO } from "../../helpers/scripted.js";

// src/core/alerts/settings.ts: the settings file, one text per settings, its revision, and the
// listener's refusal of a file it cannot trust or read.

const S: AlertSettings = {
  version: 1,
  exec: ["sh", "-c", 'jq -c "{text: .summary}" | curl -K /etc/x; echo "#done"'],
  allPrograms: false,
  onExit: true,
  onRecovery: false,
  flap: { exits: 5, minutes: 10 },
  windowSeconds: 900,
  timeoutSeconds: 30,
  logLines: 20,
  heal: { delaySeconds: 10, maxDelaySeconds: 600 },
};

describe("alerts settings", () => {
  it("are written with their keys in one order, read back as they were, CMD byte for byte", () => {
    const shuffled = JSON.parse(JSON.stringify({ ...S, heal: S.heal, version: 1 })) as AlertSettings;
    expect(settingsText(shuffled)).toBe(settingsText(S));
    expect(parseSettings("/x", settingsText(S))).toEqual(S);
    expect(revisionOf(settingsText(S))).toMatch(/^[0-9a-f]{12}$/u);
    expect(revisionOf(settingsText({ ...S, onExit: false }))).not.toBe(revisionOf(settingsText(S)));
  });

  it("refuse a file vexo-sv would not write", async () => {
    for (const bad of [
      "not json",
      "{}",
      JSON.stringify({ ...S, exec: [] }),
      JSON.stringify({ ...S, exec: ["a\0b"] }),
      JSON.stringify({ ...S, version: 2 }),
    ]) {
      expect((await refusal(() => parseSettings("/x", bad))).code, bad).toBe("not_managed");
    }
  });

  it("are read by the listener only from a file no other user can change", async () => {
    const sv = fakeSupervisor(new ScriptedIO(() => ""));
    expect(readSettings(sv.layout)).toBeNull();
    const file = settingsPath(sv.layout);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, settingsText(S), { mode: 0o600 });
    expect(readSettings(sv.layout)?.settings).toEqual(S);
    fs.chmodSync(file, 0o666);
    expect((await refusal(() => readSettings(sv.layout))).code).toBe("unsafe_file");
    fs.chmodSync(file, 0o600);
    fs.renameSync(file, `${file}.real`);
    fs.symlinkSync(`${file}.real`, file);
    expect((await refusal(() => readSettings(sv.layout))).code).toBe("unsafe_file");
  });
});
