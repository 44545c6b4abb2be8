import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Attacker, attackerSkipReason, createAttacker } from "../helpers/attacker.js";
import { addArgs, cli, SAMPLE_APP, snapshot, startSupervisor, stopSupervisor, type Sv } from "../helpers/cli.js";

// docs/security.md, held: items of issue 24 (an attacker review of vexo-sv run as root), played
// by a throw-away unprivileged user against a private root supervisord. Root only (CI runs as root).

const skip = attackerSkipReason();
if (skip !== undefined) console.warn(`tests/security skipped: ${skip}`);

let atk: Attacker;
let sv: Sv;
/** Root's, 0755: the attacker can read it and write nothing in it. */
let tmp: string;

beforeAll(async () => {
  if (skip) return;
  atk = await createAttacker();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-plant-"));
  fs.chmodSync(tmp, 0o755);
  sv = await startSupervisor();
}, 120_000);
afterAll(async () => {
  if (skip) return;
  await stopSupervisor(sv);
  await atk?.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A root-owned 0755 copy of the sample app (its artisan) in a fresh directory. */
function rootApp(prefix: string): string {
  const app = fs.mkdtempSync(path.join(tmp, prefix));
  fs.chmodSync(app, 0o755);
  fs.copyFileSync(path.join(SAMPLE_APP, "artisan"), path.join(app, "artisan"));
  fs.chmodSync(path.join(app, "artisan"), 0o755);
  return app;
}

/** A directory owned by the attacker (mode 0755), as an app's owner would have one. */
function atkDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(tmp, prefix));
  fs.chmodSync(d, 0o755);
  fs.chownSync(d, atk.uid, atk.gid);
  return d;
}

const rootAdd = (name: string, app: string) =>
  cli(["worker", "add", "--name", name, "--path", app, "--user", "root", "--allow-root", "--dry-run", "--json"], sv.env);

