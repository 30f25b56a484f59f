/**
 * `npm run bench:analytics [-- --bookings 1000000 --events 1000 --requests 300]`
 *
 * Loads N bookings across M events straight into a fresh database (the one DATABASE_URL
 * points at gets a sibling database; embedded PGlite otherwise), rolls them up, serves
 * Evently on a free port and measures the analytics endpoints over HTTP. Prints a table,
 * writes JSON to bench/results/, and exits non-zero when the served totals disagree with a
 * scan of the bookings table.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { createDependencies, type Dependencies } from '../src/composition.js';
import { loadConfig } from '../src/config.js';
import { connectPostgres, openEmbedded, type Database } from '../src/infra/postgres/database.js';
import { migrate } from '../src/infra/postgres/migrator.js';
import type { DB } from '../src/platform/database/schema.js';
import { AnalyticsRepository } from '../src/modules/analytics/analytics.repository.js';
import { percentile } from './flash-sale/load.js';

const { values: args } = parseArgs({
  options: {
    bookings: { type: 'string', default: '1000000' },
    events: { type: 'string', default: '1000' },
    requests: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '8' },
    keep: { type: 'boolean', default: false },
  },
});
const BOOKINGS = Number(args.bookings);
const EVENTS = Number(args.events);
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const DAYS = 90;
const DAY_MS = 86_400_000;
const PASSWORD = 'bench-password-long-enough';

const log = (message: string) => process.stdout.write(`${message}\n`);
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

async function openBenchDatabase(): Promise<{
  database: Database;
  url?: string;
  drop(): Promise<void>;
}> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const database = await openEmbedded(mkdtempSync(join(tmpdir(), 'evently-bench-')));
    return { database, drop: () => database.close() };
  }
  const name = `evently_analytics_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = connectPostgres(url.toString(), 10);
  return {
    database,
    url: url.toString(),
    async drop() {
      await database.close().catch(() => undefined); // closed already by the app

      if (args.keep) {
        log(`kept database ${name}`);
        return;
      }
      const again = new pg.Client({ connectionString: serverUrl });
      await again.connect();
      await again.query(`DROP DATABASE ${name}`);
      await again.end();
    },
  };
}

/** Users, events and bookings written with set-based SQL: the load is not what is measured. */
async function load(db: Kysely<DB>): Promise<void> {
  let started = performance.now();
  await sql`
    INSERT INTO users (email, name, password_hash, role)
    SELECT 'buyer' || n || '@bench.test', 'Buyer ' || n, 'x', 'user'
    FROM generate_series(1, 1000) n`.execute(db);
  const organizers = await sql<{ id: string }>`
    INSERT INTO users (email, name, password_hash, role)
    SELECT 'organizer' || n || '@bench.test', 'Organizer ' || n, 'x', 'organizer'
    FROM generate_series(1, 10) n RETURNING id`.execute(db);
  await sql`
    INSERT INTO events (organizer_id, name, starts_at, ends_at, seating, price_cents, currency,
                        status, published_at, capacity)
    SELECT (${JSON.stringify(organizers.rows.map((o) => o.id))}::jsonb ->> (n % 10)::int)::uuid,
           'Bench event ' || n, now() + interval '30 days', now() + interval '30 days 3 hours',
           'general', 1000 + (n % 7) * 500, 'EUR', 'published', now() - interval '100 days',
           ${Math.ceil((BOOKINGS / EVENTS) * 4) + 100}
    FROM generate_series(1, ${EVENTS}::int) n`.execute(db);
  log(`users and events in ${seconds(started)} s`);

  started = performance.now();
  const chunk = 100_000;
  for (let offset = 0; offset < BOOKINGS; offset += chunk) {
    const size = Math.min(chunk, BOOKINGS - offset);
    // Every tenth booking is cancelled and refunded some time after its confirmation.
    await sql`
      WITH e AS (SELECT id, price_cents, row_number() OVER (ORDER BY id) - 1 AS i FROM events),
           u AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM users WHERE role = 'user'),
           raw AS (
             SELECT n, (random() * ${EVENTS - 1}::int)::int AS ei, (random() * 999)::int AS ui,
                    1 + (random() * 3)::int AS quantity,
                    now() - random() * interval '${sql.raw(String(DAYS))} days' AS confirmed_at,
                    n % 10 = 0 AS cancelled
             FROM generate_series(${offset + 1}::int, ${offset + size}::int) n)
      INSERT INTO bookings (event_id, user_id, status, quantity, total_cents, refund_cents,
                            currency, created_at, confirmed_at, cancelled_at)
      SELECT e.id, u.id, CASE WHEN cancelled THEN 'cancelled' ELSE 'confirmed' END,
             quantity, quantity * e.price_cents,
             CASE WHEN cancelled THEN quantity * e.price_cents ELSE 0 END, 'EUR',
             confirmed_at, confirmed_at,
             CASE WHEN cancelled THEN confirmed_at + (now() - confirmed_at) * random() END
      FROM raw JOIN e ON e.i = raw.ei JOIN u ON u.i = raw.ui`.execute(db);
    log(`  ${offset + size} bookings (${seconds(started)} s)`);
  }
  // What was sold goes into bucket 0 of each event's stock; the rebalance spreads the rest.
  await db.transaction().execute(async (trx) => {
    await sql`
      UPDATE event_stock st SET sold = s.sold, capacity = st.capacity + s.sold
      FROM (SELECT event_id, sum(quantity)::int AS sold FROM bookings
            WHERE status = 'confirmed' GROUP BY event_id) s
      WHERE st.event_id = s.event_id AND st.bucket = 0`.execute(trx);
    await sql`SELECT event_stock_rebalance(id, NULL, NULL, capacity) FROM events`.execute(trx);
  });
  await sql`ANALYZE`.execute(db);
  log(`bookings in ${seconds(started)} s`);
}

