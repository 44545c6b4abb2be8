import { defineCommand, selfArgv } from "../command.js";

export default defineCommand({
  path: "install",
  description: "make sure a supervisord is installed and running (the system's, or a private one with --prefix)",
  examples: ["sudo vexo-sv install", "vexo-sv install --prefix ./sv   # private, no root needed"],
  define: (c) => c.option("--prefix <dir>", "set up and start a private supervisord under DIR (no root needed)"),
  input: ({ opts }) => ({ prefix: opts.prefix as string | undefined }),
  async run(input, ctx) {
    const { installPrefix, installSystem } = await import("../../core/install.js");
    const onOutput = (l: string) => ctx.progress(l);
    return input.prefix === undefined
      ? installSystem({ onOutput })
      : installPrefix(input.prefix, { onOutput, onWarning: (w) => ctx.warn(w), self: selfArgv() });
  },
  render(r, out) {
    if ("actions" in r) {
      out.info(
        r.changed ? `supervisor ${r.version} ready (${r.actions.join(", ")})` : `supervisor ${r.version} already installed and running`,
      );
      out.info(`config: ${r.config}; programs in ${r.confDir}`);
      return;
    }
    out.info(
      r.started
        ? `started a private supervisord (pid ${r.pid ?? "?"}) for ${r.config}`
        : `private supervisord already running (pid ${r.pid ?? "?"})`,
    );
    out.info("point every other command at it with:");
    out.data(r.export);
  },
});
