import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdAndBook } from '../../../test/support/bookings.js';
import { createEvent } from '../../../test/support/fixtures.js';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/support/test-app.js';
import { HoldBatchStatement, type HoldRequest } from './hold-batch.statement.js';

describe('HOLD_ASYNC_COMMIT', () => {
  let t: TestApp;
  let organizer: SignedIn;
  beforeAll(async () => {
    t = await createTestApp({ HOLD_ASYNC_COMMIT: 'true' });
    organizer = await t.signUp('organizer');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('makes only the hold transaction asynchronous: the setting ends with it', async () => {
    const db = t.deps.database.db;
    const user = await t.signUp();
    const event = await createEvent(t, organizer, { capacity: 10 });
    const setting = async (executor: typeof db) =>
      (
        await sql<{ v: string }>`SELECT current_setting('synchronous_commit') AS v`.execute(
          executor,
        )
      ).rows[0]!.v;
    const request = (): HoldRequest => ({
      holdId: randomUUID(),
      userId: user.id,
      quantity: 1,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      audit: { actorId: user.id, actorRole: 'user', ip: null, requestId: null },
      idempotency: null,
      traceContext: null,
    });
    // The hold statement, run inside a transaction of the test's so the setting can be read.
    const hold = (trx: typeof db, asyncCommit: boolean) =>
      new HoldBatchStatement(trx, { asyncCommit }).run(event.id, new Date(), [request()]);
    await db.connection().execute(async (connection) => {
      const before = await setting(connection);
      const inside = await connection.transaction().execute(async (trx) => {
        expect((await hold(trx, true))[0]!.outcome).toBe('HELD');
        return setting(trx);
      });
      expect(before).toBe('on');
      expect(inside).toBe('off');
      // The pooled connection goes back with the server's setting: other work stays durable.
      expect(await setting(connection)).toBe('on');
    });
    await db.transaction().execute(async (trx) => {
      expect((await hold(trx, false))[0]!.outcome).toBe('HELD');
      expect(await setting(trx)).toBe('on');
    });
  });

  it('holds and sells as usual, counters balanced', async () => {
    const event = await createEvent(t, organizer, { capacity: 6 });
    const buyers = await Promise.all([t.signUp(), t.signUp(), t.signUp()]);
    await Promise.all(buyers.map((b) => holdAndBook(t, b, event.id, { quantity: 2 })));
    const row = await t.deps.database.db
      .selectFrom('events_with_inventory')
      .select(['available', 'held', 'sold'])
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ available: 0, held: 0, sold: 6 });
    const refused = await t.inject({
      method: 'POST',
      url: `/api/v1/events/${event.id}/holds`,
      headers: (await t.signUp()).auth,
      payload: { quantity: 1 },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ code: string }>().code).toBe('SOLD_OUT');
  });
});