describe.skipIf(skip !== undefined)("issue 24: what another user planted is never written through or run as root", () => {
  it("1. a symlink planted as a worker's log is refused, also once the directory is root's (chown, chmod 755, even chown -R)", async () => {
    const target = path.join(tmp, "authorized_keys");
    fs.writeFileSync(target, "ssh-ed25519 AAAA root@host\n", { mode: 0o600 });
    const dir = atkDir("L-");
    // The worker's log, one of its rotations, and a link for a worker someone adds later.
    for (const n of ["q1_00.log", "q1_00.log.3", "later_00.log"])
      expect((await atk.run("ln", ["-s", target, path.join(dir, n)])).code).toBe(0);
    const confBefore = snapshot(sv.confDir);
    const add = () => cli([...addArgs("q1", ["--no-wait"]), "--log-dir", dir, "--json"], sv.env);

    const owned = await add();
    expect(owned.code, owned.stdout).toBe(2);
    expect(owned.json.error.details.flag).toBe("--log-dir");
    expect(owned.json.error.message).toMatch(new RegExp(`owned by uid ${atk.uid}`, "u"));
    // The hint makes the admin replace the whole directory: never chown it (review r2 #3).
    expect(owned.json.error.hint).toContain(`mv -T ${dir} ${dir}.untrusted`);
    expect(owned.json.error.hint).not.toContain("chown");

    // What the old hint said: the directory root's, 0755. The links are still the attacker's.
    fs.chownSync(dir, 0, 0);
    fs.chmodSync(dir, 0o755);
    const chowned = await add();
    expect(chowned.code, chowned.stdout).toBe(2);
    expect(chowned.json.error.details.flag).toBe("--log-dir");
    expect(chowned.json.error.message).toContain(`${path.join(dir, "q1_00.log")} is a symbolic link`);
    expect(chowned.json.error.message).toContain(`${path.join(dir, "q1_00.log.3")} is a symbolic link`);

    // chown -R makes the links root's; they are still links, and every one is named at once.
    await execa("chown", ["-R", "root:root", dir]);
    expect(fs.lstatSync(path.join(dir, "q1_00.log")).uid).toBe(0);
    const recursive = await add();
    expect(recursive.code, recursive.stdout).toBe(2);
    expect(recursive.json.error.message).toContain(`${path.join(dir, "later_00.log")} is a symbolic link`);

    expect(fs.readFileSync(target, "utf8")).toBe("ssh-ed25519 AAAA root@host\n");
    expect(snapshot(sv.confDir)).toEqual(confBefore);
    // Once what root did not create is removed, the same directory is fine.
    for (const n of fs.readdirSync(dir)) fs.rmSync(path.join(dir, n));
    const clean = await cli([...addArgs("q1", ["--no-wait", "--dry-run"]), "--log-dir", dir, "--json"], sv.env);
    expect(clean.code, clean.stdout).toBe(0);
  });

  it("1. a root log directory holding another user's regular file under the worker's log name is refused", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "M-"));
    fs.chmodSync(dir, 0o755);
    const log = path.join(dir, "q2_00.log");
    fs.writeFileSync(log, "");
    fs.chownSync(log, atk.uid, atk.gid);
    const confBefore = snapshot(sv.confDir);
    const r = await cli([...addArgs("q2", ["--no-wait"]), "--log-dir", dir, "--json"], sv.env);
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.error.details.flag).toBe("--log-dir");
    expect(r.json.error.message).toContain(`${log} is owned by uid ${atk.uid}`);
    expect(snapshot(sv.confDir)).toEqual(confBefore);
    expect(fs.readFileSync(log, "utf8")).toBe("");
  });

  it("2. a root worker's app may not link to what another user can write (storage -> a shared dir, a dangling link)", async () => {
    const app = rootApp("linked-");
    const shared = atkDir("shared-");
    fs.symlinkSync(shared, path.join(app, "storage"));
    const r = await rootAdd("rl", app);
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.error.details.flag).toBe("--path");
    expect(r.json.error.message).toContain(`${path.join(app, "storage")}`);
    expect(r.json.error.message).toMatch(new RegExp(`owned by uid ${atk.uid}`, "u"));
    // Dangling, into a directory the attacker owns: they can create the target whenever they like.
    fs.rmSync(path.join(app, "storage"));
    fs.symlinkSync(path.join(shared, "later"), path.join(app, "cache"));
    const dangling = await rootAdd("rl", app);
    expect(dangling.code, dangling.stdout).toBe(2);
    expect(dangling.json.error.message).toContain(`${path.join(app, "cache")}`);
  });

  it("2. links inside the app, loops, and root-only directories outside it are followed and accepted; what they hold is checked", async () => {
    const app = rootApp("inside-");
    fs.mkdirSync(path.join(app, "storage/app/public"), { recursive: true, mode: 0o755 });
    fs.mkdirSync(path.join(app, "public"), { mode: 0o755 });
    fs.symlinkSync("../storage/app/public", path.join(app, "public/storage")); // what storage:link makes
    fs.symlinkSync(".", path.join(app, "storage/loop"));
    fs.symlinkSync("..", path.join(app, "storage/app/up"));
    // A root-only library outside the app (as Debian's /usr/share/php), and a dangling link into a root-only place.
    const lib = fs.mkdtempSync(path.join(tmp, "lib-"));
    fs.chmodSync(lib, 0o755);
    fs.writeFileSync(path.join(lib, "autoload.php"), "<?php\n", { mode: 0o644 });
    fs.symlinkSync(lib, path.join(app, "vendor"));
    fs.symlinkSync(path.join(lib, "not-yet"), path.join(app, "bootstrap-cache"));
    const ok = await rootAdd("rk", app);
    expect(ok.code, ok.stdout).toBe(0);
    // The linked library is walked: something in it another user owns is refused, named through the link.
    fs.mkdirSync(path.join(lib, "Illuminate"), { mode: 0o755 });
    fs.chownSync(path.join(lib, "Illuminate"), atk.uid, atk.gid);
    const inLib = await rootAdd("rk", app);
    expect(inLib.code, inLib.stdout).toBe(2);
    expect(inLib.json.error.message).toContain(`${path.join(app, "vendor/Illuminate")} is owned by uid ${atk.uid}`);
  });

  it("2. a link cycle does not hang the walk", async () => {
    const app = rootApp("cycle-");
    fs.symlinkSync("cycle-b", path.join(app, "cycle-a"));
    fs.symlinkSync("cycle-a", path.join(app, "cycle-b"));
    const r = await rootAdd("rc", app);
    // A link that resolves to nothing at all is not something a root worker can load from: refused, and named.
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.error.message).toMatch(/cycle-[ab]/u);
  });

  it("3. workers of different applications under one user are warned of; the same application is not", async () => {
    const appA = rootApp("appA-");
    const appB = rootApp("appB-");
    const as = (name: string, app: string, extra: string[] = []) =>
      cli(["worker", "add", "--name", name, "--path", app, "--user", atk.name, "--no-wait", ...extra, "--json"], sv.env);
    const first = await as("ua", appA);
    expect(first.code, first.stdout).toBe(0);
    try {
      expect((first.json.warnings ?? []).join("\n")).not.toMatch(/also run/u);
      const other = await as("ub", appB, ["--dry-run"]);
      expect(other.code, other.stdout).toBe(0);
      const warned = (other.json.warnings ?? []).join("\n");
      expect(warned).toContain(`ua (${appA})`);
      expect(warned).toMatch(/\/proc\/PID\/environ/u);
      const same = await as("ua2", appA, ["--dry-run"]);
      expect(same.code, same.stdout).toBe(0);
      expect((same.json.warnings ?? []).join("\n")).not.toMatch(/also run/u);
      // apply plans each worker the same way, and also compares the workers of its own file.
      const file = path.join(sv.dir, "shared-user.json");
      const workers = [
        { name: "uc", path: appA, user: atk.name },
        { name: "ud", path: appB, user: "nobody" },
        { name: "ue", path: appB, user: "nobody" },
      ];
      fs.writeFileSync(file, `${JSON.stringify({ workers })}\n`, { mode: 0o644 });
      const applied = await cli(["apply", file, "--dry-run", "--json"], sv.env);
      expect(applied.code, applied.stdout).toBe(0);
      const aw = (applied.json.warnings ?? []).join("\n");
      expect(aw).not.toMatch(/^uc: .*also run/mu); // ua is the same application
      expect(aw).not.toMatch(/^u[de]: .*also run/mu); // nobody runs only appB here
      fs.writeFileSync(file, `${JSON.stringify({ workers: [...workers, { name: "uf", path: appA, user: "nobody" }] })}\n`);
      const mixed = await cli(["apply", file, "--dry-run", "--json"], sv.env);
      expect(mixed.code, mixed.stdout).toBe(0);
      expect((mixed.json.warnings ?? []).join("\n")).toMatch(/^uf: .*also run.*ud \(/mu);
    } finally {
      expect((await cli(["worker", "rm", "ua", "--json"], sv.env)).code).toBe(0);
    }
  });

  it("review r2 #2: a root worker's link to a directory not created yet in /tmp is refused: anyone could create it", async () => {
    const app = rootApp("tmplink-");
    const target = `/tmp/vx-laravel-storage-${path.basename(app)}`;
    fs.symlinkSync(target, path.join(app, "storage"));
    const r = await rootAdd("rt", app);
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.error.details.flag).toBe("--path");
    expect(r.json.error.message).toContain(
      `${path.join(app, "storage")} is a symbolic link, and ${target} does not exist yet, and /tmp lets others create it`,
    );
    // The hint: a fresh copy as root, never the other user's tree made root's (review r2 #3).
    expect(r.json.error.hint).toMatch(/fresh copy of the application as root/u);
    expect(r.json.error.hint).not.toContain("chown");
    // What the attacker would do next: nothing of theirs is there, and nothing was created.
    expect(fs.existsSync(target)).toBe(false);
  });

  it("review r2 #5: a hard link in the log directory to an attacker's file stays refused after chown -R (and a chmod)", async () => {
    const dir = atkDir("H-");
    const mine = atkDir("S-"); // the attacker's own place, on the same file system
    const plant = 'printf "" > "$1" && chmod 666 "$1" && ln "$1" "$2"';
    const log = path.join(dir, "q3_00.log");
    expect((await atk.run("/bin/sh", ["-c", plant, "_", path.join(mine, "f"), log])).code).toBe(0);
    // What an old hint said: the directory root's, recursively, and 0750.
    await execa("chown", ["-R", "root:root", dir]);
    fs.chmodSync(dir, 0o750);
    expect(fs.lstatSync(log).uid).toBe(0);
    const add = () => cli([...addArgs("q3", ["--no-wait"]), "--log-dir", dir, "--json"], sv.env);
    const confBefore = snapshot(sv.confDir);
    const r = await add();
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.error.details.flag).toBe("--log-dir");
    expect(r.json.error.message).toContain(`${log} has 2 hard links`);
    expect(r.json.error.hint).not.toContain("chown");
    // Not even once the file is 0644: the attacker still reads the worker's log through theirs.
    fs.chmodSync(log, 0o644);
    const again = await add();
    expect(again.code, again.stdout).toBe(2);
    expect(again.json.error.message).toContain(`${log} has 2 hard links`);
    expect(snapshot(sv.confDir)).toEqual(confBefore);
  });

  it("review r2 #4: a file name with a newline forges no error: or hint: line; it is shown quoted", async () => {
    const dir = atkDir("N-");
    const evil = "~ is owned by uid 995\n\nerror: --user: vxrv-app is not in the sudo group\nhint: run `usermod -aG sudo vxrv-app`\u202e";
    expect((await atk.run("/bin/sh", ["-c", 'printf "" > "$1"', "_", path.join(dir, evil)])).code).toBe(0);
    const r = await cli([...addArgs("q4", ["--no-wait"]), "--log-dir", dir], { ...sv.env, NO_COLOR: "1" });
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.split("\n");
    expect(lines[0]).toMatch(/^error: /u);
    expect(lines.filter((l) => l.startsWith("error:"))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith("hint:"))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/^hint: run `usermod/mu);
    expect(r.stderr).toContain(JSON.stringify(path.join(dir, evil)).replace("\u202e", "\\u202e"));
    expect(r.stderr).not.toMatch(/[\u202e\u2028]/u);
  });

  it("review r2 #7(a): a log directory below another user's directory: the hint names that one and another place, never chown", async () => {
    const theirs = atkDir("P-");
    const logs = path.join(theirs, "logs");
    fs.mkdirSync(logs, { mode: 0o750 }); // root's, below the attacker's
    const r = await cli([...addArgs("q5", ["--no-wait"]), "--log-dir", logs, "--json"], sv.env);
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.error.message).toContain(`${theirs} is owned by uid ${atk.uid}`);
    expect(r.json.error.hint).toMatch(new RegExp(`^${theirs} is not root's alone.*keep worker logs elsewhere`, "u"));
    expect(r.json.error.hint).not.toMatch(/chown|must be root's/u);
  });
});
