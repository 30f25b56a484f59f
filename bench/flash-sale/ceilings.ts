/**
 * Ceilings measured in the same run, on the same machine: the raw PostgreSQL rate of the
 * booking path's core transaction (pgbench with bench/pgbench/*.sql on a copy of Evently's
 * schema), and a bare Fastify route's requests/s under the same load generator.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { migrate } from '../../src/infra/postgres/migrator.js';
import { HttpClient, runVus, Stats, timed, type EndpointSummary } from './load.js';
import { freePort, ROOT, sampleResources, startNode, stop, waitForOutput } from './processes.js';
import { createDatabase } from './seed.js';

const run = promisify(execFile);

export interface PgbenchResult {
  script: string;
  clients: number;
  seconds: number;
  tps: number;
  latencyMs: number;
  failed: number;
}

export async function pgbenchAvailable(): Promise<string | null> {
  for (const candidate of ['pgbench', '/usr/lib/postgresql/15/bin/pgbench']) {
    try {
      await run(candidate, ['--version']);
      return candidate;
    } catch {
      // try the next
    }
  }
  return null;
}

/**
 * A scratch database migrated with Evently's own migrations: 25 reserved events of 20,000
 * seats each (so random pairs rarely collide during a run) and one general-admission event
 * large enough never to sell out.
 */
export async function runPgbench(
  serverUrl: string,
  pgbench: string,
  /** `prepared`: pgbench -M prepared, for scripts written with parameters. */
  runs: Array<{ script: string; clients: number; prepared?: boolean }>,
  seconds: number,
  log: (line: string) => void,
): Promise<PgbenchResult[]> {
  const scratch = await createDatabase(serverUrl, 'evently-pgbench', false);
  const results: PgbenchResult[] = [];
  try {
    const database = await scratch.open();
    await migrate(database);
    const db = database.db;
    const [user] = (
      await sql<{ id: string }>`
        INSERT INTO users (email, name, password_hash, role)
        VALUES ('pgbench@bench.test', 'pgbench', 'x', 'organizer') RETURNING id`.execute(db)
    ).rows;
    const [venue] = (
      await sql<{ id: string }>`
        INSERT INTO venues (owner_id, name, address, city, timezone, capacity)
        VALUES (${user!.id}, 'pgbench hall', 'x', 'x', 'UTC', 20000) RETURNING id`.execute(db)
    ).rows;
    await sql`CREATE TABLE pgb_events (n int PRIMARY KEY, id uuid NOT NULL)`.execute(db);
    // Buyers for ga-booking-path.sql: one per pgbench draw, so the per-user lock rarely waits.
    await sql`CREATE TABLE pgb_users (n int PRIMARY KEY, id uuid NOT NULL)`.execute(db);
    await sql`
      WITH u AS (
        INSERT INTO users (email, name, password_hash, role)
        SELECT 'pgbench' || n || '@bench.test', 'pgbench ' || n, 'x', 'user'
        FROM generate_series(1, 1000) n RETURNING id, name)
      INSERT INTO pgb_users SELECT split_part(name, ' ', 2)::int, id FROM u`.execute(db);
    await sql`
      WITH e AS (
        INSERT INTO events (organizer_id, venue_id, name, starts_at, ends_at, seating, price_cents,
                            currency, status, published_at, capacity)
        SELECT ${user!.id}, ${venue!.id}, 'pgbench ' || n, now() + interval '30 days',
               now() + interval '30 days 3 hours', 'reserved', 5000, 'EUR', 'published', now(),
               20000
        FROM generate_series(1, 25) n RETURNING id, name)
      INSERT INTO pgb_events SELECT split_part(name, ' ', 2)::int, id FROM e`.execute(db);
    await sql`
      INSERT INTO event_seats (event_id, section, row_label, number, price_cents, sort_key)
      SELECT e.id, 'S', 'R' || (k / 50), k % 50 + 1, 5000, k
      FROM pgb_events e, generate_series(1, 20000) k`.execute(db);
    const [ga] = (
      await sql<{ id: string }>`
        INSERT INTO events (organizer_id, name, starts_at, ends_at, seating, price_cents, currency,
                            status, published_at, capacity, max_tickets_per_user)
        VALUES (${user!.id}, 'pgbench GA', now() + interval '30 days',
                now() + interval '30 days 3 hours', 'general', 5000, 'EUR', 'published', now(),
                100000000, 100) RETURNING id`.execute(db)
    ).rows;
    await sql`VACUUM ANALYZE`.execute(db);
    await database.close();

    for (const { script, clients, prepared } of runs) {
      const args = [
        '-n',
        ...(prepared ? ['-M', 'prepared'] : []),
        '-c',
        String(clients),
        '-j',
        '2',
        '-T',
        String(seconds),
        '-D',
        `user_id=${user!.id}`,
        '-D',
        `ga_id=${ga!.id}`,
        '-f',
        join(ROOT, 'bench', 'pgbench', script),
        scratch.url!,
      ];
      const { stdout } = await run(pgbench, args, { maxBuffer: 10 * 1024 * 1024 });
      const number = (pattern: RegExp) => Number(pattern.exec(stdout)?.[1] ?? NaN);
      const result: PgbenchResult = {
        script,
        clients,
        seconds,
        tps: Math.round(number(/tps = ([\d.]+)/)),
        latencyMs: number(/latency average = ([\d.]+) ms/),
        failed: number(/number of failed transactions: (\d+)/) || 0,
      };
      log(
        `  pgbench ${script} -c ${clients}: ${result.tps} tps, ${result.latencyMs} ms average` +
          (result.failed ? `, ${result.failed} failed` : ''),
      );
      results.push(result);
    }
  } finally {
    await scratch.drop().catch(() => undefined);
  }
  return results;
}

