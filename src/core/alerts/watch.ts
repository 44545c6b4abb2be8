import type { ExitsResult, ProcessRef } from "../exits.js";
import { mainLogSource, readExits } from "../exits.js";
import { tailLines } from "../logs.js";
import { supervisordPid } from "../machine.js";
import { commandOf } from "../observe.js";
import type { ProcessGroup } from "../programs.js";
import { readPauseRecord } from "../records.js";
import { ALERTS_LISTENER } from "../rules.js";
import type { World } from "../world.js";

// What the listener knows of the programs it watches, read as every command reads them (the
// world), again when it may have changed: on each tick, and when an event names a group it does
// not know (at most every few seconds, so a flood of events reads nothing twice).

/** Read the world again at least this often. */
const STALE_MS = 60_000;
/** And no more often than this for an unknown group. */
const RETRY_MS = 2_000;
/** A log line in an alert is cut to this many characters. */
const MAX_ALERT_LINE = 4096;

export interface WatchOptions {
  readWorld(): World;
  /** Every program, not only vexo-sv's workers. */
  allPrograms: boolean;
  now(): number;
  log(line: string): void;
}

/** The last lines of a process's log, for an alert. */
export interface AlertLog {
  file: string | null;
  lines: string[];
  note?: string;
}

/** What the listener asks of the programs it watches (the Watch below; unit tests script one). */
export interface Watched {
  refresh(force?: boolean): void;
  group(name: string): Pick<ProcessGroup, "managed"> | undefined;
  watched(name: string): boolean;
  names(): Set<string>;
  noHeal(name: string): string | undefined;
  logTail(group: string, process: string, n: number): AlertLog;
  exits(group: string, process: string, windowMs: number): ExitsResult | null;
}

export class Watch implements Watched {
  private world: World | null = null;
  private groups = new Map<string, ProcessGroup>();
  private readAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: WatchOptions) {}

  /** Reads the world again (now, or only when stale); a failure keeps the last reading, and says why. */
  refresh(force = true): void {
    const now = this.opts.now();
    if (!force && now - this.readAt < STALE_MS) return;
    this.readAt = now;
    try {
      const world = this.opts.readWorld();
      this.groups = new Map(world.programs().map((g) => [g.name, g]));
      this.world = world;
    } catch (e) {
      this.opts.log(
        `cannot read supervisord's configuration (${e instanceof Error ? e.message : String(e)}); keeping what was read before`,
      );
    }
  }

  /** The group, read again first when it is not known (and the last reading is a few seconds old). */
  group(name: string): ProcessGroup | undefined {
    this.refresh(false);
    if (!this.groups.has(name) && this.opts.now() - this.readAt >= RETRY_MS) this.refresh();
    return this.groups.get(name);
  }

  /** Whether its events are alerted: a vexo-sv worker, or any program with allPrograms; never the listener itself. */
  watched(name: string): boolean {
    if (name === ALERTS_LISTENER) return false;
    const g = this.group(name);
    return g !== undefined && (g.managed || this.opts.allPrograms);
  }

  /** Every group known now (for the engine's pruning). */
  names(): Set<string> {
    return new Set(this.groups.keys());
  }

  /** Why a group may not be healed, or undefined: only a vexo-sv worker that is not paused is. */
  noHeal(name: string): string | undefined {
    const g = this.group(name);
    if (!g?.managed) return "not a vexo-sv worker";
    if (!this.world) return "supervisord's configuration could not be read";
    // Read now, not cached: a pause may have been recorded a moment ago.
    if (readPauseRecord(this.world.layout, name) !== null) return "paused (a pause record holds it; resume it to start it)";
    return undefined;
  }

  /** The last `n` lines of a process's log, read safely (no link, no FIFO, one hard link), each cut to 4 KiB. */
  logTail(group: string, process: string, n: number): AlertLog {
    const target = this.group(group)?.processes.find((p) => p.name === process)?.stdoutLogfile;
    if (target?.kind !== "file")
      return { file: null, lines: [], note: `its output goes to no file vexo-sv reads (${target?.kind ?? "unknown"})` };
    if (n === 0) return { file: target.path, lines: [] };
    try {
      const lines = tailLines(target.path, n, true).map((l) => (l.length > MAX_ALERT_LINE ? `${l.slice(0, MAX_ALERT_LINE)}...` : l));
      return { file: target.path, lines };
    } catch (e) {
      return { file: target.path, lines: [], note: `not read: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  /**
   * The process's exits in supervisord's own log within the window, newest first (null: not known).
   * Its log and level as the running supervisord took them, `-e` and `-l` on its command line
   * included: at debug it copies every worker's output into that log, where a line can pose as an exit.
   */
  exits(group: string, process: string, windowMs: number): ExitsResult | null {
    if (!this.world) return null;
    const world = this.world;
    const processes: ProcessRef[] = [...this.groups.values()].flatMap((g) => g.processes.map((p) => ({ group: g.name, name: p.name })));
    if (!processes.some((p) => p.group === group && p.name === process)) processes.push({ group, name: process });
    try {
      const source = mainLogSource(world, commandOf(supervisordPid(world.layout)));
      return readExits(source, { processes, now: this.opts.now(), windowMs });
    } catch {
      return null;
    }
  }
}
