import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { migrate } from '../src/infra/postgres/migrator.js';
import { createEvent } from './support/fixtures.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import {
  createTestApp,
  usingRealDatabase,
  type SignedIn,
  type TestApp,
} from './support/test-app.js';
import { api } from './support/api.js';

// DATABASE_READ_URL: listings, seat maps, analytics and exports read the replica; anything
// that decides a booking reads the primary. The "replica" here is a second database that
// nothing replicates into, so where a read went shows in what it finds.

describe('DATABASE_READ_URL configuration', () => {
  it('is refused without DATABASE_URL: the embedded database has no replica', () => {
    expect(() =>
      loadConfig({ DATABASE_READ_URL: 'postgres://postgres@127.0.0.1:5432/replica' }),
    ).toThrow(/DATABASE_READ_URL needs DATABASE_URL/);
  });

  it('must be a PostgreSQL URL', () => {
    expect(() =>
      loadConfig({
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        DATABASE_READ_URL: 'mysql://replica',
      }),
    ).toThrow(/DATABASE_READ_URL/);
  });
});

// A second PostgreSQL database is what stands in for the replica: only with a real server.
if (usingRealDatabase) {
  describe('with a read replica', () => {
    let replica: TestDatabase;
    let t: TestApp;
    let admin: SignedIn;
    let organizer: SignedIn;

    beforeAll(async () => {
      replica = await createTestDatabase();
      await migrate(replica.database);
      t = await createTestApp({ DATABASE_READ_URL: replica.url!, LOCAL_CACHE_TTL_MS: '0' });
      [admin, organizer] = await Promise.all([t.signUp('admin'), t.signUp('organizer')]);
    });
    afterAll(async () => {
      await t?.close();
      await replica?.drop();
    });

    it('lists events from the replica, and shows an event itself from the primary', async () => {
      const event = await createEvent(t, organizer, { name: 'Only on the primary' });
      const listed = await t.inject({ method: 'GET', url: '/api/v1/events?q=primary' });
      expect(listed.statusCode).toBe(200);
      expect(listed.json<{ items: unknown[] }>().items).toEqual([]);
      const shown = await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}` });
      expect(shown.statusCode).toBe(200);

      // Once "replicated", the listing finds it (a query not cached yet).
      await sql`INSERT INTO users (id, email, name, password_hash, role)
                VALUES (${organizer.id}, ${organizer.email}, 'Organizer', 'x', 'organizer')`.execute(
        replica.database.db,
      );
      const row = await t.deps.database.db
        .selectFrom('events')
        .selectAll()
        .where('id', '=', event.id)
        .executeTakeFirstOrThrow();
      // Copied as is, timestamps included (which an insert type does not allow).
      await replica.database.db
        .insertInto('events')
        .values(row as never)
        .execute();
      const again = await t.inject({ method: 'GET', url: '/api/v1/events?q=Only' });
      expect(again.json<{ items: Array<{ id: string }> }>().items.map((e) => e.id)).toEqual([
        event.id,
      ]);
    });

    it('holds are decided on the primary, whatever the replica lacks', async () => {
      const event = await createEvent(t, organizer, { capacity: 5 });
      const buyer = await t.signUp();
      const held = await api.hold(t, buyer, event.id, { quantity: 2 });
      expect(held.statusCode).toBe(201);
    });

    it('reads analytics from the replica', async () => {
      const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
      await sql`INSERT INTO analytics_platform_hourly (hour, bookings, tickets, revenue_cents)
                VALUES (${hour}, 7, 9, 12345)`.execute(replica.database.db);
      const overview = await t.inject({
        method: 'GET',
        url: '/api/v1/admin/analytics',
        headers: admin.auth,
      });
      expect(overview.statusCode).toBe(200);
      expect(overview.json()).toMatchObject({
        totals: { bookings: 7, ticketsSold: 9, revenueCents: 12345 },
      });
    });
  });
}
