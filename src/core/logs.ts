import fs from "node:fs";
import { invalid, VexoError } from "../errors.js";
import { type LayoutOptions, resolveLayout } from "./layout.js";
import { readPrograms } from "./workers.js";

const CHUNK = 64 * 1024;

/**
 * The last `n` lines of a file, read backwards from its end in 64 KiB chunks, so the cost
 * depends on n and line length, never on the file's size. A last line without a newline
 * counts as a line; CRLF endings lose their CR; a missing file gives no lines.
 */
export function tailLines(file: string, n: number): string[] {
  if (n <= 0) return [];
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new VexoError("io_error", `cannot read ${file}: ${(e as Error).message}`, { hint: "run with sudo" });
  }
  try {
    const size = fs.fstatSync(fd).size;
    let pos = size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    // One newline more than lines wanted marks where the first wanted line starts.
    while (pos > 0 && newlines <= n) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, pos);
      chunks.unshift(buf);
      for (let i = 0; i < len; i++) if (buf[i] === 0x0a) newlines++;
    }
    let text = Buffer.concat(chunks).toString("utf8");
    if (text.endsWith("\n")) text = text.slice(0, -1);
    if (text === "" && size === 0) return [];
    const lines = text.split("\n");
    if (pos > 0) lines.shift(); // partial first line of the window
    return lines.slice(-n).map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  } finally {
    fs.closeSync(fd);
  }
}

export interface LogLine {
  process: string;
  line: string;
}

export interface LogsOptions extends LayoutOptions {
  name?: string | undefined;
  lines: number;
  process?: number | undefined;
}

export interface LogsResult {
  files: { process: string; path: string }[];
  lines: LogLine[];
}

/** Log files of a worker (or supervisord's own), only ever those its config names. */
export function logFiles(opts: LogsOptions): { process: string; path: string }[] {
  const layout = resolveLayout(opts);
  if (!opts.name) return [{ process: "supervisord", path: layout.supervisordLog }];
  const entry = readPrograms(layout).find((e) => e.name === opts.name);
  if (!entry) {
    throw new VexoError("not_found", `no program named ${opts.name} in ${layout.confDir}`, { hint: "see `vexo-sv worker ls`" });
  }
  if (entry.logs.length === 0) {
    throw new VexoError("not_found", `${opts.name} does not log to a file named in its config (stdout_logfile)`, {
      hint: `use \`supervisorctl -c ${layout.config} tail ${opts.name}\``,
    });
  }
  let files = entry.logs.map((p, i) => ({
    process: entry.logs.length > 1 || entry.numprocs > 1 ? `${entry.name}_${String(i).padStart(2, "0")}` : entry.name,
    path: p,
  }));
  if (opts.process !== undefined) {
    const f = files[opts.process];
    if (!f) {
      throw invalid("--process", `${opts.name} has no process ${opts.process}; it has ${files.length} (0-${files.length - 1})`);
    }
    files = [f];
  }
  return files;
}

/** The last lines of each log file, labelled with their process. */
export function readLogs(opts: LogsOptions): LogsResult {
  const files = logFiles(opts);
  const lines: LogLine[] = [];
  for (const f of files) for (const line of tailLines(f.path, opts.lines)) lines.push({ process: f.process, line });
  return { files, lines };
}
