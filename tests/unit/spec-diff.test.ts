import { describe, expect, it } from "vitest";
import { workerSpecSchema } from "../../src/core/spec.js";
import { changesText, fieldChanges } from "../../src/core/spec-diff.js";

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

describe("changesText", () => {
  it("says each change as `field: old -> new`, lists joined, env values never shown", () => {
    const changes = fieldChanges(
      spec({ procs: 3, queue: ["default"], env: { A: "secret" } }),
      spec({ procs: 2, queue: ["high", "default"], env: { A: "other" } }),
    );
    expect(changesText(changes)).toBe("queue: default -> high,default, procs: 3 -> 2, env.A: (hidden) -> (hidden)");
    expect(changesText(fieldChanges(spec({ timeout: 30 }), spec()))).toBe("timeout: 30 -> (none)");
  });
});
