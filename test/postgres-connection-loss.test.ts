import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, usingRealDatabase, type TestApp } from './support/test-app.js';

// A PostgreSQL restart or failover ends every connection, idle or checked out. The process
// must survive it: the failing queries fail, the pool opens new connections.

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('losing database connections', () => {
  it('the catalog answers before and after', async () => {
    expect((await t.inject({ method: 'GET', url: '/api/v1/events' })).statusCode).toBe(200);
  });

  // Only a server can end its sessions (the embedded database is in this process).
  if (usingRealDatabase) {
    it('when the server ends every session, idle and checked out, then the process survives and serves again', async () => {
      const db = t.deps.database.db;
      const killAll = () => sql`
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()`;
      // Warm the pool, then hold one connection checked out in an open transaction.
      await Promise.all(Array.from({ length: 5 }, () => sql`SELECT 1`.execute(db)));
      const held = db.transaction().execute(async (trx) => {
        await sql`SELECT 1`.execute(trx);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await sql`SELECT 1`.execute(trx); // its connection is gone by now
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      // From another connection of the same pool: its own session survives the statement.
      await killAll().execute(db);
      await expect(held).rejects.toThrow();
      const after = await t.inject({ method: 'GET', url: '/api/v1/events' });
      expect(after.statusCode).toBe(200);
    });
  }
});
