// One vocabulary of process states: every state supervisord reports, and each subset vexo-sv
// asks about, named and defined here once (supervisor/states.py has the states; its
// RUNNING_STATES are ACTIVE here). Health, pause, report, control and convergence all use these.
//
// Two states are decided here for every module:
// - BACKOFF: the process exited before startsecs and supervisord will try again (FATAL follows
//   after startretries). It is an attempt that failed: wherever a verdict is asked for (the
//   health wait after a start, `status --check`), BACKOFF fails; where the question is whether
//   a process is doing or about to do work (pause, stop), it is ACTIVE.
// - STOPPING: on its way down (a stop or a restart is under way). It is never healthy, never
//   a failed start (something else is stopping it: wait until it settles), and not ACTIVE.

/** Every state supervisord reports for a process. */
export const PROCESS_STATES = ["STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"] as const;
export type ProcessState = (typeof PROCESS_STATES)[number];

const set = (...states: ProcessState[]): ReadonlySet<ProcessState> => new Set(states);

/** Up: running past startsecs (supervisord says RUNNING only then). */
export const UP = set("RUNNING");

/** Starting: spawned, within startsecs; no verdict yet. */
export const STARTING = set("STARTING");

/** Retrying: exited before startsecs, supervisord will try again (see BACKOFF above). */
export const RETRYING = set("BACKOFF");

/** Active: doing or about to do work; `start` answers "already started", a pause has something to stop (supervisord's RUNNING_STATES). */
export const ACTIVE = set("RUNNING", "STARTING", "BACKOFF");

/** Going down: a stop is under way (see STOPPING above). */
export const GOING_DOWN = set("STOPPING");

/** Down: not running and not coming back by itself; `start` brings it up. */
export const DOWN = set("STOPPED", "EXITED", "FATAL");

/** Unknown to supervisord's own bookkeeping (a bug state there): never healthy, never startable by vexo-sv. */
export const UNKNOWN = set("UNKNOWN");

/** A start that did not come up: anything but up, starting or going down. */
export const FAILED_START = set("BACKOFF", "STOPPED", "EXITED", "FATAL", "UNKNOWN");

/** Healthy for `status --check`: up, or starting (a process within its startsecs has not failed yet). */
export const HEALTHY = set("RUNNING", "STARTING");

/** The named subsets, for the table test and the docs. */
export const SUBSETS = { UP, STARTING, RETRYING, ACTIVE, GOING_DOWN, DOWN, UNKNOWN, FAILED_START, HEALTHY } as const;
