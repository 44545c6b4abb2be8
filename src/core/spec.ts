import path from "node:path";
// zod/mini: the same validation core as `zod`, without the method-per-schema objects that make
// the classic API cost ~15 ms to load and build on every mutating command.
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { DEFAULTS, NAME_RE, nameProblem, unsafeReason } from "./rules.js";

// zod/mini carries no messages of its own: English ones for the issues the rules below do not
// word themselves ("expected array, received undefined").
z.config(en());

/** A string refined by unsafeReason plus an optional extra rule. */
function safeString(opts: { spaces?: boolean; max?: number; rule?: (v: string) => string | undefined } = {}) {
  return z.string().check(
    z.superRefine((v, ctx) => {
      const reason = unsafeReason(v, opts) ?? opts.rule?.(v);
      if (reason) ctx.addIssue({ code: "custom", message: reason });
    }),
  );
}

/** A whole number in [min, max], from a number or a string of digits (no signs, no exponents). */
/** A duration as people write it (90s, 15m, 1h, 1h30m, or plain seconds) to seconds, within [min, max] seconds. */
export function durationInRange(min: number, max: number) {
  return z.pipe(
    z.string(),
    z.transform((v: string, ctx) => {
      const m = /^(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,9})s?)?$/u.exec(v);
      const n = m && v !== "" ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) : Number.NaN;
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.issues.push({
          code: "custom",
          input: v,
          message: `must be a duration from ${min}s to ${max / 3600}h, such as 90s, 15m, 1h or 1h30m (got ${JSON.stringify(v.slice(0, 40))})`,
        });
        return z.NEVER;
      }
      return n;
    }),
  );
}

export function intInRange(min: number, max: number) {
  return z.pipe(
    z.pipe(
      z.union([z.number(), z.string()]),
      z.transform((v: number | string, ctx) => {
        const n = typeof v === "number" ? v : /^\d{1,12}$/u.test(v) ? Number(v) : Number.NaN;
        if (!Number.isInteger(n) || n < min || n > max) {
          ctx.issues.push({
            code: "custom",
            input: v,
            message: `must be a whole number from ${min} to ${max} (got ${JSON.stringify(String(v).slice(0, 40))})`,
          });
          return z.NEVER;
        }
        return n;
      }),
    ),
    z.int().check(z.minimum(min), z.maximum(max)),
  );
}

/** A valid spelling close to a bad worker name, for the error message. */
export function suggestName(bad: string): string | undefined {
  const s = bad
    .replace(/[^A-Za-z0-9._-]+/gu, "-")
    .replace(/-{2,}/gu, "-")
    .replace(/^[^A-Za-z0-9]+/u, "")
    .slice(0, 64)
    .replace(/[-.]+$/u, "");
  return s && NAME_RE.test(s) ? s : undefined;
}

export const nameSchema = z.string().check(
  z.superRefine((v, ctx) => {
    const problem = nameProblem(v);
    if (!problem) return;
    const hint = NAME_RE.test(v) ? undefined : suggestName(v);
    ctx.addIssue({ code: "custom", message: `${problem}${hint ? `; try "${hint}"` : ""}` });
  }),
);

export const pathSchema = z.pipe(
  z.pipe(
    safeString({
      spaces: true,
      max: 4096,
      rule: (v) =>
        path.isAbsolute(v) ? undefined : "must be an absolute path (the CLI resolves a relative one against the working directory)",
    }),
    z.transform((v: string) => (v === "/" ? v : path.normalize(v).replace(/\/+$/u, ""))),
  ),
  z.string(),
);

// Not starting with "-": the connection is a positional argument of queue:work, and "--force" there is an option.
const CONNECTION_RE = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}$/u;
export const connectionSchema = z
  .string()
  .check(
    z.regex(CONNECTION_RE, "must be a connection name from config/queue.php: 1-64 letters, digits, '.', '_' or '-', not starting with '-'"),
  );

/** Queue names: comma-separated, each non-empty, no whitespace. */
export const queueSchema = z.pipe(
  z.pipe(
    z.union([z.string(), z.array(z.string())]),
    z.transform((v: string | string[]) => (Array.isArray(v) ? v : v.split(","))),
  ),
  z.array(z.string()).check(
    z.superRefine((queues, ctx) => {
      if (queues.length === 0 || queues.length > 32) {
        ctx.addIssue({ code: "custom", message: "must name 1 to 32 queues, separated by commas" });
        return;
      }
      for (const q of queues) {
        const reason = unsafeReason(q, { max: 255 }) ?? (q.includes(",") ? "must not contain a comma" : undefined);
        if (reason) {
          ctx.addIssue({
            code: "custom",
            message: `queue ${JSON.stringify(q)} ${reason}; give names separated by commas, e.g. high,default`,
          });
          return;
        }
      }
    }),
  ),
);

export const phpSchema = safeString({
  spaces: true,
  max: 4096,
  rule: (v) =>
    path.isAbsolute(v) || /^[A-Za-z0-9._+][A-Za-z0-9._+-]*$/u.test(v)
      ? undefined
      : "must be a command name found on supervisord's PATH (like php or php8.2) or an absolute path",
});

