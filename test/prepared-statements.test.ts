import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { connectPostgres, type Database } from '../src/infra/postgres/database.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { usingRealDatabase } from './support/test-app.js';

const opened: Array<TestDatabase | Database> = [];
afterAll(async () => {
  for (const d of opened.splice(0).reverse()) await ('drop' in d ? d.drop() : d.close());
});

/** The named statements of the session a query runs on, after one parameterized query. */
async function preparedAfterQuery(database: Database): Promise<string[]> {
  return database.db.connection().execute(async (connection) => {
    await sql`SELECT ${1}::int + 1 AS two`.execute(connection);
    const { rows } = await sql<{ name: string }>`
      SELECT name FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int + 1%'`.execute(
      connection,
    );
    return rows.map((r) => r.name);
  });
}

describe('DATABASE_PREPARED_STATEMENTS', () => {
  it('is on unless set to false, and only true or false are accepted', () => {
    expect(loadConfig({}).databasePreparedStatements).toBe(true);
    expect(loadConfig({ DATABASE_PREPARED_STATEMENTS: 'false' }).databasePreparedStatements).toBe(
      false,
    );
    expect(() => loadConfig({ DATABASE_PREPARED_STATEMENTS: 'no' })).toThrow(
      /DATABASE_PREPARED_STATEMENTS/,
    );
  });

  if (usingRealDatabase) {
    it('names parameterized queries on PostgreSQL by default, and not when switched off', async () => {
      const testDb = await createTestDatabase();
      opened.push(testDb);
      const preparing = connectPostgres(testDb.url!, 1);
      const plain = connectPostgres(testDb.url!, 1, { preparedStatements: false });
      opened.push(preparing, plain);
      const named = await preparedAfterQuery(preparing);
      expect(named).toHaveLength(1);
      expect(named[0]).toMatch(/^evently_[0-9a-f]{20}_\d+$/);
      expect(await preparedAfterQuery(plain)).toEqual([]);
    });

    it('fails one query, not every later one, when a migration changes a table under it', async () => {
      const testDb = await createTestDatabase();
      opened.push(testDb);
      const preparing = connectPostgres(testDb.url!, 1);
      opened.push(preparing);
      await sql`CREATE TABLE widgets (id int PRIMARY KEY)`.execute(testDb.database.db);
      await sql`INSERT INTO widgets VALUES (1)`.execute(testDb.database.db);
      const read = () => sql`SELECT * FROM widgets WHERE id = ${1}`.execute(preparing.db);
      expect((await read()).rows).toEqual([{ id: 1 }]);
      await sql`ALTER TABLE widgets ADD COLUMN colour text`.execute(testDb.database.db);
      await expect(read()).rejects.toMatchObject({ code: '0A000' });
      expect((await read()).rows).toEqual([{ id: 1, colour: null }]);
      expect((await read()).rows).toEqual([{ id: 1, colour: null }]);
    });
  }
});
