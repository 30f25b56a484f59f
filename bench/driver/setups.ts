/**
 * The driver setups, each running the hold path's one statement (migration 010, `hold_batch`)
 * with the same SQL text, the same JSON batch and the same mapping of the answer rows as
 * src/modules/holds/hold-batch.statement.ts.
 *
 *   kysely-pg          today's: Kysely's PostgresDialect over the app's pg.Pool (connectPostgres,
 *                      so the app's named prepared statements), `sql` as the statement class does
 *   pg-pool            plain pg.Pool, `pool.query({ name, text, values })`: no Kysely
 *   pg-pipeline        pg 8.23's `pipeline: true` on pg.Clients; pg.Pool cannot pipeline (it
 *                      checks a client out per query), so queries go to the client with the
 *                      fewest in flight
 *   postgres-js        postgres.js: prepared statements (its default), and when all its
 *                      connections are busy it writes further queries behind the running ones
 *                      (up to max_pipeline, 100, per connection). The batch goes in as
 *                      `sql.json(requests)`: postgres.js learns from the server that the
 *                      parameter is jsonb and serializes it itself (JSON.stringify), so an
 *                      already stringified batch would arrive as one JSON string
 */
import { sql } from 'kysely';
import pg from 'pg';
import postgres from 'postgres';
import { connectPostgres } from '../../src/infra/postgres/database.js';
import {
  holdAnswers,
  type HoldAnswer,
  type HoldBatchRow,
  type HoldRequest,
} from '../../src/modules/holds/hold-batch.statement.js';

export const HOLD_BATCH_SQL = `
      SELECT idx, outcome, seat_ids::text[] AS seat_ids, total_cents, currency, detail
      FROM hold_batch($1::uuid, $2::timestamptz, $3,
                      $4::jsonb)`;

export type { HoldRequest };

export interface DriverSetup {
  readonly name: string;
  hold(eventId: string, now: Date, requests: HoldRequest[]): Promise<HoldAnswer[]>;
  close(): Promise<void>;
}

export const SETUP_NAMES = ['kysely-pg', 'pg-pool', 'pg-pipeline', 'postgres-js'] as const;
export type SetupName = (typeof SETUP_NAMES)[number];

export function openSetup(
  name: SetupName,
  url: string,
  options: { poolSize: number; asyncCommit: boolean },
): DriverSetup {
  const { poolSize, asyncCommit } = options;
  switch (name) {
    case 'kysely-pg': {
      const database = connectPostgres(url, poolSize);
      return {
        name,
        async hold(eventId, now, requests) {
          const { rows } = await sql<HoldBatchRow>`
      SELECT idx, outcome, seat_ids::text[] AS seat_ids, total_cents, currency, detail
      FROM hold_batch(${eventId}::uuid, ${now}::timestamptz, ${asyncCommit},
                      ${JSON.stringify(requests)}::jsonb)`.execute(database.db);
          return holdAnswers(rows, requests.length);
        },
        close: () => database.close(),
      };
    }
    case 'pg-pool': {
      const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000 });
      pool.on('error', () => undefined);
      return {
        name,
        async hold(eventId, now, requests) {
          const { rows } = await pool.query<HoldBatchRow>({
            name: 'driver_hold_batch',
            text: HOLD_BATCH_SQL,
            values: [eventId, now, asyncCommit, JSON.stringify(requests)],
          });
          return holdAnswers(rows, requests.length);
        },
        close: () => pool.end(),
      };
    }
    case 'pg-pipeline': {
      const clients = Array.from({ length: poolSize }, () => {
        const client = new pg.Client({ connectionString: url, pipeline: true });
        client.on('error', () => undefined);
        return { client, inFlight: 0, connected: client.connect() };
      });
      const leastBusy = () => {
        let best = clients[0]!;
        for (const c of clients) if (c.inFlight < best.inFlight) best = c;
        return best;
      };
      return {
        name,
        async hold(eventId, now, requests) {
          const c = leastBusy();
          c.inFlight += 1;
          try {
            await c.connected;
            const { rows } = await c.client.query<HoldBatchRow>({
              name: 'driver_hold_batch',
              text: HOLD_BATCH_SQL,
              values: [eventId, now, asyncCommit, JSON.stringify(requests)],
            });
            return holdAnswers(rows, requests.length);
          } finally {
            c.inFlight -= 1;
          }
        },
        close: async () => {
          await Promise.all(clients.map((c) => c.client.end()));
        },
      };
    }
    case 'postgres-js': {
      const db = postgres(url, { max: poolSize, prepare: true, onnotice: () => undefined });
      return {
        name,
        async hold(eventId, now, requests) {
          const rows = await db<HoldBatchRow[]>`
      SELECT idx, outcome, seat_ids::text[] AS seat_ids, total_cents, currency, detail
      FROM hold_batch(${eventId}::uuid, ${now}::timestamptz, ${asyncCommit},
                      ${db.json(requests as unknown as postgres.JSONValue)}::jsonb)`;
          return holdAnswers(rows, requests.length);
        },
        close: () => db.end({ timeout: 5 }),
      };
    }
  }
}
