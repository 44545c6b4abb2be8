import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { VexoError } from "../errors.js";
import { shownPath, TrustError } from "./trust.js";
import { mkdirMode, openLockFile, readRegularFile, writeFileExclusive } from "./safe-files.js";

// Files and directories as root writes them: every mode explicit whatever the umask, no
// symlink followed where vexo-sv creates or locks, temp files exclusive and out of every glob.

/** Prefix of temp files; a leading dot keeps them out of every supervisord include glob. */
const TMP_PREFIX = ".vexo-sv-tmp-";

/** A file-system failure as the error a caller reports: a planted file is unsafe_file, the rest by errno. */
export function ioError(what: string, fileIn: string, e: unknown): VexoError {
  const file = shownPath(fileIn); // a path may hold a newline that would forge a line of the message
  if (e instanceof TrustError && e.code !== "io" && e.code !== "not_found") {
    return new VexoError("unsafe_file", `cannot ${what} ${file}: ${e.message}`, { details: { file: e.path } });
  }
  const err = (e instanceof TrustError && e.cause ? e.cause : e) as NodeJS.ErrnoException;
  const code = err.code ?? "";
  if (code === "EACCES" || code === "EPERM") {
    return new VexoError("permission_denied", `cannot ${what} ${file}: permission denied`, {
      hint: "run with sudo (the program directory belongs to root)",
    });
  }
  if (code === "EROFS") return new VexoError("io_error", `cannot ${what} ${file}: read-only file system`);
  if (code === "ENOSPC") return new VexoError("io_error", `cannot ${what} ${file}: no space left on device`);
  return new VexoError("io_error", `cannot ${what} ${file}: ${err.message}`);
}

/** Reads a regular file (never through a symlink, never a FIFO that would hang), or null if it does not exist. */
export function readIfExists(file: string): string | null {
  try {
    return readRegularFile(file);
  } catch (e) {
    if (e instanceof TrustError && e.code === "not_found") return null;
    throw ioError("read", file, e);
  }
}

/**
 * Writes a file atomically: a dotfile temp in the same directory (so supervisord never
 * reads it), fsync, then rename over the target. A reader sees the old bytes or the new.
 */
export function writeAtomic(file: string, content: string, mode = 0o644): void {
  const tmp = path.join(path.dirname(file), `${TMP_PREFIX}${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}`);
  try {
    // Created exclusively (never through a symlink), written, given exactly `mode`, synced.
    writeFileExclusive(tmp, content, mode);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw ioError("write", file, e);
  }
}

export function removeFile(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw ioError("remove", file, e);
  }
}

/**
 * Worker logs are the workers' output (job payloads, exceptions, at times a secret): a log
 * directory vexo-sv creates lets in its owner and group only (supervisord writes there as root).
 */
export const LOG_DIR_MODE = 0o750;

/** Makes DIR and any missing parents, each created with exactly `mode` (existing ones are left as they are). */
export function ensureDir(dir: string, mode = 0o755): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirMode(d, mode);
    } catch (e) {
      throw ioError("create directory", d, e);
    }
  }
}

/** Removes temp files that a killed run left behind (call with the lock held). */
export function sweepTempFiles(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(TMP_PREFIX)) fs.rmSync(path.join(dir, n), { force: true });
}

/** A held lock; release() is also implied by process exit, however it dies. */
export interface Lock {
  release(): void;
}

/**
 * Takes an exclusive lock on DIR/.vexo-sv.lock. The kernel's flock(2) does the locking, through
 * util-linux's `flock` on a descriptor we pass it: the lock belongs to our open file, so it
 * lasts until we close it or the process dies (even by SIGKILL). No stale lock can outlive
 * its owner, so no lock-breaking heuristics are needed.
 */
export async function acquireLock(dir: string, waitSeconds: number): Promise<Lock> {
  const file = path.join(dir, ".vexo-sv.lock");
  let fd: number;
  try {
    // A regular file of ours, 0600, never through a symlink: a planted one is refused.
    fd = openLockFile(file);
  } catch (e) {
    throw ioError("open the lock file", file, e);
  }
  const r = await execa("flock", ["--exclusive", "--wait", String(waitSeconds), "3"], {
    // execa passes a numeric fd through to the child at runtime; its types only allow that for fd 0-2.
    stdio: ["ignore", "pipe", "pipe", fd] as unknown as ["ignore", "pipe", "pipe"],
    reject: false,
  });
  if (r.exitCode !== 0) {
    fs.closeSync(fd);
    if ((r as { code?: string }).code === "ENOENT") {
      throw new VexoError("internal", "the flock command (util-linux) is missing", { hint: "apt-get install util-linux" });
    }
    throw new VexoError("lock_timeout", `another vexo-sv run held ${file} for more than ${waitSeconds}s`);
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      fs.closeSync(fd);
    },
  };
}
