// `node --import ./tests/helpers/count-opens.mjs ...` with VEXO_OPENS_LOG=FILE: counts every
// successful open of a file by path (fs.openSync, whose fd the code then reads, and
// fs.readFileSync of a path) and writes the counts to FILE as JSON ({ path: n }) as the process
// exits, so a test can hold that a command reads each config file once.
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const log = process.env.VEXO_OPENS_LOG;
const counts = new Map();
const count = (file) => {
  if (typeof file === "string" || file instanceof URL || Buffer.isBuffer(file)) {
    const key = String(file);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
};

const openSync = fs.openSync;
const readFileSync = fs.readFileSync;
const writeFileSync = fs.writeFileSync;
fs.openSync = (...args) => {
  const fd = openSync(...args);
  count(args[0]);
  return fd;
};
fs.readFileSync = (...args) => {
  const out = readFileSync(...args);
  if (typeof args[0] !== "number") count(args[0]);
  return out;
};
syncBuiltinESMExports();
if (log) process.on("exit", () => writeFileSync(log, JSON.stringify(Object.fromEntries(counts))));