async function signIn(base: string, db: Kysely<DB>, role: 'admin' | 'organizer'): Promise<string> {
  const email = `${role}-${Date.now()}@bench.test`;
  const registered = await fetch(`${base}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, name: `Bench ${role}` }),
  });
  const { user } = (await registered.json()) as { user: { id: string } };
  await db.updateTable('users').set({ role }).where('id', '=', user.id).execute();
  if (role === 'organizer') {
    // The new organizer owns ten of the events, like the others.
    await sql`UPDATE events SET organizer_id = ${user.id}
              WHERE id IN (SELECT id FROM events ORDER BY id LIMIT 10)`.execute(db);
  }
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  return ((await login.json()) as { accessToken: string }).accessToken;
}

interface Measured {
  endpoint: string;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

async function measure(name: string, urls: () => string, token: string): Promise<Measured> {
  const timings: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next++ < REQUESTS) {
      const started = performance.now();
      const response = await fetch(urls(), { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${name}: ${response.status}`);
      timings.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  timings.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    endpoint: name,
    requests: timings.length,
    p50: round(percentile(timings, 50)),
    p95: round(percentile(timings, 95)),
    p99: round(percentile(timings, 99)),
    max: round(timings.at(-1)!),
  };
}

async function main(): Promise<void> {
  log(`analytics benchmark: ${BOOKINGS} bookings across ${EVENTS} events over ${DAYS} days`);
  const bench = await openBenchDatabase();
  let deps: Dependencies | undefined;
  let failed = false;
  try {
    await migrate(bench.database);
    const db = bench.database.db;
    await load(db);
    let started = performance.now();
    const analytics = new AnalyticsRepository(db);
    await analytics.rebuild();
    const rebuildSeconds = Number(seconds(started));
    log(`roll-ups rebuilt in ${rebuildSeconds} s`);

    const config = loadConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'evently-bench-data-')),
      DATABASE_URL: bench.url,
      BCRYPT_COST: '4',
      SEED_DEMO: 'false',
      RATE_LIMIT_ENABLED: 'false',
    });
    deps = await createDependencies(config, bench.database);
    const app = await buildApp(deps, { logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const [adminToken, organizerToken] = [
      await signIn(base, db, 'admin'),
      await signIn(base, db, 'organizer'),
    ];
    const eventIds = (await db.selectFrom('events').select('id').execute()).map((e) => e.id);
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const randomRange = (days: number) => {
      const to = now - Math.random() * (DAYS - days) * DAY_MS;
      return `from=${iso(to - days * DAY_MS)}&to=${iso(to)}`;
    };

    const results: Measured[] = [];
    const run = async (name: string, url: () => string, token = adminToken) => {
      await measure(name, url, token); // warm-up pass: plans and caches
      const measured = await measure(name, url, token);
      results.push(measured);
      log(`  ${name}: p50 ${measured.p50} ms, p95 ${measured.p95} ms`);
    };
    log('measuring (after one warm-up pass each):');
    await run('GET /admin/analytics (last 30 days)', () => `${base}/api/v1/admin/analytics`);
    await run(
      'GET /admin/analytics (random 7-day range, hourly)',
      () => `${base}/api/v1/admin/analytics?${randomRange(7)}`,
    );
    await run(
      'GET /admin/analytics (90 days, daily)',
      () =>
        `${base}/api/v1/admin/analytics?from=${iso(now - DAYS * DAY_MS)}&to=${iso(now)}&limit=100`,
    );
    await run(
      'GET /me/analytics (organizer, 30 days)',
      () => `${base}/api/v1/me/analytics`,
      organizerToken,
    );
    await run(
      'GET /events/:id/analytics (random event)',
      () =>
        `${base}/api/v1/events/${eventIds[Math.floor(Math.random() * eventIds.length)]}/analytics`,
    );

    // What the roll-ups save: the same 90-day totals computed by scanning bookings.
    const scanTimings: number[] = [];
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      await sql`
        SELECT count(*) FILTER (WHERE confirmed_at >= now() - interval '90 days'),
               sum(total_cents) FILTER (WHERE confirmed_at >= now() - interval '90 days'),
               count(*) FILTER (WHERE cancelled_at >= now() - interval '90 days')
        FROM bookings`.execute(db);
      scanTimings.push(performance.now() - started);
    }
    scanTimings.sort((a, b) => a - b);
    const scanMs = Math.round(percentile(scanTimings, 50));

    // Correctness: served totals over everything equal a scan of the bookings table.
    const served = (await (
      await fetch(
        `${base}/api/v1/admin/analytics?from=${iso(now - (DAYS + 1) * DAY_MS)}&to=${iso(Date.now() + 3_600_000)}`,
        { headers: { authorization: `Bearer ${adminToken}` } },
      )
    ).json()) as { totals: { bookings: number; revenueCents: number; cancellations: number } };
    const { rows } = await sql<{ bookings: number; revenue: string; cancellations: number }>`
      SELECT count(*)::int AS bookings, sum(total_cents - refund_cents)::bigint AS revenue,
             (count(*) FILTER (WHERE status = 'cancelled'))::int AS cancellations
      FROM bookings`.execute(db);
    const raw = rows[0]!;
    const agrees =
      served.totals.bookings === raw.bookings &&
      served.totals.revenueCents === Number(raw.revenue) &&
      served.totals.cancellations === raw.cancellations;
    failed = !agrees;

    // How fast the consumer's per-message update is (the stream must keep up with sales).
    started = performance.now();
    const applies = 2000;
    for (let i = 0; i < applies; i++) {
      await db.transaction().execute((trx) =>
        analytics.apply(
          {
            eventId: eventIds[i % eventIds.length]!,
            shard: i % 8,
            at: new Date(),
            bookings: 1,
            tickets: 2,
            revenueCents: 5000,
            cancellations: 0,
            cancelledTickets: 0,
            refundedCents: 0,
          },
          trx,
        ),
      );
    }
    const appliesPerSecond = Math.round(applies / ((performance.now() - started) / 1000));

    console.table(results);
    log(`full scan of bookings for the 90-day totals: ${scanMs} ms (the roll-ups avoid it)`);
    log(`roll-up updates, one transaction each, sequential: ${appliesPerSecond}/s`);
    log(`served totals agree with the bookings table: ${agrees ? 'yes' : 'NO'}`);
    const report = {
      at: new Date().toISOString(),
      mode: bench.url ? 'postgres' : 'pglite',
      bookings: BOOKINGS,
      events: EVENTS,
      requestsPerEndpoint: REQUESTS,
      concurrency: CONCURRENCY,
      rebuildSeconds,
      fullScanMs: scanMs,
      appliesPerSecond,
      totalsAgree: agrees,
      endpoints: results,
    };
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/analytics-${report.mode}-${report.at.replaceAll(':', '-')}.json`;
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`written to ${file}`);
    await app.close();
  } finally {
    await deps?.close().catch(() => undefined);
    await bench.drop().catch(() => undefined);
  }
  process.exit(failed ? 1 : 0);
}

await main();
