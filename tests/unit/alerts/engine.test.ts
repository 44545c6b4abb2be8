import { describe, expect, it } from "vitest";
import { AlertEngine, type Decision, type EngineOptions, HEAL_STABLE_MS } from "../../../src/core/alerts/engine.js";

// src/core/alerts/engine.ts in virtual time: the rate limit (one alert per worker and kind per
// window), flapping (more than N unexpected exits in M minutes), heal delays that double up to a
// cap and start over once a worker stays up, never a heal where one may not be, and memory that
// goes back to nothing once there is nothing to remember.

const MIN = 60_000;
const OPTS: EngineOptions = {
  flapExits: 5,
  flapWindowMs: 10 * MIN,
  rateWindowMs: 15 * MIN,
  onExit: false,
  onRecovery: false,
  heal: null,
};
const w = { group: "app", process: "app_00" };
const alerts = (ds: Decision[]) => ds.flatMap((d) => (d.do === "alert" ? [d.alert.kind] : []));
const heals = (ds: Decision[]) => ds.flatMap((d) => (d.do === "heal" ? [d] : []));
const notes = (ds: Decision[]) => ds.flatMap((d) => (d.do === "note" ? [d.text] : []));

describe("fatal alerts and the window", () => {
  it("alerts a FATAL once per window, counts those held back, and alerts again after the window", () => {
    const e = new AlertEngine(OPTS);
    expect(alerts(e.stateChange(w, "FATAL", null, 0))).toEqual(["fatal"]);
    e.stateChange(w, "BACKOFF", null, MIN);
    const held = e.stateChange(w, "FATAL", null, 2 * MIN);
    expect(alerts(held)).toEqual([]);
    expect(notes(held)[0]).toMatch(/fatal alert for app:app_00 held back/u);
    e.stateChange(w, "BACKOFF", null, 3 * MIN);
    // Held back again, and not said again in this window (a crash loop would write a line per event).
    expect(e.stateChange(w, "FATAL", null, 4 * MIN)).toEqual([]);
    expect(e.heldBack).toBe(2);
    e.stateChange(w, "BACKOFF", null, 15 * MIN);
    const again = e.stateChange(w, "FATAL", null, 15 * MIN);
    expect(again).toEqual([{ do: "alert", alert: { ...w, kind: "fatal", at: 15 * MIN, suppressed: 2 } }]);
  });

  it("keeps windows per worker and per kind", () => {
    const e = new AlertEngine({ ...OPTS, onExit: true });
    expect(alerts(e.stateChange(w, "FATAL", null, 0))).toEqual(["fatal"]);
    expect(alerts(e.stateChange({ group: "other", process: "other" }, "FATAL", null, 1))).toEqual(["fatal"]);
    // Another kind for the same worker is not held back by the fatal one.
    expect(alerts(e.stateChange(w, "EXITED", false, 2))).toEqual(["exited"]);
    expect(alerts(e.stateChange(w, "EXITED", false, 3))).toEqual([]);
  });

  it("a FATAL event is always a new FATAL; the sweep's FATAL only when the engine did not know it", () => {
    const e = new AlertEngine({ ...OPTS, rateWindowMs: 10 });
    expect(alerts(e.stateChange(w, "FATAL", null, 0))).toEqual(["fatal"]);
    expect(e.observed(w, "FATAL", 100)).toEqual([]);
    // Started by hand and FATAL again: supervisord's event says so (past the window here, so sent).
    expect(alerts(e.stateChange(w, "FATAL", null, 200))).toEqual(["fatal"]);
    // One the engine never saw (the listener was not running when it happened) is found by the sweep.
    expect(alerts(e.observed({ group: "b", process: "b" }, "FATAL", 300))).toEqual(["fatal"]);
  });

  it("the sweep remembers nothing of processes the engine knew nothing about", () => {
    const e = new AlertEngine({ ...OPTS, onRecovery: true });
    for (let i = 0; i < 1000; i++) expect(e.observed({ group: `g${i}`, process: `g${i}` }, i % 2 ? "RUNNING" : "STOPPED", i)).toEqual([]);
    expect(e.size()).toBe(0);
    // An alerted one found RUNNING by the sweep has recovered.
    e.stateChange(w, "FATAL", null, 0);
    expect(alerts(e.observed(w, "RUNNING", MIN))).toEqual(["recovered"]);
    expect(alerts(e.observed(w, "RUNNING", 2 * MIN))).toEqual([]);
  });

  it("recovery: alerted only with onRecovery, and only after an alert", () => {
    const quiet = new AlertEngine(OPTS);
    quiet.stateChange(w, "FATAL", null, 0);
    expect(alerts(quiet.stateChange(w, "RUNNING", null, MIN))).toEqual([]);
    const e = new AlertEngine({ ...OPTS, onRecovery: true });
    expect(alerts(e.stateChange(w, "RUNNING", null, 0))).toEqual([]);
    e.stateChange(w, "FATAL", null, MIN);
    expect(alerts(e.stateChange(w, "RUNNING", null, 2 * MIN))).toEqual(["recovered"]);
    expect(alerts(e.stateChange(w, "RUNNING", null, 3 * MIN))).toEqual([]);
  });
});

