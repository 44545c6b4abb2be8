// The resolve hook of hold-chunks.mjs (module hooks run on their own thread).
import fs from "node:fs";

export async function resolve(specifier, context, next) {
  const until = process.env.VEXO_HOLD_UNTIL;
  if (until && specifier.includes("chunks/") && !fs.existsSync(until)) {
    fs.writeFileSync(`${until}.waiting`, "");
    // Bounded: a test that never releases the run does not leave it behind.
    const deadline = Date.now() + 120_000;
    while (!fs.existsSync(until) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
  // Which chunks the run went on to load, for the test to check they are the ones of its own build.
  if (until && specifier.includes("chunks/")) fs.appendFileSync(`${until}.resolved`, `${specifier.split("/").pop()}\n`);
  return next(specifier, context);
}
