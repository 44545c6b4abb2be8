import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { VexoError } from "../errors.js";
import { writeFileExclusive } from "./safe-files.js";
import { shownPath, untrustedReason } from "./trust.js";

// The config supervisorctl reads when vexo-sv sends it to a server its main config does not name
// (endpoint.ts): `[supervisorctl]` and the password, which never goes into argv (world-readable in
// /proc/PID/cmdline) nor the environment. It lives for one call, in a directory made for it
// (mkdtemp: a new name, mode 0700, the caller's: root-only when vexo-sv runs as root) below a
// directory no other user can rename it out of, created O_EXCL|O_NOFOLLOW with mode 0600, and is
// removed as soon as supervisorctl has exited (docs/security.md).

const PREFIX = "vexo-sv-ctl-";

/** A directory to make the private one in: the temp directory, else /tmp, if no other user controls it or anything above it. */
function parentDir(): string {
  const trustedUids = [0, process.geteuid?.() ?? 0];
  const reasons: string[] = [];
  for (const dir of [...new Set([os.tmpdir(), "/tmp"])]) {
    // A name not made yet: its directory is judged as an ancestor (a root-owned sticky /tmp is fine).
    // A random one: a fixed name is one anyone can create in /tmp, and theirs would refuse every call.
    const why = untrustedReason(path.join(dir, `${PREFIX}${randomBytes(12).toString("hex")}`), { trustedUids });
    if (why === undefined) return dir;
    reasons.push(why);
  }
  throw new VexoError("unsafe_file", `no private place for supervisorctl's password: ${reasons.join("; ")}`, {
    hint: "point TMPDIR at a directory only root (or you) can write",
  });
}

/** Makes the private directory and the config in it; its path, and how to remove both. */
export function writeCtlConfig(text: string): { file: string; remove: () => void } {
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(parentDir(), PREFIX));
  } catch (e) {
    if (e instanceof VexoError) throw e;
    throw new VexoError("io_error", `cannot make a private directory for supervisorctl's config: ${(e as Error).message}`);
  }
  const file = path.join(dir, "supervisorctl.conf");
  const remove = () => {
    fs.rmSync(file, { force: true });
    try {
      fs.rmdirSync(dir);
    } catch {
      // gone already, or someone put something in it: left as it is
    }
  };
  try {
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || st.uid !== process.geteuid?.() || (st.mode & 0o077) !== 0) {
      throw new VexoError("unsafe_file", `${shownPath(dir)} is not a private directory of this user`);
    }
    writeFileExclusive(file, text, 0o600);
    return { file, remove };
  } catch (e) {
    remove();
    if (e instanceof VexoError) throw e;
    throw new VexoError("io_error", `cannot write supervisorctl's private config in ${shownPath(dir)}: ${(e as Error).message}`);
  }
}

/** Runs `fn` with the private config in place, and removes it once fn has settled (whatever it did). */
export async function withCtlConfig<T>(text: string, fn: (file: string) => Promise<T>): Promise<T> {
  const { file, remove } = writeCtlConfig(text);
  try {
    return await fn(file);
  } finally {
    remove();
  }
}
