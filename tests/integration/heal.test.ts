import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { alertsOf, EXITS_AT_ONCE, listenerLogText, recorder, shAddArgs, shApp, waitLog } from "../helpers/alerts.js";
import { cli, useSupervisor, waitFor, waitRunning } from "../helpers/cli.js";
import { groupInfo } from "../helpers/rpc.js";

// `alerts enable --heal` against a real private supervisord: a FATAL worker is started again
// after a delay that doubles on each failure, and once its app is fixed it comes back, and the
// alerts say so. A paused worker (FATAL with its pause record) and a stopped one are never
// started, neither from an event nor by the sweep a restarted listener makes.

const sv = useSupervisor();
let rec: { exec: string; dir: string };
const ctl = (...args: string[]) => execa("supervisorctl", ["-c", sv.config, ...args], { reject: false });
const stateOf = async (name: string) => (await groupInfo(sv.dir, name))[0]?.statename;

/** An app that fails at once while DIR/broken exists, and runs once it is gone. */
function fixableApp(name: string, broken: boolean): { app: string; fix: () => void; breakIt: () => void } {
  const app = shApp(
    sv,
    name,
    `if [ -e "$(dirname "$0")/broken" ]; then echo "${name}: broken"; exit 3; fi\necho "${name}: up"\nexec sleep 1000`,
  );
  const flag = path.join(app, "broken");
  if (broken) fs.writeFileSync(flag, "");
  return { app, fix: () => fs.rmSync(flag, { force: true }), breakIt: () => fs.writeFileSync(flag, "") };
}

beforeAll(async () => {
  rec = recorder(sv);
  const r = await cli(["alerts", "enable", "--heal", "--heal-delay", "2s", "--heal-max-delay", "4s", "--json", "--exec", rec.exec], sv.env);
  expect(r.code, r.stdout).toBe(0);
  expect(r.json.settings.heal).toEqual({ delaySeconds: 2, maxDelaySeconds: 4 });
}, 120_000);

