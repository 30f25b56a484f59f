import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/infra/postgres/database.js';
import { appliedMigrations, migrate, MIGRATIONS_DIR } from '../src/infra/postgres/migrator.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const MIGRATION_FILES = readdirSync(MIGRATIONS_DIR)
  .filter((f) => f.endsWith('.sql'))
  .sort();

// Every test gets a database of its own; dropped afterwards.
const opened: TestDatabase[] = [];
async function freshDatabase(): Promise<TestDatabase> {
  const testDb = await createTestDatabase();
  opened.push(testDb);
  return testDb;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.drop()));
});

async function migrationRows(database: Database) {
  const { rows } = await sql<{ name: string; applied_at: Date }>`
    select name, applied_at from schema_migrations order by name`.execute(database.db);
  return rows.map((r) => ({ name: r.name, appliedAt: r.applied_at.toISOString() }));
}

/** A copy of the real migrations in a directory a test may add files to. */
function migrationsCopy(): string {
  const directory = mkdtempSync(join(tmpdir(), 'evently-migrations-'));
  for (const file of MIGRATION_FILES)
    copyFileSync(join(MIGRATIONS_DIR, file), join(directory, file));
  return directory;
}

/** A fresh database migrated from a copy of migrations/, then `file` added to the copy. */
async function migratedThenAdded(file: string, text: string) {
  const { database } = await freshDatabase();
  const directory = migrationsCopy();
  await migrate(database, directory);
  writeFileSync(join(directory, file), text);
  return { database, directory };
}

