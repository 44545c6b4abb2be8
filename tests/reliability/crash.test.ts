import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { ALLOW_ROOT, BIN, cli, lsWorker, ME, ROOT, SAMPLE_APP, useSupervisor, waitFor } from "../helpers/cli.js";
import { groupInfo } from "../helpers/rpc.js";

// SIGKILL at every phase of add, add --replace and rm, on purpose: tests/helpers/crash-at.mjs
// kills the process itself when it reaches the phase named (and logs the phases it passed), so
// each trial is known to have died exactly there. After each: nothing partial where supervisord
// looks, supervisord rereads cleanly, and the same command run again completes.

const sv = useSupervisor();
const TRIALS_PER_PHASE = 2;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-crash-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const spec = (procs: string) => ["worker", "add", "--name", "crash", "--path", SAMPLE_APP, "--user", ME, ...ALLOW_ROOT, "--procs", procs];
const ops = {
  add: {
    argv: spec("1"),
    prepare: ["worker", "rm", "crash", "--missing-ok"],
    phases: ["during-lock", "before-rename", "after-rename", "during-update", "during-status"],
  },
  replace: {
    argv: [...spec("2"), "--replace"],
    prepare: [...spec("1"), "--replace"],
    phases: ["during-lock", "before-rename", "after-rename", "during-update", "during-status"],
  },
  rm: {
    argv: ["worker", "rm", "crash", "--missing-ok"],
    prepare: [...spec("1"), "--replace"],
    phases: ["during-lock", "during-stop", "after-unlink", "during-update"],
  },
} as const;

/** Every byte of the include directory that supervisord's glob reads. */
function globbed(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of fs.readdirSync(sv.confDir)) {
    if (n.startsWith(".")) continue; // never read by supervisord's glob (temp files, the lock, state)
    out[n] = fs.readFileSync(path.join(sv.confDir, n), "utf8");
  }
  return out;
}

/** Runs the command with the crash hook; returns how it ended and the phases it passed. */
async function killedAt(argv: readonly string[], phase: string): Promise<{ killed: boolean; passed: string[] }> {
  const log = path.join(tmp, `phases-${Math.random().toString(16).slice(2)}`);
  const r = await execa("node", ["--import", path.join(ROOT, "tests/helpers/crash-at.mjs"), BIN, ...argv, "--json"], {
    env: { ...process.env, ...sv.env, VEXO_CRASH_AT: phase, VEXO_CRASH_LOG: log },
    reject: false,
  });
  const passed = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
  return { killed: r.signal === "SIGKILL", passed };
}

export const hits: Record<string, number> = {};

describe("SIGKILL at every phase of add, add --replace and rm", () => {
  it.each(Object.keys(ops) as (keyof typeof ops)[])(
    "%s: never leaves a partial file, supervisord still rereads cleanly, and the rerun completes",
    async (op) => {
      const { argv, prepare, phases } = ops[op];
      // The only two files that may ever stand at crash.conf: the two specs, whole.
      const contentOf = async (a: readonly string[]) =>
        (await cli([...a.filter((x) => x !== "--replace"), "--dry-run", "--replace", "--json"], sv.env)).json.plan.writes[0]?.content;
      const whole = { add: await contentOf(ops.add.argv), replace: await contentOf(ops.replace.argv) };
      const allowed = new Set([whole.add, whole.replace]);
      expect(allowed.size).toBe(2);
      for (const c of allowed) expect(c).toMatch(/^; managed-by: vexo-sv\n/u);
      const wanted = op === "rm" ? undefined : whole[op];
      for (const phase of phases) {
        for (let t = 0; t < TRIALS_PER_PHASE; t++) {
          const trial = `${op} killed ${phase} (#${t + 1})`;
          expect((await cli([...prepare, "--json"], sv.env)).code, trial).toBe(0);
          const { killed, passed } = await killedAt(argv, phase);
          // Killed, and exactly there: the last phase it passed is the one asked for.
          expect(killed, `${trial}: passed ${passed.join(", ")}`).toBe(true);
          expect(passed.at(-1), trial).toBe(phase);
          hits[`${op}:${phase}`] = (hits[`${op}:${phase}`] ?? 0) + 1;

          // 1. Nothing partial where supervisord looks.
          for (const [n, content] of Object.entries(globbed())) {
            expect(n, trial).toBe("crash.conf");
            expect(allowed.has(content), `${trial}: crash.conf is not one of the two whole specs`).toBe(true);
          }
          // 2. supervisord can still read the whole directory.
          const reread = await execa("supervisorctl", ["-c", sv.config, "reread"], { reject: false });
          expect(String(reread.stdout), trial).not.toMatch(/ERROR|CANT_REREAD/u);
          // 3. The same command again completes (a killed run's lock died with it).
          const again = await cli([...argv, "--json"], sv.env);
          expect(again.code, `${trial}: ${again.stdout}`).toBe(0);
          // What the command said, on disk and in supervisord: after rm no file and no group; else
          // the spec's file, whole, and its processes.
          const files = globbed();
          if (op === "rm") expect(files, trial).toEqual({});
          else expect(files, trial).toEqual({ "crash.conf": wanted });
          expect((await groupInfo(sv.dir, "crash")).length, trial).toBe(op === "rm" ? 0 : op === "add" ? 1 : 2);
        }
      }
      console.log(
        `crash trials (${op}): ${JSON.stringify(Object.fromEntries(Object.entries(hits).filter(([k]) => k.startsWith(`${op}:`))))}`,
      );
      // After all that, a clean state: nothing left behind but the lock and the state directory.
      await cli(["worker", "rm", "crash", "--missing-ok", "--json"], sv.env);
      expect(fs.readdirSync(sv.confDir).filter((n) => n !== ".vexo-sv.lock" && n !== ".vexo-sv-state")).toEqual([]);
      await waitFor(async () => (await lsWorker(sv, "crash")) === undefined, 30, "crash gone");
    },
    900_000,
  );
});
