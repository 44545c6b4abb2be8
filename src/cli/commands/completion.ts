import { Argument } from "commander";
import { type Ctx, layoutOf } from "../context.js";
import { commandModel, SHELLS, type Shell, type VexoCommand as Command } from "../model.js";

export function registerCompletion(program: Command, ctx: Ctx): void {
  program
    .command("completion")
    .description("print the shell completion script for bash, zsh or fish")
    .examples("vexo-sv completion bash > /usr/share/bash-completion/completions/vexo-sv")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(SHELLS))
    .action(async (shell: Shell) => {
      const { completionScript } = await import("../completion.js");
      const script = completionScript(shell, commandModel(program));
      ctx.result = { data: { shell, script }, human: () => process.stdout.write(script) };
    });

  // For the completion scripts: worker names, one a line, from the program files alone (no
  // supervisorctl, no colour), and nothing at all when they cannot be read.
  program.command("__complete-workers", { hidden: true }).action(async () => {
    try {
      const { resolveLayout } = await import("../../core/layout.js");
      const { readPrograms } = await import("../../core/list.js");
      const names = readPrograms(resolveLayout(layoutOf(ctx.globals))).map((e) => e.name);
      if (names.length) process.stdout.write(`${names.join("\n")}\n`);
    } catch {
      // nothing to offer
    }
  });
}
