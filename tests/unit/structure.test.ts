import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { commandModel } from "../../src/cli/model.js";
import { buildProgram } from "../../src/cli/program.js";

// Checks on the shape of src/ that review alone would let slip: no import cycles (static or
// dynamic, type-only imports aside), no function longer than about 50 lines, and the core
// never printing, exiting or naming a flag.

const SRC = path.resolve(import.meta.dirname, "../../src");
const files = fs
  .readdirSync(SRC, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts"))
  .map((f) => path.join(SRC, f));
const parsed = new Map(files.map((f) => [f, ts.createSourceFile(f, fs.readFileSync(f, "utf8"), ts.ScriptTarget.ES2022, true)]));

/** Project files a file loads at run time: value imports, re-exports and import(). */
function runtimeImports(sf: ts.SourceFile): string[] {
  const out: string[] = [];
  const add = (spec: string) => {
    if (spec.startsWith(".")) out.push(path.resolve(path.dirname(sf.fileName), spec.replace(/\.js$/u, ".ts")));
  };
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n) && !n.importClause?.isTypeOnly && ts.isStringLiteral(n.moduleSpecifier)) add(n.moduleSpecifier.text);
    if (ts.isExportDeclaration(n) && !n.isTypeOnly && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier))
      add(n.moduleSpecifier.text);
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(n.arguments[0] as ts.Node)) {
      add((n.arguments[0] as ts.StringLiteral).text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Every cycle in the import graph, each as the chain of files. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const walk = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === "open") cycles.push([...stack.slice(stack.indexOf(g)), g]);
      else if (!state.has(g)) walk(g);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) walk(f);
  return cycles;
}

const rel = (f: string) => path.relative(SRC, f);

describe("structure of src/", () => {
  it("the cycle finder finds a cycle (so the next test can fail)", () => {
    expect(
      findCycles(
        new Map([
          ["a", ["b"]],
          ["b", ["c"]],
          ["c", ["a"]],
          ["d", []],
        ]),
      ),
    ).toEqual([["a", "b", "c", "a"]]);
  });

  it("has no import cycle", () => {
    const graph = new Map([...parsed].map(([f, sf]) => [f, runtimeImports(sf)]));
    expect(findCycles(graph).map((c) => c.map(rel).join(" -> "))).toEqual([]);
  });

  it("has no function over 50 lines (generated shell templates aside)", () => {
    const long: string[] = [];
    for (const [f, sf] of parsed) {
      if (rel(f) === "cli/completion.ts") continue; // the bash/zsh/fish script templates
      const visit = (n: ts.Node) => {
        if (ts.isFunctionLike(n) && "body" in n && n.body) {
          const start = sf.getLineAndCharacterOfPosition(n.getStart()).line;
          const end = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
          if (end - start + 1 > 50) long.push(`${rel(f)}:${start + 1} (${end - start + 1} lines)`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(long).toEqual([]);
  });

  it("the core never prints, exits, or loads kleur or commander", () => {
    const bad: string[] = [];
    for (const [f, sf] of parsed) {
      if (!rel(f).startsWith("core/")) continue;
      const text = sf.getFullText();
      for (const [what, re] of [
        ["console", /\bconsole\./u],
        ["process.exit", /process\.exit\b/u],
        ["stdout/stderr", /process\.std(out|err)/u],
        ["kleur", /from "kleur"/u],
        ["commander", /from "commander"/u],
      ] as const) {
        if (re.test(text)) bad.push(`${rel(f)}: ${what}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("the core's errors name fields, never one of the CLI's flags or commands", () => {
    const flags = new Set(commandModel(buildProgram()).flatMap((c) => c.flags.map((f) => f.long)));
    const bad: string[] = [];
    for (const [f, sf] of parsed) {
      if (!rel(f).startsWith("core/")) continue;
      const visit = (n: ts.Node) => {
        const callee = ts.isNewExpression(n) || ts.isCallExpression(n) ? n.expression.getText(sf) : "";
        if (callee === "VexoError" || callee === "invalid") {
          const args = (n as ts.CallExpression).arguments?.map((a) => a.getText(sf)).join(" ") ?? "";
          for (const flag of flags) if (new RegExp(`${flag}(?![\\w-])`, "u").test(args)) bad.push(`${rel(f)}: ${flag}`);
          if (/`vexo-sv [a-z]/u.test(args)) bad.push(`${rel(f)}: names a vexo-sv command`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(bad).toEqual([]);
  });
  it("has no src file over about 400 lines (those still waiting for their split listed)", () => {
    const waiting = new Set<string>([]);
    const big = [...parsed]
      .map(([f, sf]) => [rel(f), sf.getLineAndCharacterOfPosition(sf.getEnd()).line] as const)
      .filter(([f, lines]) => lines > 420 && !waiting.has(f))
      .map(([f, lines]) => `${f} (${lines} lines)`);
    expect(big).toEqual([]);
  });

  it("keeps no state in module globals: no top-level let or var, no top-level Map cache (those still to go listed)", () => {
    // A registry of commander's objects (a command's reading of the world lives on its SupervisordClient: core/world.ts).
    const known = new Set(["cli/command.ts: EXAMPLES"]);
    const bad: string[] = [];
    for (const [f, sf] of parsed) {
      for (const st of sf.statements) {
        if (!ts.isVariableStatement(st)) continue;
        const mutable = !(st.declarationList.flags & ts.NodeFlags.Const);
        for (const d of st.declarationList.declarations) {
          const init = d.initializer?.getText(sf) ?? "";
          const what = `${rel(f)}: ${d.name.getText(sf)}`;
          if ((mutable || /^new (Weak)?Map\b/u.test(init)) && !known.has(what)) bad.push(what);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