describe("flapping", () => {
  it("is more than N unexpected exits within M minutes: one alert, not one per exit", () => {
    const e = new AlertEngine(OPTS);
    const got: string[] = [];
    // An exit every second for two minutes: 120 exits, one flapping alert.
    for (let s = 0; s < 120; s++) got.push(...alerts(e.stateChange(w, "EXITED", false, s * 1000)));
    expect(got).toEqual(["flapping"]);
  });

  it("the sixth exit in the window alerts, with the count; five do not, nor expected exits, nor failed starts", () => {
    const e = new AlertEngine(OPTS);
    for (let i = 0; i < 10; i++) expect(alerts(e.stateChange(w, "EXITED", true, i))).toEqual([]);
    for (let i = 0; i < 10; i++) expect(alerts(e.stateChange(w, "BACKOFF", null, i))).toEqual([]);
    for (let i = 0; i < 5; i++) expect(alerts(e.stateChange(w, "EXITED", false, i * MIN))).toEqual([]);
    const d = e.stateChange(w, "EXITED", false, 5 * MIN);
    expect(d).toEqual([
      { do: "alert", alert: { ...w, kind: "flapping", at: 5 * MIN, suppressed: 0, exits: { count: 6, windowMinutes: 10 } } },
    ]);
  });

  it("exits spread wider than the window never flap", () => {
    const e = new AlertEngine(OPTS);
    for (let i = 0; i < 50; i++) expect(alerts(e.stateChange(w, "EXITED", false, i * 2.5 * MIN))).toEqual([]);
  });

  it("counts a worker's processes together, and recovers (with onRecovery) after a quiet window", () => {
    const e = new AlertEngine({ ...OPTS, onRecovery: true });
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(...alerts(e.stateChange({ group: "app", process: `app_0${i % 3}` }, "EXITED", false, i * 1000)));
    expect(got).toEqual(["flapping"]);
    expect(alerts(e.tick(5 * MIN, new Set(["app"])))).toEqual([]);
    expect(alerts(e.tick(11 * MIN, new Set(["app"])))).toEqual(["recovered"]);
    expect(alerts(e.tick(12 * MIN, new Set(["app"])))).toEqual([]);
  });
});

