/**
 * A JSON document as one line. JSON.stringify leaves U+007F-U+009F as they are, and a terminal
 * that shows the JSON can read U+009B as CSI: those are written as \u escapes (same value). Every
 * JSON document vexo-sv writes goes through it: `--json`, `logs -f --json`, and an alert on CMD's
 * stdin, whose log lines are what a job printed.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f]/gu, (c) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, "0")}`);
}
