import { describe, expect, it } from "vitest";
import { earlyPlan } from "../../src/cli/early.js";

describe("earlyPlan: read-only calls known from argv alone", () => {
  const env = {};
  it.each([
    [["worker", "ls"], { config: undefined, verbs: ["status"] }],
    [["worker", "ls", "--json"], { config: undefined, verbs: ["status"] }],
    [["--json", "-q", "--no-color", "worker", "ls"], { config: undefined, verbs: ["status"] }],
    [["--config", "/x/s.conf", "worker", "ls"], { config: "/x/s.conf", verbs: ["status"] }],
    [["worker", "ls", "--config=/x/s.conf", "--conf-dir", "/y", "--log-dir=/z"], { config: "/x/s.conf", verbs: ["status"] }],
    [["status"], { config: undefined, verbs: ["version", "status"] }],
    [["status", "--check", "--json"], { config: undefined, verbs: ["version", "status"] }],
  ])("%j -> %j", (argv, want) => expect(earlyPlan(argv, env)).toEqual(want));

  it("takes VEXO_SV_CONFIG unless --config is given, as commander does", () => {
    expect(earlyPlan(["worker", "ls"], { VEXO_SV_CONFIG: "/env.conf" })?.config).toBe("/env.conf");
    expect(earlyPlan(["--config", "/flag.conf", "worker", "ls"], { VEXO_SV_CONFIG: "/env.conf" })?.config).toBe("/flag.conf");
  });

  it.each([
    [[]],
    [["--version"]],
    [["worker", "ls", "--help"]],
    [["worker", "ls", "-h"]],
    [["worker", "ls", "extra"]],
    [["worker", "ls", "--"]],
    [["worker", "ls", "--check"]],
    [["worker", "add", "--name", "a"]],
    [["worker", "rm", "a"]],
    [["worker", "restart", "--all"]],
    [["logs", "a"]],
    [["status", "-qh"]],
    [["worker", "ls", "--config"]],
    [["ls", "worker"]],
  ])("%j -> nothing early", (argv) => expect(earlyPlan(argv, env)).toBeNull());
});
