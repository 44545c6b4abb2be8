import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layoutFromText } from "../../src/core/layout.js";
import { supervisordPathVar, supervisordPid } from "../../src/core/machine.js";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";
import { waitFor } from "../helpers/cli.js";

// Review of issue 26: supervisord's pid decides whose /proc vexo-sv reads (its children, its
// command line's -e and -l, its PATH). A pidfile outlives a supervisord that crashed, and its pid is
// reused; a process "of root's" was believed by its effective uid alone, which any user gets by
// running a setuid-root program (chfn waiting for a password) under whatever name and arguments
// they like: `/usr/bin/supervisord -h -edebug`, with their own PATH.

const CHFN = "/usr/bin/chfn";
const setuid = (() => {
  try {
    const st = fs.statSync(CHFN);
    return st.uid === 0 && (st.mode & 0o4000) !== 0;
  } catch {
    return false;
  }
})();
const skip = attackerSkipReason() ?? (setuid ? undefined : `${CHFN} is not setuid root here`);
if (skip !== undefined) console.warn(`review-pid.test.ts (security) skipped: ${skip}`);

/** The pid of a process whose command line starts with these arguments. */
function pidOf(argv: string[]): number | undefined {
  const want = `${argv.join("\0")}\0`;
  for (const n of fs.readdirSync("/proc").filter((d) => /^\d+$/u.test(d))) {
    try {
      if (fs.readFileSync(`/proc/${n}/cmdline`, "utf8").startsWith(want)) return Number(n);
    } catch {
      // gone
    }
  }
  return undefined;
}

describe.skipIf(skip !== undefined)("a stale pidfile whose pid another user's setuid-root process now has", () => {
  let atk: Attacker;
  let dir: string;
  let posing: Promise<unknown>;
  let pid: number;
  beforeAll(async () => {
    atk = await createAttacker();
    dir = fs.mkdtempSync("/tmp/vx-pid-");
    // chfn asks for the attacker's password and waits while its input stays open; it runs with euid 0.
    const argv = ["/usr/bin/supervisord", "-h", "-edebug"];
    posing = atk.run("/bin/bash", ["-c", `sleep 60 | (exec -a ${argv[0]} ${CHFN} ${argv.slice(1).join(" ")})`], {
      env: { PATH: "/tmp/attacker-bin:/usr/bin:/bin" },
      timeout: 90_000,
    });
    pid = await waitFor(async () => pidOf(argv), 20, "the attacker's process posing as supervisord");
    // The pidfile root's supervisord left when it died, naming that pid now (pid reuse, simulated).
    fs.writeFileSync(path.join(dir, "supervisord.pid"), `${pid}\n`);
  });
  afterAll(async () => {
    // Every process this test started as the attacker (chfn, and the sleep feeding it).
    for (const n of fs.readdirSync("/proc").filter((d) => /^\d+$/u.test(d))) {
      try {
        if (new RegExp(`^Uid:\\s+${atk.uid}\\s`, "mu").test(fs.readFileSync(`/proc/${n}/status`, "utf8")))
          process.kill(Number(n), "SIGKILL");
      } catch {
        // gone
      }
    }
    await posing?.catch(() => undefined);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await atk?.remove();
  });

  it("is not believed to be supervisord, nor its PATH supervisord's", () => {
    const config = path.join(dir, "supervisord.conf");
    const layout = layoutFromText(
      config,
      `[unix_http_server]\nfile = %(here)s/sv.sock\n[supervisord]\npidfile = %(here)s/supervisord.pid\n[include]\nfiles = conf.d/*.conf\n`,
    );
    expect(fs.readFileSync(`/proc/${pid}/status`, "utf8")).toMatch(/^Uid:\s+\d+\s+0\s/mu); // effective uid 0
    expect(supervisordPid(layout)).toBeNull();
    expect(supervisordPathVar(layout)).not.toMatch(/attacker-bin/u);
  });
});
