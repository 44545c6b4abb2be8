import { describe, expect, it } from "vitest";
import { outputFlags, restAsOperands } from "../../src/cli/globals.js";

// src/cli/globals.ts: what is read off argv before commander, and the command line after
// `--exec`, which is another program's and never vexo-sv's options.

describe("a rest flag", () => {
  it.each([
    [
      ["alerts", "enable", "--exec", "curl", "--config", "/etc/x", "-q"],
      ["alerts", "enable", "--exec", "--", "curl", "--config", "/etc/x", "-q"],
    ],
    [
      ["alerts", "enable", "--heal", "--exec", "sh", "-c", "x --json"],
      ["alerts", "enable", "--heal", "--exec", "--", "sh", "-c", "x --json"],
    ],
    [
      ["alerts", "enable", "--exec", "--", "sh"],
      ["alerts", "enable", "--exec", "--", "sh"],
    ],
    [
      ["worker", "ls", "--json"],
      ["worker", "ls", "--json"],
    ],
    [
      ["x", "--", "--exec", "y"],
      ["x", "--", "--exec", "y"],
    ],
  ])("%j reads as %j", (argv, want) => {
    expect(restAsOperands(argv)).toEqual(want);
  });

  it("keeps the command's own flags from vexo-sv's output flags", () => {
    expect(outputFlags(restAsOperands(["alerts", "enable", "--exec", "curl", "--json", "-q", "--no-color"]))).toEqual({
      json: false,
      quiet: false,
      color: true,
    });
  });
});
