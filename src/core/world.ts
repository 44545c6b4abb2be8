import fs from "node:fs";
import { readIfExists } from "./fsutil.js";
import { findConfig } from "./config-path.js";
import { type Layout, type LayoutOptions, layoutOfMain, readMainConfig } from "./layout.js";
import { type ProcessGroup, readPrograms, supervisorConfig } from "./programs.js";
import { readFileStrict, type SupervisorConfig } from "./supervisord/read-config.js";

// One reading of the world per command: the layout, every file supervisord reads (each opened
// and parsed once: the main config's text read for the layout is the config reader's too), and
// the programs with their managed specs, built lazily, at most once. The command owns it (held on
// its SupervisordClient); nothing is kept between commands. A mutation still re-reads, under its lock, the one
// program file it changes (another run may have changed it meanwhile): that is not the world.

export class World {
  /** Every file read so far, by path, as read (the main config first). */
  private readonly texts = new Map<string, string>();
  private cfg: SupervisorConfig | undefined;
  private progs: ProcessGroup[] | undefined;
  private readonly real = new Map<string, string>();

  /** `mainText`: the main config's text when the layout was read from it (else it is read on first use). */
  constructor(
    readonly layout: Layout,
    mainText?: string,
  ) {
    if (mainText !== undefined) this.texts.set(layout.config, mainText);
  }

  /** Finds and reads the main config once, and works out the layout from that text. */
  static read(opts: LayoutOptions): World {
    const config = findConfig(opts.config);
    const text = readMainConfig(config);
    return new World(layoutOfMain(config, text, opts), text);
  }

  /** The main config's text as read for this command (a link followed); null when it is no regular file it can read. */
  mainText(): string | null {
    const known = this.texts.get(this.layout.config);
    if (known !== undefined) return known;
    try {
      const text = readFileStrict(this.layout.config);
      this.texts.set(this.layout.config, text);
      return text;
    } catch {
      return null;
    }
  }

  /** supervisord's whole configuration, read once. */
  config(): SupervisorConfig {
    return (this.cfg ??= supervisorConfig(this.layout, this.texts));
  }

  /** Every process group supervisord reads, with the managed specs, worked out once. */
  programs(): ProcessGroup[] {
    return (this.progs ??= readPrograms(this.layout, this.texts, this.config()));
  }

  /** The process group of that name, worked out alone when the others are not known yet (`logs NAME` at a thousand workers). */
  program(name: string): ProcessGroup | undefined {
    if (this.progs) return this.progs.find((e) => e.name === name);
    return readPrograms(this.layout, this.texts, this.config(), name).find((e) => e.name === name);
  }

  /**
   * After this command wrote `file` with `text` (under its lock): the world as it is now, from
   * what is in memory (the file is not read back; nothing else is read again).
   */
  wrote(file: string, text: string): void {
    this.texts.set(file, text);
    this.cfg = undefined;
    this.progs = undefined;
  }

  /**
   * A program file's text, or null when there is none: as this command read it when it is a
   * regular file itself (lstat: never a link), else read as readIfExists reads (no link followed,
   * no FIFO opened). Call after config(): the config reader reads every file the globs match.
   */
  ownFile(file: string): string | null {
    const known = this.texts.get(file);
    if (known !== undefined && isRegularFile(file)) return known;
    return readIfExists(file);
  }

  /** A path with its links resolved (the path itself when it cannot be), resolved once per command. */
  realPath(p: string): string {
    let r = this.real.get(p);
    if (r === undefined) {
      try {
        r = fs.realpathSync(p);
      } catch {
        r = p;
      }
      this.real.set(p, r);
    }
    return r;
  }
}

function isRegularFile(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}
