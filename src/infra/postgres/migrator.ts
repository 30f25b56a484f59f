import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Database } from './database.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));

// Any fixed number works; it only has to be the same in every instance of Evently.
const MIGRATION_LOCK_KEY = 7_434_201_910_117n;
const MIGRATION_FILE = /^\d{3}_[a-z0-9_]+\.sql$/;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Applies every migration file not applied yet, in name order, each in its own transaction
 * together with its bookkeeping row. Instances starting at the same time take turns on an
 * advisory lock, so each file runs exactly once.
 */
export async function migrate(
  database: Database,
  directory: string = MIGRATIONS_DIR,
): Promise<MigrationResult> {
  const files = (await readdir(directory)).filter((f) => f.endsWith('.sql')).sort();
  const badName = files.find((f) => !MIGRATION_FILE.test(f));
  if (badName) throw new Error(`Migration file name must look like 001_name.sql: ${badName}`);

  return database.withExclusiveSession(MIGRATION_LOCK_KEY, async (session) => {
    await session.runScript(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const rows = await session.queryRows<{ name: string }>('SELECT name FROM schema_migrations');
    const done = new Set(rows.map((r) => r.name));
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const file of files) {
      if (done.has(file)) {
        result.alreadyApplied.push(file);
        continue;
      }
      const script = await readFile(`${directory}/${file}`, 'utf8');
      // File names are validated above, so quoting them inline is safe.
      await session.runScript(
        `${script}\n;\nINSERT INTO schema_migrations (name) VALUES ('${file}');`,
      );
      result.applied.push(file);
    }
    return result;
  });
}

/** Names of the migrations recorded as applied (for tests and `evently migrate`). */
export async function appliedMigrations(database: Database): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select name from schema_migrations order by name`.execute(database.db);
  return rows.map((r) => r.name);
}
