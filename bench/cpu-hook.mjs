// Loaded with `node --import` by bench/run.mjs: prints the CPU time of this Node process alone
// (user + system, its children excluded) when it exits, so the bench can tell vexo-sv's own
// work apart from supervisorctl's.
process.on("exit", () => {
  const { user, system } = process.cpuUsage();
  process.stderr.write(`vexo-sv-cpu-ms ${(user + system) / 1000}\n`);
});
