// `node --import ./tests/helpers/report-rss.mjs ...`: prints the process's peak resident memory
// (KiB) on stderr as it exits, so a test can bound what a command used.
process.on("exit", () => process.stderr.write(`\nvexo-sv-max-rss-kib ${process.resourceUsage().maxRSS}\n`));