describe("healing", () => {
  let paused: ReturnType<typeof fixableApp>;
  let stopped: ReturnType<typeof fixableApp>;
  let healme: ReturnType<typeof fixableApp>;
  beforeAll(() => {
    paused = fixableApp("paused", false);
    stopped = fixableApp("stopped", false);
    healme = fixableApp("healme", true);
  });

  it("never starts a paused worker: FATAL with its pause record, it stays FATAL", async () => {
    expect((await cli([...shAddArgs("paused", paused.app, EXITS_AT_ONCE), "--json"], sv.env)).code).toBe(0);
    await waitRunning(sv, "paused", 1);
    expect((await cli(["worker", "pause", "paused", "--json"], sv.env)).json.outcomes).toEqual([{ worker: "paused", outcome: "paused" }]);
    // Started by hand, behind vexo-sv's back, while its app is broken: FATAL, and still paused for vexo-sv.
    paused.breakIt();
    await ctl("start", "paused:*");
    await waitLog(sv, /not healing paused:paused_00: paused/u);
    paused.fix();
    // Its FATAL is alerted all the same (a pause holds it from healing, not from being told of).
    await waitFor(async () => alertsOf(rec.dir, "fatal", "paused").length === 1, 60, "the fatal alert");
    expect(await stateOf("paused")).toBe("FATAL");
  }, 180_000);

  it("a FATAL worker is started again after growing delays; once its app is fixed it runs, and the alerts say so", async () => {
    expect((await cli([...shAddArgs("stopped", stopped.app), "--json"], sv.env)).code).toBe(0);
    await waitRunning(sv, "stopped", 1);
    expect((await cli(["worker", "stop", "stopped", "--json"], sv.env)).code).toBe(0);
    expect((await cli([...shAddArgs("healme", healme.app, EXITS_AT_ONCE), "--json"], sv.env)).code).toBe(0);
    // The first attempt (after 2s) fails: FATAL again, and the next is 4s away.
    await waitLog(sv, /heal healme:healme_00: attempt 1 in 2s/u, 1, 120);
    await waitLog(sv, /heal healme:healme_00: attempt 2 in 4s/u, 1, 120);
    const fixedAt = new Date().toISOString();
    healme.fix();
    // Healed after the fix. (On a loaded machine supervisord may call the broken app RUNNING for a
    // moment before it notices the exit: a healed alert then, and the delays go on. So the one
    // that counts is the first after the fix.)
    const after = () => alertsOf(rec.dir, "healed", "healme").filter((a) => a.doc.time > fixedAt);
    const healed = await waitFor(async () => after()[0], 120, "the healed alert").catch((e) => {
      throw new Error(`${e}\n${listenerLogText(sv)}`);
    });
    await waitRunning(sv, "healme", 1);
    const k = healed?.doc.heal?.attempt ?? 0;
    expect(k).toBeGreaterThanOrEqual(2);
    expect(healed?.doc).toMatchObject({ state: "RUNNING", reason: `running again after heal attempt ${k}` });
    // One fatal alert; each attempt alerted, 1 to k, whatever the window, the next delay capped at 4s.
    expect(alertsOf(rec.dir, "fatal", "healme")).toHaveLength(1);
    expect(alertsOf(rec.dir, "healing", "healme").map((a) => a.doc.heal)).toEqual(
      Array.from({ length: k }, (_, i) => ({ attempt: i + 1, nextDelaySeconds: 4 })),
    );
    const log = listenerLogText(sv);
    expect(log).toMatch(/heal healme:healme_00: attempt 1, starting it/u);
    expect(log).toMatch(
      /heal healme:healme_00: supervisorctl said "healme:healme_00: (started|ERROR \(spawn error\)|ERROR \(abnormal termination\))"/u,
    );
    // Never a word about the stopped worker, nor the paused one started.
    expect(log).not.toMatch(/heal stopped:|heal paused:paused_00: attempt/u);
    expect(await stateOf("stopped")).toBe("STOPPED");
    expect(await stateOf("paused")).toBe("FATAL");
  }, 240_000);

  it("a restarted listener finds FATAL workers again, and still heals neither the paused nor the stopped one", async () => {
    const old = (await groupInfo(sv.dir, "vexo-sv-alerts"))[0]?.pid ?? 0;
    process.kill(old, "SIGKILL");
    await waitFor(
      async () => {
        const p = (await groupInfo(sv.dir, "vexo-sv-alerts"))[0];
        return p?.statename === "RUNNING" && p.pid !== old;
      },
      60,
      "the listener restarted by supervisord",
    );
    // Its sweep met the paused worker FATAL again, and left it.
    await waitLog(sv, /not healing paused:paused_00: paused/u, 2);
    expect(listenerLogText(sv)).not.toMatch(/heal stopped:|heal paused:paused_00: attempt/u);
    expect(await stateOf("paused")).toBe("FATAL");
    expect(await stateOf("stopped")).toBe("STOPPED");
    expect(await stateOf("healme")).toBe("RUNNING");
    expect(fs.existsSync(path.join(sv.confDir, ".vexo-sv-state", "paused.paused"))).toBe(true);
    // And it speaks the protocol from the start again: the next FATAL reaches CMD.
    healme.breakIt();
    await ctl("stop", "healme:*");
    await ctl("start", "healme:*");
    await waitLog(sv, /heal healme:healme_00: attempt 1 in 2s/u, 2, 120);
    const sv_log = fs.readFileSync(path.join(sv.logDir, "supervisord.log"), "utf8");
    expect(sv_log).not.toMatch(/UNKNOWN state|violated the eventlistener protocol/u);
    for (const n of ["paused", "stopped", "healme"]) await cli(["worker", "rm", n, "--json"], sv.env);
  }, 240_000);
});
