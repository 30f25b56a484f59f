/**
 * The scratch database: `evently_driver_<random>` beside the server URL's database, migrated
 * by the app's own migrator, seeded by SQL (buyers, one reserved event with many seats, and
 * one general-admission event per measured run, so every run starts on an untouched event).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectPostgres } from '../../src/infra/postgres/database.js';
import { migrate } from '../../src/infra/postgres/migrator.js';

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export interface Seed {
  userIds: string[];
  reservedEventId: string;
  /** The reserved event's seats, in sort order. */
  seatIds: string[];
  /** One published GA event per run, capacity 10,000,000, 100 tickets per buyer. */
  gaEventIds: string[];
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createScratchDatabase(serverUrl: string): Promise<ScratchDatabase> {
  const name = `evently_driver_${randomBytes(4).toString('hex')}`;
  await withClient(serverUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await withClient(serverUrl, (admin) =>
        admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}

export async function migrateAndSeed(
  url: string,
  counts: { users: number; seats: number; gaEvents: number },
): Promise<Seed> {
  const database = connectPostgres(url, 2);
  try {
    await migrate(database);
  } finally {
    await database.close();
  }
  return withClient(url, async (client) => {
    const ids = async (text: string, values: unknown[] = []) =>
      (await client.query<{ id: string }>(text, values)).rows.map((r) => r.id);

    const [organizerId] = await ids(
      `INSERT INTO users (email, name, password_hash, role)
       VALUES ('organizer@driver.bench', 'Driver organizer', 'x', 'organizer') RETURNING id`,
    );
    const userIds = await ids(
      `INSERT INTO users (email, name, password_hash)
       SELECT 'buyer' || g || '@driver.bench', 'Buyer ' || g, 'x'
       FROM generate_series(1, $1::int) g RETURNING id`,
      [counts.users],
    );
    const [venueId] = await ids(
      `INSERT INTO venues (owner_id, name, address, city, timezone, capacity)
       VALUES ($1, 'Driver Hall', '1 Bench Street', 'Benchville', 'UTC', $2) RETURNING id`,
      [organizerId, counts.seats],
    );
    const [reservedEventId] = await ids(
      `INSERT INTO events (organizer_id, venue_id, name, starts_at, ends_at, seating, price_cents,
                           currency, max_tickets_per_user, status, capacity, published_at)
       VALUES ($1, $2, 'Driver reserved', now() + interval '30 days',
               now() + interval '30 days 3 hours', 'reserved', 5000, 'EUR', 100, 'published',
               $3, now())
       RETURNING id`,
      [organizerId, venueId, counts.seats],
    );
    const seatIds = await ids(
      `INSERT INTO event_seats (event_id, section, row_label, number, price_cents, sort_key)
       SELECT $1, 'Floor', 'R' || (g / 100), g % 100 + 1, 5000, g
       FROM generate_series(0, $2::int - 1) g
       ORDER BY g RETURNING id`,
      [reservedEventId, counts.seats],
    );
    const gaEventIds = await ids(
      `INSERT INTO events (organizer_id, name, starts_at, ends_at, seating, price_cents, currency,
                           max_tickets_per_user, status, capacity, published_at)
       SELECT $1, 'Driver GA ' || g, now() + interval '30 days',
              now() + interval '30 days 3 hours', 'general', 5000, 'EUR', 100, 'published',
              10000000, now()
       FROM generate_series(1, $2::int) g
       ORDER BY g RETURNING id`,
      [organizerId, counts.gaEvents],
    );
    await client.query('VACUUM ANALYZE');
    if (!organizerId || !reservedEventId) throw new Error('seeding returned no ids');
    return { userIds, reservedEventId, seatIds, gaEventIds };
  });
}
