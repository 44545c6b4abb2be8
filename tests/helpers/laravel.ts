import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { ROOT } from "./cli.js";

// The real Laravel 8 application the suite runs workers of (tests/fixtures/laravel-app, on Debian's
// php-laravel-framework), with a database queue on SQLite.

/** Runs `php artisan ARGS` in the application; throws with its output unless it exits 0. */
export async function artisanIn(app: string, ...args: string[]): Promise<string> {
  const r = await execa("php", ["artisan", ...args], { cwd: app, reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`artisan ${args.join(" ")}: ${r.all}`);
  return String(r.all);
}

/** The one number a query on the application's SQLite database answers. */
export async function sqlIn(app: string, query: string): Promise<number> {
  const php = `echo (new PDO('sqlite:database/database.sqlite'))->query(${JSON.stringify(query)})->fetchColumn();`;
  return Number(String((await execa("php", ["-r", php], { cwd: app, reject: false, all: true })).all));
}

/** A copy of the application at DIR, its database created and its queue tables (jobs, failed_jobs) migrated. */
export async function setUpLaravelApp(app: string): Promise<string> {
  fs.cpSync(path.join(ROOT, "tests/fixtures/laravel-app"), app, { recursive: true });
  fs.writeFileSync(path.join(app, "database/database.sqlite"), "");
  await artisanIn(app, "queue:table");
  await artisanIn(app, "queue:failed-table");
  await artisanIn(app, "migrate", "--force");
  return app;
}