describe('migrate', () => {
  it('applies every migration file on an empty database, in name order', async () => {
    const { database } = await freshDatabase();
    const result = await migrate(database);
    expect(MIGRATION_FILES.length).toBeGreaterThan(0);
    expect(result).toEqual({ applied: MIGRATION_FILES, alreadyApplied: [] });
    expect(await appliedMigrations(database)).toEqual(MIGRATION_FILES);
  });

  it('is a no-op the second time: nothing applied, the bookkeeping rows unchanged', async () => {
    const { database } = await freshDatabase();
    await migrate(database);
    const before = await migrationRows(database);
    const second = await migrate(database);
    expect(second).toEqual({ applied: [], alreadyApplied: MIGRATION_FILES });
    expect(await migrationRows(database)).toEqual(before);
  });

  it('lets two instances migrate at once: both succeed and each file is recorded once', async () => {
    const testDb = await freshDatabase();
    let results;
    if (testDb.url) {
      // Two connection pools, as two processes starting side by side would have.
      const other = testDb.openAnother();
      results = await Promise.all([migrate(testDb.database), migrate(other)]);
    } else {
      // An in-memory PGlite belongs to one connection; the second starter comes after.
      results = [await migrate(testDb.database), await migrate(testDb.database)];
    }
    const applied = results.flatMap((r) => r.applied).sort();
    expect(applied).toEqual(MIGRATION_FILES);
    for (const result of results) {
      expect([...result.applied, ...result.alreadyApplied].sort()).toEqual(MIGRATION_FILES);
    }
    const { rows } = await sql<{ name: string; n: number }>`
      select name, count(*)::int as n from schema_migrations group by name order by name`.execute(
      testDb.database.db,
    );
    expect(rows).toEqual(MIGRATION_FILES.map((name) => ({ name, n: 1 })));
  });

  it('applies only the files added since the last run', async () => {
    const { database, directory } = await migratedThenAdded(
      '900_add_probe.sql',
      'CREATE TABLE migration_probe (id integer PRIMARY KEY);',
    );
    const result = await migrate(database, directory);
    expect(result.applied).toEqual(['900_add_probe.sql']);
    expect(result.alreadyApplied).toEqual(MIGRATION_FILES);
    await sql`insert into migration_probe (id) values (1)`.execute(database.db);
  });

  it('rolls a failing migration back whole and does not record it', async () => {
    const { database, directory } = await migratedThenAdded(
      '901_half_done.sql',
      'CREATE TABLE half_done (id integer PRIMARY KEY);\nSELECT * FROM table_that_does_not_exist;',
    );
    await expect(migrate(database, directory)).rejects.toThrow(/table_that_does_not_exist/);
    expect(await appliedMigrations(database)).toEqual(MIGRATION_FILES);
    const { rows } = await sql<{ name: string | null }>`
      select to_regclass('public.half_done')::text as name`.execute(database.db);
    expect(rows[0]!.name).toBeNull();
    // The lock was released: a later run still works once the file is fixed.
    writeFileSync(
      join(directory, '901_half_done.sql'),
      'CREATE TABLE half_done (id integer PRIMARY KEY);',
    );
    expect((await migrate(database, directory)).applied).toEqual(['901_half_done.sql']);
  });

  it("013 moves an event's counters into stock buckets, its holds into bucket 0", async () => {
    const { database } = await freshDatabase();
    const directory = mkdtempSync(join(tmpdir(), 'evently-migrations-'));
    const before013 = MIGRATION_FILES.filter((f) => f < '013');
    for (const file of before013) copyFileSync(join(MIGRATIONS_DIR, file), join(directory, file));
    await migrate(database, directory);
    const { rows: user } = await sql<{ id: string }>`
      insert into users (email, name, password_hash, role)
      values (${`${randomUUID()}@x.test`}, 'U', 'x', 'organizer') returning id`.execute(
      database.db,
    );
    const { rows: event } = await sql<{ id: string }>`
      insert into events (organizer_id, name, starts_at, ends_at, seating, price_cents, currency,
                          capacity, available, held, sold, status)
      values (${user[0]!.id}, 'E', now() + interval '1 day', now() + interval '2 days',
              'general', 100, 'EUR', 100, 80, 5, 15, 'published')
      returning id`.execute(database.db);
    const id = event[0]!.id;
    copyFileSync(
      join(MIGRATIONS_DIR, '013_inventory_without_hot_row.sql'),
      join(directory, '013_inventory_without_hot_row.sql'),
    );
    expect((await migrate(database, directory)).applied).toEqual([
      '013_inventory_without_hot_row.sql',
    ]);
    const { rows: buckets } = await sql<{
      bucket: number;
      capacity: number;
      available: number;
      held: number;
      sold: number;
    }>`select bucket, capacity, available, held, sold from event_stock where event_id = ${id}
       order by bucket`.execute(database.db);
    expect(buckets[0]).toEqual({ bucket: 0, capacity: 30, available: 10, held: 5, sold: 15 });
    expect(buckets.slice(1).map((b) => [b.available, b.held, b.sold])).toEqual(
      Array.from({ length: 7 }, () => [10, 0, 0]),
    );
    const { rows: view } = await sql<{
      capacity: number;
      available: number;
      held: number;
      sold: number;
    }>`
      select capacity, available, held, sold from events_with_inventory where id = ${id}`.execute(
      database.db,
    );
    expect(view[0]).toEqual({ capacity: 100, available: 80, held: 5, sold: 15 });
  });

  it('refuses a migration file whose name does not follow 001_name.sql', async () => {
    const { database } = await freshDatabase();
    const directory = migrationsCopy();
    writeFileSync(join(directory, '2-Bad Name.sql'), 'SELECT 1;');
    await expect(migrate(database, directory)).rejects.toThrow(/2-Bad Name\.sql/);
  });
});

