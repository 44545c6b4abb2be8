import { layoutOf, defineCommand } from "../command.js";

// The program supervisord runs as [eventlistener:vexo-sv-alerts]. Its stdout is supervisord's
// protocol channel: READY and RESULT frames, written by the listener and nothing else. Anything
// else that would reach stdout from here on (a stray print anywhere) goes to stderr, the
// listener's own log, with every line it logs.
export default defineCommand({
  path: "alerts listen",
  description: "the alerts listener itself (supervisord runs it; it speaks supervisord's event protocol on stdin and stdout)",
  examples: [],
  hidden: true,
  define: (c) => c.option("--revision <rev>", "the settings' revision this listener was written for"),
  input: ({ opts, globals }) => ({ revision: typeof opts.revision === "string" ? opts.revision : undefined, layout: layoutOf(globals) }),
  async run(input, ctx) {
    const protocol = process.stdout.write.bind(process.stdout);
    process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const { listen } = await import("../../core/alerts/listen.js");
    await listen({
      layout: input.layout,
      revision: input.revision,
      input: process.stdin,
      write: (s) => protocol(s),
      log,
      signal: ctx.signal,
      env: process.env,
    });
    return {};
  },
  streams: () => true,
  render: () => {},
});
