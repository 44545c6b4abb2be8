import { describe, expect, it } from "vitest";
import { issuePath } from "../../src/cli/validate.js";
import { fieldChanges } from "../../src/core/apply.js";
import { workerSpecSchema, workersFileSchema } from "../../src/core/spec.js";

const spec = (extra: Record<string, unknown> = {}) => workerSpecSchema.parse({ name: "w", path: "/srv/app", ...extra });

describe("fieldChanges", () => {
  it("is empty for the same spec", () => {
    expect(fieldChanges(spec(), spec())).toEqual([]);
  });
  it("names each differing field with old and new, an absent optional as null", () => {
    expect(fieldChanges(spec({ procs: 2 }), spec({ procs: 3, memory: 256, queue: "high,default" }))).toEqual([
      { field: "queue", from: ["default"], to: ["high", "default"] },
      { field: "procs", from: 2, to: 3 },
      { field: "memory", from: null, to: 256 },
    ]);
  });
  it("names changed env keys and never their values", () => {
    const changes = fieldChanges(spec({ env: { A: "1", B: "x", C: "same" } }), spec({ env: { B: "y", C: "same", D: "new" } }));
    expect(changes).toEqual([
      { field: "env.A", from: "(hidden)", to: null },
      { field: "env.B", from: "(hidden)", to: "(hidden)" },
      { field: "env.D", from: null, to: "(hidden)" },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/"(1|x|y|new)"/u);
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