export interface BareResult {
  path: string;
  bytes: number;
  seconds: number;
  summary: EndpointSummary;
  serverCpuCores: number;
}

/** The bare Fastify app serving `bodies` (path -> JSON text), measured one path at a time. */
export async function runBareRoute(
  bodies: { seats: string; events: string; event: string },
  vus: number,
  seconds: number,
  log: (line: string) => void,
): Promise<BareResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'evently-bare-'));
  const files = {
    BARE_SEATS_FILE: join(dir, 'seats.json'),
    BARE_EVENTS_FILE: join(dir, 'events.json'),
    BARE_EVENT_FILE: join(dir, 'event.json'),
  };
  writeFileSync(files.BARE_SEATS_FILE, bodies.seats);
  writeFileSync(files.BARE_EVENTS_FILE, bodies.events);
  writeFileSync(files.BARE_EVENT_FILE, bodies.event);
  const port = await freePort();
  const server = startNode(
    'bare-server',
    join(ROOT, 'bench', 'flash-sale', 'bare-server.ts'),
    [],
    { PATH: process.env.PATH, NODE_ENV: 'production', BARE_PORT: String(port), ...files },
    ['--import', 'tsx'],
  );
  const results: BareResult[] = [];
  try {
    await waitForOutput(server, /bare server listening/, 30_000);
    const client = new HttpClient(`http://127.0.0.1:${port}`, vus);
    for (const [path, body] of [
      ['/seats', bodies.seats],
      ['/events', bodies.events],
      ['/event', bodies.event],
    ] as const) {
      const stats = new Stats();
      const sampler = sampleResources(() => server.child.pid!);
      const result = await runVus(vus, seconds * 1000, async () => {
        await timed(stats, path, () => client.request('GET', path));
        return 'continue';
      });
      const resources = sampler.stop();
      const summary = stats.summary(result.seconds)[path]!;
      log(
        `  bare Fastify GET ${path} (${Buffer.byteLength(body)} bytes): ${summary.perSecond} req/s, ` +
          `p99 ${summary.p99} ms, server ${resources.serverCpuCores} cores`,
      );
      results.push({
        path,
        bytes: Buffer.byteLength(body),
        seconds: result.seconds,
        summary,
        serverCpuCores: resources.serverCpuCores,
      });
    }
    client.close();
  } finally {
    await stop(server, 5_000);
  }
  return results;
}
