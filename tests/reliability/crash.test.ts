import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { ALLOW_ROOT, BIN, cli, lsWorker, ME, SAMPLE_APP, useSupervisor, waitFor } from "../helpers/cli.js";

const sv = useSupervisor();
const TRIALS = 60;

const spec = (procs: string) => [
  "worker",
  "add",
  "--name",
  "crash",
  "--path",
  SAMPLE_APP,
  "--user",
  ME,
  ...ALLOW_ROOT,
  "--procs",
  procs,
  "--no-wait",
];
const ops: Record<string, string[]> = {
  add: spec("1"),
  replace: [...spec("2"), "--replace"],
  rm: ["worker", "rm", "crash", "--missing-ok"],
};

/** Every byte of the include directory that supervisord's glob reads. */
function globbed(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of fs.readdirSync(sv.confDir)) {
    if (n.startsWith(".")) continue; // never read by supervisord's glob (temp files, the lock, state)
    out[n] = fs.readFileSync(path.join(sv.confDir, n), "utf8");
  }
  return out;
}

/** A deterministic pseudo-random sequence, so that every run tries the same kill delays. */
function lcg(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

// One test per operation, each with its own generous bound (each trial waits on a real
// supervisord, and a busy 2-core machine can take minutes for all of them).
describe(`SIGKILL during add, add --replace and rm (${TRIALS} trials)`, () => {
  it.each(["add", "replace", "rm"] as const)(
    "%s: never leaves a partial file, supervisord still rereads cleanly, and the rerun completes",
    async (op) => {
      // The only two files that may ever stand at crash.conf: the two specs, whole.
      const contentOf = async (argv: string[]) =>
        (await cli([...argv.filter((a) => a !== "--replace"), "--dry-run", "--replace", "--json"], sv.env)).json.plan.writes[0]?.content;
      const allowed = new Set([await contentOf(ops.add as string[]), await contentOf(ops.replace as string[])]);
      expect(allowed.size).toBe(2);
      const outcomes: Record<string, number> = {};
      const random = lcg({ add: 12345, replace: 23456, rm: 34567 }[op]);
      // Each trial starts from the state its operation changes: no worker for add, the first spec for replace and rm.
      const prepare = op === "add" ? ops.rm : [...(ops.add as string[]), "--replace"];
      for (let t = 0; t < TRIALS / 3; t++) {
        expect((await cli([...(prepare as string[]), "--json"], sv.env)).code).toBe(0);
        const argv = ops[op] as string[];
        const child = execa("node", [BIN, ...argv, "--json"], { env: { ...process.env, ...sv.env }, reject: false });
        const delay = Math.floor(random() * 450);
        await new Promise((r) => setTimeout(r, delay));
        child.kill("SIGKILL");
        const res = await child;
        const key = `${op}:${res.signal === "SIGKILL" ? "killed" : "finished"}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;

        // 1. Nothing partial where supervisord looks.
        const files = globbed();
        for (const [n, content] of Object.entries(files)) {
          expect(n, `trial ${t}`).toBe("crash.conf");
          expect(allowed.has(content), `trial ${t}: crash.conf is not one of the two whole specs`).toBe(true);
        }
        // 2. supervisord can still read the whole directory.
        const reread = await execa("supervisorctl", ["-c", sv.config, "reread"], { reject: false });
        expect(String(reread.stdout), `trial ${t}`).not.toMatch(/ERROR|CANT_REREAD/u);
        // 3. The same command again completes (a killed run's lock died with it).
        const again = await cli([...argv, "--json"], sv.env);
        expect(again.code, `trial ${t} ${op}: ${again.stdout}`).toBe(0);
        const w = await lsWorker(sv, "crash");
        if (op === "rm") expect(w, `trial ${t}`).toBeUndefined();
        else {
          expect(w?.loaded, `trial ${t}`).toBe(true);
          expect(w?.total, `trial ${t}`).toBe(op === "add" ? 1 : 2);
        }
      }
      console.log(`crash trials: ${JSON.stringify(outcomes)}`);
      expect(outcomes[`${op}:killed`]).toBeGreaterThan(0);
      // After all that, a clean state: nothing left behind but the lock.
      await cli(["worker", "rm", "crash", "--missing-ok", "--json"], sv.env);
      expect(fs.readdirSync(sv.confDir).filter((n) => n !== ".vexo-sv.lock" && n !== ".vexo-sv-state")).toEqual([]);
      await waitFor(async () => (await lsWorker(sv, "crash")) === undefined, 30, "crash gone");
    },
    900_000,
  );
});