export const userSchema = z
  .string()
  .check(z.regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/u, "must be a system user name (letters, digits, '_', '.', '-'; at most 32)"));

export const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/u;

/** `KEY=VALUE` strings (repeatable flag) or an object, to a record. */
export const envSchema = z.pipe(
  z.pipe(
    z.union([z.array(z.string()), z.record(z.string(), z.string())]),
    z.transform((v: string[] | Record<string, string>, ctx) => {
      const fail = (message: string) => {
        ctx.issues.push({ code: "custom", input: v, message });
        return z.NEVER;
      };
      const pairs: [string, string][] = Array.isArray(v)
        ? v.map((kv) => {
            const i = kv.indexOf("=");
            return i < 0 ? [kv, "\u0000missing"] : [kv.slice(0, i), kv.slice(i + 1)];
          })
        : Object.entries(v);
      const out: Record<string, string> = {};
      for (const [k, val] of pairs) {
        if (val === "\u0000missing") return fail(`${JSON.stringify(k.slice(0, 40))} must be KEY=VALUE`);
        if (!ENV_KEY_RE.test(k)) {
          return fail(`key ${JSON.stringify(k.slice(0, 40))} must be letters, digits and "_", not starting with a digit`);
        }
        // An empty value is legitimate (KEY=); otherwise the usual rules, and no quote at either
        // end: supervisord strips quotes from both ends of each environment= value.
        const reason =
          val === ""
            ? undefined
            : (unsafeReason(val, { spaces: true, max: 4096 }) ?? (/^'|'$/u.test(val) ? "must not start or end with '" : undefined));
        if (reason) return fail(`value of ${k} ${reason}`);
        if (k in out) return fail(`${k} is given twice`);
        out[k] = val;
      }
      return out;
    }),
  ),
  z.record(z.string(), z.string()),
);

/** Laravel's default `--timeout` when none is given; stopwaitsecs must exceed it. */
export const LARAVEL_DEFAULT_TIMEOUT = 60;

/** The fields of a worker, each with its rule and default. */
const workerFields = {
  name: nameSchema,
  path: pathSchema,
  connection: z._default(connectionSchema, DEFAULTS.connection),
  queue: z._default(queueSchema, [DEFAULTS.queue]),
  procs: z._default(intInRange(1, 100), DEFAULTS.procs),
  php: z._default(phpSchema, DEFAULTS.php),
  user: z._default(z.nullable(userSchema), DEFAULTS.user),
  sleep: z._default(intInRange(0, 3600), DEFAULTS.sleep),
  tries: z._default(intInRange(0, 1000), DEFAULTS.tries),
  maxTime: z._default(intInRange(0, 604800), DEFAULTS.maxTime),
  timeout: z.optional(intInRange(0, 86400)),
  memory: z.optional(intInRange(1, 1048576)),
  backoff: z.optional(intInRange(0, 86400)),
  maxJobs: z.optional(intInRange(0, 1000000000)),
  stopwaitsecs: z._default(intInRange(1, 604800), DEFAULTS.stopwaitsecs),
  startsecs: z._default(intInRange(1, 600), DEFAULTS.startsecs),
  logMaxMb: z._default(intInRange(0, 10240), DEFAULTS.logMaxMb),
  logBackups: z._default(intInRange(0, 100), DEFAULTS.logBackups),
  forceMaintenance: z._default(z.boolean(), false),
  env: z._default(envSchema, {}),
};

/** The names of a worker's fields, in the order they are documented. */
export const WORKER_FIELDS = Object.keys(workerFields) as (keyof typeof workerFields)[];

/** stopwaitsecs must exceed the job timeout, or supervisord kills a worker mid-job. */
const stopwaitAboveTimeout = z.superRefine((s: { timeout?: number | undefined; stopwaitsecs: number }, ctx) => {
  const timeout = s.timeout ?? LARAVEL_DEFAULT_TIMEOUT;
  // timeout=0 disables Laravel's job timeout; stopwaitsecs then bounds the job alone.
  if (timeout > 0 && s.stopwaitsecs <= timeout) {
    ctx.addIssue({
      code: "custom",
      path: ["stopwaitsecs"],
      message: `must be greater than the job timeout (${timeout}${s.timeout === undefined ? ", Laravel's default" : ""}) so that supervisord never kills a worker mid-job`,
    });
  }
});

/** Everything that defines a worker; the program file is rendered from this alone. */
export const workerSpecSchema = z.object(workerFields).check(stopwaitAboveTimeout);

/** A worker in a workers file (`apply`): the same fields and rules, and an unknown key is an error. */
export const workerEntrySchema = z.strictObject(workerFields).check(stopwaitAboveTimeout);

/** A workers file: what should run on this host. `$schema` lets an editor check it. */
export const workersFileSchema = z.strictObject({
  $schema: z.optional(z.string()),
  workers: z.array(workerEntrySchema),
});

export type WorkerSpecInput = z.input<typeof workerSpecSchema>;
export type WorkerSpec = z.output<typeof workerSpecSchema>;
