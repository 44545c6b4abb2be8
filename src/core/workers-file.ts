import fs from "node:fs";
import { invalid, VexoError } from "../errors.js";
import { ioError } from "./fsutil.js";
import { readRegularFile } from "./safe-files.js";
import { untrustedReason } from "./trust.js";

// The workers file `apply` reads (a path, or `-` for standard input): what runs on this host.

/** The most a workers file may hold (some thousand workers). */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * The text of a workers file (`-`: standard input). It says what runs on this host, so when
 * vexo-sv runs as root it must be a regular file that only root can have written (its owner and
 * every directory above it): one another user can change would let them choose what root starts.
 */
export async function readWorkersFile(file: string): Promise<string> {
  if (file === "-") return readStdin();
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw invalid("file", `${file} does not exist`);
    throw ioError("read", file, e);
  }
  const euid = process.geteuid?.() ?? 0;
  const why = untrustedReason(real, { trustedUids: euid === 0 ? [0] : [0, euid] });
  if (why)
    throw new VexoError("unsafe_file", `${why}: a workers file decides what runs; only root may be able to change it`, {
      details: { file },
    });
  try {
    return readRegularFile(real, MAX_FILE_BYTES);
  } catch (e) {
    throw ioError("read", file, e);
  }
}

/**
 * Standard input, at most MAX_FILE_BYTES. Read as a stream: on a pipe or terminal that is
 * non-blocking (another program may have made it so) a read with nothing there yet waits for
 * data instead of failing with EAGAIN, and waiting costs no CPU.
 */
async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of process.stdin) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      total += b.length;
      // Leaving the loop destroys the stream: nothing more is read.
      if (total > MAX_FILE_BYTES) throw invalid("file", `standard input holds more than ${MAX_FILE_BYTES} bytes`);
      parts.push(b);
    }
  } catch (e) {
    if (e instanceof VexoError) throw e;
    throw ioError("read", "standard input", e);
  }
  return Buffer.concat(parts).toString("utf8");
}
