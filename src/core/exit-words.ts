// How exits read for a person, in one place for the core's health lines and the CLI's tables
// (a module of its own so that the CLI's renderers load nothing else of the core).

/** A worker's exits in the window: `-` none, `?` not known, else `3 memory, 1 crashed`. */
export function exitsText(exits: { counts: Record<string, number> } | null): string {
  if (exits === null) return "?";
  const words = Object.entries(exits.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return words.length > 0 ? words.join(", ") : "-";
}

/** A window as people say it: 1h, 15m, 90s, 1h30m. */
export function windowWords(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : "", m ? `${m}m` : "", s || seconds === 0 ? `${s}s` : ""].join("");
}
