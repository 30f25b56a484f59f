import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectPostgres, openEmbedded, type Database } from '../../src/infra/postgres/database.js';

export interface TestDatabase {
  database: Database;
  /** The URL of the fresh PostgreSQL database, when running against a real server. */
  url?: string;
  /** Opens one more connection pool to the same database (multi-instance tests). */
  openAnother(): Database;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/**
 * A database of this test file's own: a new database on the PostgreSQL server named by
 * DATABASE_URL (dropped afterwards), or an in-memory PGlite when DATABASE_URL is unset.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const database = await openEmbedded(null);
    return {
      database,
      openAnother: () => {
        throw new Error('an in-memory PGlite belongs to one connection');
      },
      drop: () => database.close(),
    };
  }
  const name = `evently_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  const database = connectPostgres(url, 10);
  const others: Database[] = [];
  return {
    database,
    url,
    openAnother() {
      const another = connectPostgres(url, 5);
      others.push(another);
      return another;
    },
    async drop() {
      await Promise.allSettled([database.close(), ...others.map((o) => o.close())]);
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