describe('schema constraints', () => {
  // One migrated database for these tests; each inserts rows of its own.
  let shared: TestDatabase;
  beforeAll(async () => {
    shared = await createTestDatabase();
    await migrate(shared.database);
  });
  afterAll(async () => {
    await shared?.drop();
  });
  const migrated = async (): Promise<Database> => shared.database;

  async function insertUser(database: Database): Promise<string> {
    const { rows } = await sql<{ id: string }>`
      insert into users (email, name, password_hash)
      values (${`c-${randomUUID()}@example.test`}, 'C', 'x') returning id`.execute(database.db);
    return rows[0]!.id;
  }

  async function insertGeneralEvent(
    database: Database,
    organizerId: string,
    capacity: number,
  ): Promise<string> {
    const { rows } = await sql<{ id: string }>`
      insert into events (organizer_id, name, starts_at, ends_at, seating, price_cents, currency,
                          capacity)
      values (${organizerId}, 'E', now() + interval '1 day', now() + interval '2 days',
              'general', 100, 'EUR', ${capacity})
      returning id`.execute(database.db);
    return rows[0]!.id;
  }

  it('splits a general-admission event into 8 stock buckets that never oversell', async () => {
    const database = await migrated();
    const organizer = await insertUser(database);
    const id = await insertGeneralEvent(database, organizer, 20);
    const { rows: buckets } = await sql<{ bucket: number; capacity: number; available: number }>`
      select bucket, capacity, available from event_stock where event_id = ${id}
      order by bucket`.execute(database.db);
    expect(buckets.map((b) => b.capacity)).toEqual([3, 3, 3, 3, 2, 2, 2, 2]);
    expect(buckets.every((b) => b.available === b.capacity)).toBe(true);
    // Selling a ticket without taking it from `available` is an oversell the database stops.
    await expect(
      sql`update event_stock set sold = sold + 1 where event_id = ${id} and bucket = 0`.execute(
        database.db,
      ),
    ).rejects.toThrow(/event_stock_balanced/);
    await expect(
      sql`update event_stock set available = available - 4, sold = sold + 4, capacity = capacity
          where event_id = ${id} and bucket = 0`.execute(database.db),
    ).rejects.toThrow(/available_check/);
    // A bucket may not grow on its own: the buckets add up to the event's capacity (at commit).
    await expect(
      sql`update event_stock set capacity = capacity + 1, available = available + 1
          where event_id = ${id} and bucket = 0`.execute(database.db),
    ).rejects.toThrow(/hold 21 tickets, its capacity is 20/);
    // Moving tickets between buckets keeps the total: allowed.
    await database.db.transaction().execute(async (trx) => {
      await sql`update event_stock set capacity = capacity - 1, available = available - 1
                where event_id = ${id} and bucket = 7`.execute(trx);
      await sql`update event_stock set capacity = capacity + 1, available = available + 1
                where event_id = ${id} and bucket = 0`.execute(trx);
    });
    await sql`update event_stock set available = available - 1, sold = sold + 1
              where event_id = ${id} and bucket = 0`.execute(database.db);
    const { rows: view } = await sql<{ available: number; held: number; sold: number }>`
      select available, held, sold from events_with_inventory where id = ${id}`.execute(
      database.db,
    );
    expect(view[0]).toEqual({ available: 19, held: 0, sold: 1 });
  });

  it('resizes the stock evenly, refusing a capacity below what is held and sold', async () => {
    const database = await migrated();
    const organizer = await insertUser(database);
    const id = await insertGeneralEvent(database, organizer, 16);
    await sql`update event_stock set available = available - 2, held = held + 2
              where event_id = ${id} and bucket = 3`.execute(database.db);
    const resize = (capacity: number) =>
      database.db.transaction().execute(async (trx) => {
        await sql`update events set capacity = ${capacity} where id = ${id}`.execute(trx);
        const { rows } = await sql<{ ok: boolean }>`
          select event_stock_rebalance(${id}, null, null, ${capacity}::int) as ok`.execute(trx);
        if (!rows[0]!.ok) throw new Error('refused');
      });
    await expect(resize(1)).rejects.toThrow('refused');
    await resize(26);
    const { rows } = await sql<{
      bucket: number;
      capacity: number;
      available: number;
      held: number;
    }>`
      select bucket, capacity, available, held from event_stock where event_id = ${id}
      order by bucket`.execute(database.db);
    expect(rows.map((r) => r.available)).toEqual([3, 3, 3, 3, 3, 3, 3, 3]);
    expect(rows.find((r) => r.bucket === 3)).toMatchObject({ held: 2, capacity: 5 });
    expect(rows.reduce((sum, r) => sum + r.capacity, 0)).toBe(26);
  });

  it('refuses a second live ticket for one seat, but allows one after a cancellation', async () => {
    const database = await migrated();
    const userId = await insertUser(database);
    const { rows: venue } = await sql<{ id: string }>`
      insert into venues (owner_id, name, address, city, timezone, capacity)
      values (${userId}, 'V', 'A', 'C', 'UTC', 1) returning id`.execute(database.db);
    const { rows: event } = await sql<{ id: string }>`
      insert into events (organizer_id, venue_id, name, starts_at, ends_at, seating, price_cents,
                          currency, capacity, status)
      values (${userId}, ${venue[0]!.id}, 'E', now() + interval '1 day', now() + interval '2 days',
              'reserved', 100, 'EUR', 1, 'published')
      returning id`.execute(database.db);
    const eventId = event[0]!.id;
    const { rows: seat } = await sql<{ id: string }>`
      insert into event_seats (event_id, section, row_label, number, price_cents, sort_key)
      values (${eventId}, 'S', 'A', 1, 100, 1) returning id`.execute(database.db);
    const seatId = seat[0]!.id;
    const booking = async () => {
      const { rows } = await sql<{ id: string }>`
        insert into bookings (event_id, user_id, status, quantity, total_cents, currency)
        values (${eventId}, ${userId}, 'confirmed', 1, 100, 'EUR') returning id`.execute(
        database.db,
      );
      return rows[0]!.id;
    };
    const ticket = async (bookingId: string, status = 'valid') =>
      sql`insert into tickets (booking_id, event_id, seat_id, code, status)
          values (${bookingId}, ${eventId}, ${seatId}, ${randomUUID()}, ${status})`.execute(
        database.db,
      );

    await ticket(await booking());
    await expect(ticket(await booking())).rejects.toThrow(/tickets_live_seat_unique/);

    await sql`update tickets set status = 'cancelled' where seat_id = ${seatId}`.execute(
      database.db,
    );
    await ticket(await booking());
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from tickets where seat_id = ${seatId} and status <> 'cancelled'`.execute(
      database.db,
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('refuses a seat marked held without a hold, or sold without a booking', async () => {
    const database = await migrated();
    const userId = await insertUser(database);
    const eventId = await insertGeneralEvent(database, userId, 5);
    const seat = (status: string) =>
      sql`insert into event_seats (event_id, section, row_label, number, price_cents, sort_key, status)
          values (${eventId}, 'S', 'A', 1, 100, 1, ${status})`.execute(database.db);
    await expect(seat('held')).rejects.toThrow(/event_seats_hold_matches_status/);
    await expect(seat('sold')).rejects.toThrow(/event_seats_booking_matches_status/);
    await seat('available');
    await expect(seat('available')).rejects.toThrow(/event_seats_position_unique/);
  });

  it('refuses a refund larger than what was paid', async () => {
    const database = await migrated();
    const userId = await insertUser(database);
    const eventId = await insertGeneralEvent(database, userId, 5);
    await expect(
      sql`insert into bookings (event_id, user_id, quantity, total_cents, refund_cents, currency)
          values (${eventId}, ${userId}, 1, 100, 101, 'EUR')`.execute(database.db),
    ).rejects.toThrow(/bookings_check/);
    await sql`insert into bookings (event_id, user_id, quantity, total_cents, refund_cents, currency)
              values (${eventId}, ${userId}, 1, 100, 100, 'EUR')`.execute(database.db);
  });

  it('refuses a second account with the same email in another case', async () => {
    const database = await migrated();
    const email = `Same-${randomUUID()}@Example.test`;
    await sql`insert into users (email, name, password_hash) values (${email}, 'A', 'x')`.execute(
      database.db,
    );
    await expect(
      sql`insert into users (email, name, password_hash)
          values (${email.toLowerCase()}, 'B', 'x')`.execute(database.db),
    ).rejects.toThrow(/users_email_unique/);
  });

  it('keeps audit_log append-only: UPDATE, DELETE and TRUNCATE fail, the row survives', async () => {
    const database = await migrated();
    const action = `test.${randomUUID()}`;
    await sql`insert into audit_log (action, target_type, target_id)
              values (${action}, 'thing', '1')`.execute(database.db);
    await expect(
      sql`update audit_log set action = 'rewritten' where action = ${action}`.execute(database.db),
    ).rejects.toThrow(/append-only/);
    await expect(
      sql`delete from audit_log where action = ${action}`.execute(database.db),
    ).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_log`.execute(database.db)).rejects.toThrow(/append-only/);
    const { rows } = await sql<{ action: string }>`
      select action from audit_log where action = ${action}`.execute(database.db);
    expect(rows).toEqual([{ action }]);
  });
});
