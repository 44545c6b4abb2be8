import { Argument } from "commander";
import { SHELLS, type Shell } from "../model.js";
import { defineCommand } from "../command.js";

export default defineCommand({
  path: "completion",
  description: "print the shell completion script for bash, zsh or fish",
  examples: [
    "vexo-sv completion bash >> ~/.bashrc   # works without the bash-completion package",
    "vexo-sv completion fish > ~/.config/fish/completions/vexo-sv.fish",
  ],
  define: (c) => c.addArgument(new Argument("<shell>", "bash, zsh or fish").choices(SHELLS)),
  input: ({ args }) => ({ shell: args[0] as Shell }),
  async run(input, ctx) {
    const [{ completionScript }, { commandModel }] = await Promise.all([import("../completion.js"), import("../model.js")]);
    return { shell: input.shell, script: completionScript(input.shell, commandModel(ctx.program)) };
  },
  render: (r, out) => out.raw(r.script),
});
