import { describe, expect, it } from "vitest";
import { findCommand, flagMapper, buildProgram } from "../../src/cli/program.js";
import { issuePath, parse } from "../../src/cli/validate.js";
import { suggestName, type WorkerSpecInput, workerSpecSchema, workersFileSchema } from "../../src/core/spec.js";
import { VexoError } from "../../src/errors.js";

// src/core/spec.ts: the worker spec and the workers file as zod schemas, refusing what must not
// reach a program file, each refusal naming its flag or its place in the file.

const validateSpec = (input: WorkerSpecInput) => parse(workerSpecSchema, input);
/** The flag of `worker add` that a spec field comes from, as the CLI names it in errors. */
const flagOfAdd = flagMapper(findCommand(buildProgram(), "worker add"));

const base = { name: "app-queue", path: "/var/www/app" };

// Hostile values: each must be refused with a message naming its flag.
const hostile: [string, WorkerSpecInput, string][] = [
  ["newline in queue", { ...base, queue: "default\ncommand=/bin/sh" }, "--queue"],
  ["CR in path", { ...base, path: "/var/www/app\r" }, "--path"],
  ["section in env", { ...base, env: { X: "a\n[program:evil]" } }, "--env"],
  ["NUL in php", { ...base, php: "php\u0000" }, "--php"],
  ["inline comment ;", { ...base, queue: "a ;b" }, "--queue"],
  ["inline comment #", { ...base, queue: "a#b" }, "--queue"],
  ["double quote", { ...base, path: '/srv/a"b' }, "--path"],
  ["backslash", { ...base, env: { X: "a\\b" } }, "--env"],
  ["slash in name", { ...base, name: "../etc" }, "--name"],
  ["colon in name", { ...base, name: "a:b" }, "--name"],
  ["empty name", { ...base, name: "" }, "--name"],
  ["relative path", { ...base, path: "var/www" }, "--path"],
  ["10,000 characters", { ...base, queue: "q".repeat(10000) }, "--queue"],
  ["procs 0", { ...base, procs: 0 }, "--procs"],
  ["procs not a number", { ...base, procs: "three" }, "--procs"],
  ["procs with exponent", { ...base, procs: "1e1" }, "--procs"],
  ["negative sleep", { ...base, sleep: "-1" }, "--sleep"],
  ["stopwaitsecs below timeout", { ...base, timeout: 100, stopwaitsecs: 100 }, "--stopwaitsecs"],
  ["stopwaitsecs below Laravel's default timeout", { ...base, stopwaitsecs: 30 }, "--stopwaitsecs"],
  ["bad env key", { ...base, env: ["1X=a"] }, "--env"],
  ["env without =", { ...base, env: ["JUSTKEY"] }, "--env"],
  ["connection with space", { ...base, connection: "my conn" }, "--connection"],
  ["user with space", { ...base, user: "www data" }, "--user"],
  ["empty queue", { ...base, queue: "a,,b" }, "--queue"],
  ["php relative path", { ...base, php: "bin/php" }, "--php"],
  ["tab in queue", { ...base, queue: "a\tb" }, "--queue"],
];

describe("hostile values are refused, naming the flag", () => {
  it.each(hostile)("%s", (_label, input, flag) => {
    let err: unknown;
    try {
      validateSpec(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VexoError);
    expect((err as VexoError).exitCode).toBe(2);
    expect(flagOfAdd(String((err as VexoError).details?.field))).toBe(flag);
  });
});

describe("helpers", () => {
  it.each([
    ["my app", "my-app"],
    ["../etc/passwd", "etc-passwd"],
    ["-lead", "lead"],
    ["a:b", "a-b"],
  ])("suggests a name for %j", (bad, good) => {
    expect(suggestName(bad)).toBe(good);
  });
});

describe("workers file schema and issue paths", () => {
  it("refuses an unknown key in a worker and in the file", () => {
    const bad = workersFileSchema.safeParse({ workers: [{ name: "w", path: "/srv/app", colour: "red" }] });
    expect(bad.success).toBe(false);
    const issue = bad.error?.issues[0];
    expect(issue?.code).toBe("unrecognized_keys");
    expect(issuePath(issue?.path ?? [], "colour")).toBe("workers[0].colour");
    expect(workersFileSchema.safeParse({ workers: [], extra: 1 }).success).toBe(false);
    expect(workersFileSchema.safeParse({ $schema: "./workers-file.json", workers: [] }).success).toBe(true);
  });
  it("spells nested paths as a reader finds them", () => {
    expect(issuePath(["workers", 3, "env"])).toBe("workers[3].env");
    expect(issuePath(["workers"])).toBe("workers");
    expect(issuePath([])).toBe("file");
  });
});