describe("healing", () => {
  const HEAL: EngineOptions = { ...OPTS, heal: { firstDelayMs: 10_000, maxDelayMs: 600_000 } };

  /** FATAL, then each due heal fails (a heal starts, then FATAL again); returns the delays. */
  function failingHeals(e: AlertEngine, n: number, start = 0): number[] {
    const delays: number[] = [];
    let now = start;
    let [h] = heals(e.stateChange(w, "FATAL", null, now));
    for (let i = 0; i < n && h; i++) {
      delays.push(h.at - now);
      now = h.at;
      expect(e.healDue(w, h.attempt)).toBe(true);
      expect(alerts(e.healStarting(w, now))).toEqual(["healing"]);
      e.stateChange(w, "BACKOFF", null, now + 500);
      now += 1000;
      [h] = heals(e.stateChange(w, "FATAL", null, now));
    }
    return delays;
  }

  it("waits 10 s, then twice as long after each failure, up to the cap", () => {
    expect(failingHeals(new AlertEngine(HEAL), 9)).toEqual([10, 20, 40, 80, 160, 320, 600, 600, 600].map((s) => s * 1000));
  });

  it("says healed when the process comes up after an attempt, and every attempt whatever the window", () => {
    const e = new AlertEngine(HEAL);
    const [h] = heals(e.stateChange(w, "FATAL", null, 0));
    expect(h).toEqual({ do: "heal", key: w, attempt: 1, at: 10_000 });
    const starting = e.healStarting(w, 10_000);
    expect(starting).toEqual([
      { do: "alert", alert: { ...w, kind: "healing", at: 10_000, suppressed: 0, heal: { attempt: 1, nextDelaySeconds: 20 } } },
    ]);
    expect(alerts(e.stateChange(w, "RUNNING", null, 11_000))).toEqual(["healed"]);
    expect(e.healDue(w, 1)).toBe(false);
  });

  it("starts the delays over once a healed worker stayed up long enough, and not before", () => {
    const e = new AlertEngine(HEAL);
    // Three attempts failed; the fourth brings it up, and it fails again soon: the delays go on growing.
    expect(failingHeals(e, 3)).toEqual([10_000, 20_000, 40_000]);
    e.healStarting(w, 100_000);
    e.stateChange(w, "RUNNING", null, 101_000);
    const [soon] = heals(e.stateChange(w, "FATAL", null, 102_000));
    expect(soon).toMatchObject({ attempt: 5, at: 102_000 + 160_000 });
    e.healStarting(w, soon?.at ?? 0);
    e.stateChange(w, "RUNNING", null, 200_000);
    const [later] = heals(e.stateChange(w, "FATAL", null, 200_000 + HEAL_STABLE_MS));
    expect(later).toMatchObject({ attempt: 1, at: 200_000 + HEAL_STABLE_MS + 10_000 });
  });

  it("never heals a process that may not be healed (paused, not a worker), and says why", () => {
    const e = new AlertEngine(HEAL);
    const d = e.stateChange({ ...w, noHeal: "paused (a pause record holds it)" }, "FATAL", null, 0);
    expect(alerts(d)).toEqual(["fatal"]);
    expect(heals(d)).toEqual([]);
    expect(notes(d)).toEqual(["not healing app:app_00: paused (a pause record holds it)"]);
  });

  it("a heal is no longer due once the process is up by other means, or was skipped", () => {
    const e = new AlertEngine(HEAL);
    const [h] = heals(e.stateChange(w, "FATAL", null, 0));
    e.stateChange(w, "RUNNING", null, 5000);
    expect(e.healDue(w, h?.attempt ?? 0)).toBe(false);
    const [h2] = heals(e.stateChange(w, "FATAL", null, 6000));
    expect(e.healDue(w, h2?.attempt ?? 0)).toBe(true);
    e.healSkipped(w);
    expect(e.healDue(w, h2?.attempt ?? 0)).toBe(false);
  });

  it("a start that supervisorctl refused schedules the next attempt, without a second fatal alert", () => {
    const e = new AlertEngine(HEAL);
    const [h] = heals(e.stateChange(w, "FATAL", null, 0));
    e.healStarting(w, h?.at ?? 0);
    const next = e.healFailed(w, 20_000);
    expect(alerts(next)).toEqual([]);
    expect(heals(next)).toEqual([{ do: "heal", key: w, attempt: 2, at: 40_000 }]);
  });

  it("told of one FATAL twice (the sweep, then the event supervisord held while the listener was down), heals once", () => {
    const e = new AlertEngine(HEAL);
    const first = heals(e.observed(w, "FATAL", 0));
    const second = e.stateChange(w, "FATAL", null, 1000);
    expect(first).toEqual([{ do: "heal", key: w, attempt: 1, at: 10_000 }]);
    expect(heals(second)).toEqual([]);
    expect(alerts(second)).toEqual([]);
    expect(e.healDue(w, 1)).toBe(true);
  });

  it("heals nothing when healing is off", () => {
    expect(heals(new AlertEngine(OPTS).stateChange(w, "FATAL", null, 0))).toEqual([]);
  });
});

describe("memory", () => {
  it("is bounded: a day of a crash-looping program and a hundred workers leaves nothing behind once quiet", () => {
    const e = new AlertEngine({ ...OPTS, heal: { firstDelayMs: 10_000, maxDelayMs: 600_000 }, onRecovery: true });
    const groups = new Set<string>();
    let now = 0;
    for (let i = 0; i < 24 * 60; i++, now += MIN) {
      for (let k = 0; k < 100; k++) {
        const p = { group: `w${k}`, process: `w${k}_00` };
        groups.add(p.group);
        e.stateChange(p, "EXITED", false, now);
        e.stateChange(p, "RUNNING", null, now + 100);
      }
      e.tick(now + 1000, groups);
      // Never more than a few entries per worker, whatever the number of events.
      expect(e.size()).toBeLessThanOrEqual(100 * 4);
    }
    e.tick(now + 20 * MIN, groups);
    e.tick(now + 40 * MIN, groups);
    expect(e.size()).toBe(0);
  });

  it("forgets the processes of groups supervisord no longer runs", () => {
    const e = new AlertEngine(OPTS);
    e.stateChange(w, "FATAL", null, 0);
    e.tick(MIN, new Set(["app"]));
    expect(e.size()).toBeGreaterThan(0);
    e.tick(20 * MIN, new Set());
    expect(e.size()).toBe(0);
  });
});
