import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type Attacker, attackerSkipReason, chmodTreeGoW, chownTree, createAttacker, killFromPidfile } from "../helpers/attacker.js";
import { addArgs, BIN, cli, copyBuiltCli } from "../helpers/cli.js";

// docs/security.md, held: the main config and the config tree another user could have written
// (review after issue 24, findings 1, 3, 4, 6 and 7c). Root only; a throw-away user plays the attacker.

const skip = attackerSkipReason();

let atk: Attacker;
/** A directory the attacker can enter and read (not write). */
let tmp: string;

beforeAll(async () => {
  if (skip) return;
  atk = await createAttacker();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-ct-"));
  fs.chmodSync(tmp, 0o755);
}, 120_000);
afterAll(async () => {
  if (skip) return;
  await atk?.remove();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A program section appended to a main config, as the attacker writes it (the marker line kept). */
function program(marker: string): string {
  return `\n[program:cachewarm]\ncommand=/bin/sh -c "id > ${marker}"\nautorestart=false\nstartsecs=0\n`;
}

/** The built CLI as root with a bound of its own: a command that hangs is killed, and says so. */
async function bounded(args: string[], env: Record<string, string>): Promise<{ code: number; timedOut: boolean; out: string }> {
  const r = await execa("node", [BIN, ...args], { reject: false, env: { ...env, NO_COLOR: "1" }, stdin: "ignore", timeout: 60_000 });
  return { code: r.exitCode ?? -1, timedOut: Boolean(r.timedOut), out: `${String(r.stdout)}\n${String(r.stderr)}` };
}

describe.skipIf(skip !== undefined)("the main config and the config tree, as root, against another local user", () => {
  it("a private config the attacker edited (marker kept) is refused by install --prefix, also after root chowns the tree; the hint never says chown", async () => {
    const prefix = fs.mkdtempSync(path.join(tmp, "pa-"));
    fs.chmodSync(prefix, 0o755);
    const config = path.join(prefix, "supervisord.conf");
    const marker = path.join(tmp, "pwned-a");
    onTestFinished(() => killFromPidfile(prefix));
    expect((await cli(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    expect((await cli(["shutdown", "--json"], { VEXO_SV_CONFIG: config })).code).toBe(0);
    chownTree(prefix, atk.uid, atk.gid); // a mistaken deploy chown
    const edit = `printf '%s' "$2" >> "$1" && sed -i 's/^chmod=0700$/chmod=0700\\nchown=${atk.name}:${atk.name}/' "$1"`;
    expect((await atk.run("/bin/sh", ["-c", edit, "_", config, program(marker)])).code).toBe(0);
    expect(fs.readFileSync(config, "utf8").split("\n")[0]).toBe("; managed-by: vexo-sv");
    const first = await cli(["install", "--prefix", prefix, "--json"]);
    expect(first.code).toBe(2);
    expect(first.json.error.details.flag).toBe("--prefix");
    expect(first.json.error.hint).not.toMatch(/chown|chmod/u);
    expect(first.json.error.hint).toContain(`mv -T ${prefix} ${prefix}.untrusted`);
    expect(first.json.error.hint).toContain(`\`vexo-sv install --prefix ${prefix}\``);
    // Root does what the hint of before said: chown -R root:root, chmod -R go-w. Still refused.
    chownTree(prefix, 0, 0);
    chmodTreeGoW(prefix);
    const again = await cli(["install", "--prefix", prefix, "--json"]);
    expect(again.code, again.stdout).toBe(2);
    expect(again.json.error.details.paths).toEqual([config]);
    expect(again.json.error.message).toMatch(/supervisord\.conf: changed from what vexo-sv writes .*\[program:cachewarm\]/u);
    expect(again.json.error.message).toMatch(/\[unix_http_server\] chown is not a key vexo-sv writes/u);
    expect(again.json.error.hint).toMatch(/config was changed; if you did not change it, another user may have/u);
    expect(again.json.error.hint).not.toMatch(/chown|chmod/u);
    expect(fs.existsSync(path.join(prefix, "supervisor.sock"))).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
    // The fix the hint gives: move it aside, set it up anew.
    fs.renameSync(prefix, `${prefix}.untrusted`);
    expect((await cli(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    expect((await cli(["shutdown", "--json"], { VEXO_SV_CONFIG: config })).code).toBe(0);
    expect(fs.existsSync(marker)).toBe(false);
  }, 120_000);

  it("a private supervisord the attacker set up: every hint followed, their program never runs as root", async () => {
    const prefix = path.join(tmp, "pd");
    fs.mkdirSync(prefix, { mode: 0o755 });
    fs.chownSync(prefix, atk.uid, atk.gid);
    onTestFinished(() => killFromPidfile(prefix));
    const config = path.join(prefix, "supervisord.conf");
    const env = { VEXO_SV_CONFIG: config };
    const marker = path.join(tmp, "pwned-d");
    const entry = copyBuiltCli(fs.mkdtempSync(path.join(tmp, "atk-cli-")));
    fs.chmodSync(path.dirname(path.dirname(entry)), 0o755);
    const asAtk = (args: string[]) => atk.run("node", [entry, ...args], { env });
    expect((await asAtk(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    expect((await asAtk(["shutdown", "--json"])).code).toBe(0);
    await atk.run("/bin/sh", ["-c", 'printf "%s" "$2" >> "$1"', "_", config, program(marker)]);
    const add = await cli([...addArgs("w1", ["--no-wait"]), "--json"], env);
    expect(add.code).toBe(1);
    expect(add.json.error.code).toBe("unsafe_file");
    expect(add.json.error.hint).not.toMatch(/chown|chmod/u);
    expect(add.json.error.hint).toContain(`mv -T ${prefix} ${prefix}.untrusted`);
    expect(add.json.error.hint).toMatch(new RegExp(`\`vexo-sv install --prefix ${prefix}\`$`, "u"));
    // Root makes it all root's (what the hints of before led to, one path after another).
    chownTree(prefix, 0, 0);
    chmodTreeGoW(prefix);
    const after = await cli([...addArgs("w1", ["--no-wait"]), "--json"], env);
    expect(after.code).toBe(1);
    expect(after.json.error.code).toBe("unsafe_file");
    expect(after.json.error.details.paths).toEqual([config]);
    expect(after.json.error.message).toMatch(/changed from what vexo-sv writes .*\[program:cachewarm\] is not a section vexo-sv writes/u);
    const ls = await cli(["worker", "ls", "--json"], env);
    expect(ls.json.warnings.join(" ")).toMatch(/supervisord\.conf: changed from what vexo-sv writes/u);
    const install = await cli(["install", "--prefix", prefix, "--json"]);
    expect(install.code).toBe(2);
    expect(fs.existsSync(path.join(prefix, "supervisor.sock"))).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.existsSync(path.join(prefix, "conf.d/w1.conf"))).toBe(false);
  }, 120_000);

  it("a FIFO at conf.d/zz.conf hangs neither worker ls, status nor worker add: each ends with an error or a warning naming it", async () => {
    const prefix = fs.mkdtempSync(path.join(tmp, "ph-"));
    const config = path.join(prefix, "supervisord.conf");
    const env = { VEXO_SV_CONFIG: config };
    onTestFinished(async () => {
      await cli(["shutdown", "--json"], env);
      killFromPidfile(prefix);
    });
    expect((await cli(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    const fifo = path.join(prefix, "conf.d/zz.conf");
    await execa("mkfifo", ["-m", "0644", fifo]);
    for (const args of [["worker", "ls"], ["status"], addArgs("f1", ["--no-wait"])]) {
      const r = await bounded(args, env);
      expect(r.timedOut, args.join(" ")).toBe(false);
      expect(r.out, args.join(" ")).toMatch(/zz\.conf.*(not a regular file|a FIFO)/u);
    }
    const add = await bounded([...addArgs("f1", ["--no-wait"]), "--json"], env);
    expect(add.code).toBe(1);
    expect(JSON.parse(add.out.split("\n")[0] ?? "{}").error.code).toBe("unsafe_file");
    expect(fs.existsSync(path.join(prefix, "conf.d/f1.conf"))).toBe(false);
  }, 240_000);

  it("in a --config tree, a root-owned conf.d link to the attacker's file and a file of theirs are refused, both named at once; ls warns", async () => {
    const prefix = fs.mkdtempSync(path.join(tmp, "pl-"));
    const config = path.join(prefix, "supervisord.conf");
    onTestFinished(async () => {
      await cli(["shutdown", "--json"], { VEXO_SV_CONFIG: config });
      killFromPidfile(prefix);
    });
    expect((await cli(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    const theirs = path.join(tmp, "atk-zz.conf");
    fs.writeFileSync(theirs, "[program:zz]\ncommand=/bin/sleep 600\nautostart=false\n", { mode: 0o644 });
    fs.chownSync(theirs, atk.uid, atk.gid);
    const link = path.join(prefix, "conf.d/zz.conf");
    fs.symlinkSync(theirs, link);
    const owned = path.join(prefix, "conf.d/yy.conf");
    fs.writeFileSync(owned, "[program:yy]\ncommand=/bin/sleep 600\nautostart=false\n", { mode: 0o644 });
    fs.chownSync(owned, atk.uid, atk.gid);
    const r = await cli(["--config", config, ...addArgs("c1", ["--no-wait"]), "--json"]);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe("unsafe_file");
    expect(r.json.error.details.paths).toEqual([owned, link]);
    expect(r.json.error.message).toMatch(
      new RegExp(`zz\\.conf: a symbolic link to what another user controls: .*owned by uid ${atk.uid}`, "u"),
    );
    expect(r.json.error.message).toMatch(new RegExp(`yy\\.conf: owned by uid ${atk.uid}`, "u"));
    expect(r.json.error.hint).not.toMatch(/chown -R|chmod/u);
    expect(fs.existsSync(path.join(prefix, "conf.d/c1.conf"))).toBe(false);
    const ls = await cli(["--config", config, "worker", "ls", "--json"]);
    expect(ls.code).toBe(0);
    expect(ls.json.warnings.join(" ")).toContain(`${link}: a symbolic link to what another user controls`);
  }, 120_000);

  it("a file name with a newline in an attacker's prefix is shown quoted: it cannot forge an error: or hint: line", async () => {
    const prefix = path.join(tmp, "pn");
    fs.mkdirSync(prefix, { mode: 0o755 });
    fs.chownSync(prefix, atk.uid, atk.gid);
    const name = "~ is owned by uid 995\n\nerror: --user: www-data is not in the sudo group\nhint: run `usermod -aG sudo x`\u202e.conf";
    await atk.run("/bin/sh", ["-c", 'mkdir "$1/conf.d" && : > "$1/conf.d/$2"', "_", prefix, name]);
    const r = await cli(["install", "--prefix", prefix]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split("\n");
    expect(lines.filter((l) => /^\s*error:/u.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /^\s*hint:/u.test(l))).toHaveLength(1);
    expect(r.stderr).not.toContain("\u202e");
    expect(r.stderr).toContain(JSON.stringify(path.join(prefix, "conf.d", name)).replace("\u202e", "\\u202e"));
  }, 120_000);

  it("second review: a conf.d file with vexo-sv's marker that is not what vexo-sv writes is refused, also after a chown the hint said not to make", async () => {
    const prefix = fs.mkdtempSync(path.join(tmp, "forged-"));
    const marker = path.join(tmp, `forged-${path.basename(prefix)}`);
    onTestFinished(() => killFromPidfile(prefix));
    expect((await cli(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    expect((await cli(["shutdown", "--json"], { VEXO_SV_CONFIG: path.join(prefix, "supervisord.conf") })).code).toBe(0);
    // A mistaken deploy hands the tree to another user, who plants a program that claims to be vexo-sv's.
    chownTree(prefix, atk.uid, atk.gid);
    const forged = `; managed-by: vexo-sv\n[program:zz]\ncommand=/bin/sh -c "id > ${marker}"\nstartsecs=0\nautorestart=false\n`;
    const planted = await atk.run("/bin/sh", ["-c", 'cat > "$1"', "_", path.join(prefix, "conf.d", "zz.conf")], { input: forged });
    expect(planted.code, planted.stderr).toBe(0);
    // The admin chowns it back instead of moving it aside (what the hint says not to do).
    chownTree(prefix, 0, 0);
    chmodTreeGoW(prefix);
    const r = await cli(["install", "--prefix", prefix, "--json"]);
    expect(r.code, r.stdout).toBe(2);
    expect(r.json.error.message).toContain(path.join(prefix, "conf.d", "zz.conf"));
    expect(r.json.error.message).toMatch(/marker but is not a program file vexo-sv writes/u);
    expect(fs.existsSync(marker)).toBe(false);
    // A file vexo-sv did write passes the same check (a worker added, then install again).
    fs.rmSync(path.join(prefix, "conf.d", "zz.conf"));
    const env = { VEXO_SV_CONFIG: path.join(prefix, "supervisord.conf") };
    expect((await cli(["install", "--prefix", prefix, "--json"])).code).toBe(0);
    expect((await cli([...addArgs("real", ["--no-wait", "--env", "K=v"]), "--json"], env)).code).toBe(0);
    expect((await cli(["shutdown", "--json"], env)).code).toBe(0);
    const again = await cli(["install", "--prefix", prefix, "--json"]);
    expect(again.code, again.stdout).toBe(0);
    expect((await cli(["shutdown", "--json"], env)).code).toBe(0);
  }, 120_000);
});
