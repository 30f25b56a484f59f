/**
 * What exists before the clock starts: a fresh database, buyers inserted by SQL with a
 * precomputed bcrypt hash and logged in over the API (so bcrypt at sign-up is not measured),
 * a 20,000-seat venue and the events, created and published through the public API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/bcrypt';
import { sql } from 'kysely';
import pg from 'pg';
import { connectPostgres, openEmbedded, type Database } from '../../src/infra/postgres/database.js';
import { migrate } from '../../src/infra/postgres/migrator.js';
import type { HttpClient } from './load.js';

export const USER_PASSWORD = 'bench-password-long-enough';
export const ADMIN_EMAIL = 'admin@bench.test';
export const ADMIN_PASSWORD = 'bench-admin-password-long-enough';

export interface BenchDatabase {
  mode: 'postgres' | 'pglite';
  /** DATABASE_URL for the server (postgres), or the DATA_DIR holding PGlite. */
  url?: string;
  dataDir: string;
  name?: string;
  /** A connection for checks (PGlite: only while no server has it open). */
  open(): Promise<Database>;
  drop(): Promise<void>;
}

export async function createDatabase(
  serverUrl: string | undefined,
  prefix: string,
  keep: boolean,
): Promise<BenchDatabase> {
  // PGlite's files, or with PostgreSQL only the server's DATA_DIR (its place for local files).
  const dataDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const removeDataDir = () => {
    if (!keep) rmSync(dataDir, { recursive: true, force: true });
  };
  if (!serverUrl) {
    return {
      mode: 'pglite',
      dataDir,
      open: () => openEmbedded(dataDir),
      drop: async () => removeDataDir(),
    };
  }
  const name = `${prefix.replaceAll('-', '_')}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    mode: 'postgres',
    url: url.toString(),
    dataDir,
    name,
    open: async () => connectPostgres(url.toString(), 4),
    async drop() {
      removeDataDir();
      if (keep) return;
      const again = new pg.Client({ connectionString: serverUrl });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

/**
 * Inserts `n` buyers (bench-user-<i>@bench.test) sharing one bcrypt hash; migrates first with
 * this tree's migrations unless told not to (a database migrated by another build's
 * `create-admin` must keep that build's schema).
 */
export async function insertUsers(
  database: Database,
  n: number,
  options: { migrate: boolean } = { migrate: true },
): Promise<void> {
  if (options.migrate) await migrate(database);
  const passwordHash = await hash(USER_PASSWORD, 4);
  await sql`
    INSERT INTO users (email, name, password_hash, role)
    SELECT 'bench-user-' || i || '@bench.test', 'Buyer ' || i, ${passwordHash}, 'user'
    FROM generate_series(0, ${n - 1}::int) i
    ON CONFLICT DO NOTHING`.execute(database.db);
}

async function inBatches<T>(n: number, concurrency: number, work: (i: number) => Promise<T>) {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await work(i);
      }
    }),
  );
  return out;
}

export async function login(client: HttpClient, email: string, password: string) {
  const reply = await client.request('POST', '/api/v1/auth/login', {
    body: { email, password },
    parse: true,
  });
  if (reply.status !== 200) {
    throw new Error(`login ${email}: ${reply.status} ${JSON.stringify(reply.json)}`);
  }
  return (reply.json as { accessToken: string }).accessToken;
}

/** Every buyer's access token, logged in `concurrency` at a time. */
export async function loginUsers(client: HttpClient, n: number, concurrency = 32) {
  return inBatches(n, concurrency, (i) =>
    login(client, `bench-user-${i}@bench.test`, USER_PASSWORD),
  );
}

async function post(client: HttpClient, token: string, path: string, body?: unknown) {
  const reply = await client.request('POST', path, { body, token, parse: true });
  if (reply.status !== 201 && reply.status !== 200) {
    throw new Error(`POST ${path}: ${reply.status} ${JSON.stringify(reply.json)}`);
  }
  return reply.json as { id: string };
}

/** 20 sections x 20 rows x 50 seats = 20,000 seats. */
export async function createVenue(client: HttpClient, token: string, seats = 20_000) {
  const perRow = 50;
  const rowsPerSection = 20;
  const sections = Math.ceil(seats / (perRow * rowsPerSection));
  const venue = await post(client, token, '/api/v1/venues', {
    name: 'Flash Sale Arena',
    address: '1 Stampede Street',
    city: 'Benchville',
    timezone: 'Europe/Berlin',
    sections: Array.from({ length: sections }, (_, s) => ({
      name: `S${String(s + 1).padStart(2, '0')}`,
      rows: Array.from({ length: rowsPerSection }, (_, r) => ({
        label: `R${String(r + 1).padStart(2, '0')}`,
        seats: perRow,
      })),
    })),
  });
  return venue.id;
}

export async function createEvent(
  client: HttpClient,
  token: string,
  options: { name: string; venueId?: string; capacity?: number },
): Promise<string> {
  const startsAt = new Date(Date.now() + 30 * 86_400_000);
  const event = await post(client, token, '/api/v1/events', {
    name: options.name,
    description: 'Flash-sale benchmark',
    ...(options.venueId ? { venueId: options.venueId } : {}),
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
    seating: options.venueId ? 'reserved' : 'general',
    ...(options.capacity ? { capacity: options.capacity } : {}),
    priceCents: 5000,
    currency: 'EUR',
    maxTicketsPerUser: 100,
  });
  await post(client, token, `/api/v1/events/${event.id}/publish`);
  return event.id;
}

export interface SeatView {
  id: string;
  status: string;
}

export interface SeatMap {
  sections: Array<{ name: string; rows: Array<{ label: string; seats: SeatView[] }> }>;
}

export const seatsOf = (map: SeatMap): SeatView[] =>
  map.sections.flatMap((s) => s.rows.flatMap((r) => r.seats));
