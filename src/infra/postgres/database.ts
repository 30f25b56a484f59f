import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { prepareParameterizedQueries } from './prepared-statements.js';
import type { DB } from '../../platform/database/schema.js';
import type { Database } from '../../platform/database/database.js';

export type { Database, DatabaseMode, ScriptSession } from '../../platform/database/database.js';

// Dates in, Dates out: timestamptz parses to Date by default; bigint (count(*)) to number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function connectPostgres(
  url: string,
  poolSize: number,
  options: { preparedStatements?: boolean } = {},
): Database {
  const preparing = options.preparedStatements ?? true;
  const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000 });
  // A client losing its connection (a restart, a failover, pg_terminate_backend) must not
  // crash the process: idle ones are reported on the pool, which replaces them; checked-out
  // ones on the client itself, whose running query fails on its own.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    if (preparing) prepareParameterizedQueries(client);
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    mode: 'postgres',
    async withExclusiveSession(lockKey, work) {
      return db.connection().execute(async (conn) => {
        await sql`select pg_advisory_lock(${lockKey})`.execute(conn);
        try {
          // No parameters: pg sends it as a simple query, which runs several statements
          // as one implicit transaction.
          return await work({
            runScript: async (script) => {
              await conn.executeQuery(CompiledQuery.raw(script));
            },
            queryRows: async <R>(statement: string) =>
              (await conn.executeQuery<R>(CompiledQuery.raw(statement))).rows as R[],
          });
        } finally {
          await sql`select pg_advisory_unlock(${lockKey})`.execute(conn);
        }
      });
    },
    async listen(channel, onNotify) {
      // A dedicated connection: LISTEN belongs to a session, and pooled ones come and go.
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      client.on('notification', () => onNotify());
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      return async () => {
        await client.end().catch(() => undefined);
      };
    },
    close: () => db.destroy(),
  };
}

/** PGlite persisted under `<dataDir>/pglite`, or in memory when dataDir is null (tests). */
export async function openEmbedded(dataDir: string | null): Promise<Database> {
  let directory: string | undefined;
  if (dataDir) {
    directory = join(dataDir, 'pglite');
    mkdirSync(directory, { recursive: true });
  }
  const pglite = await PGlite.create(directory ? { dataDir: directory } : {});
  const db = new Kysely<DB>({ dialect: new PGliteDialect(yieldingBeforeQueries(pglite)) });
  return {
    db,
    mode: 'pglite',
    async withExclusiveSession(_lockKey, work) {
      // One process owns an embedded database, so there is nobody to take turns with; going
      // through Kysely's connection keeps other queries queued until the work is done.
      return db.connection().execute(() =>
        work({
          runScript: async (script) => {
            // PGlite's exec uses the simple query protocol: one implicit transaction.
            await pglite.exec(script);
          },
          queryRows: async <R>(statement: string) => (await pglite.query<R>(statement)).rows,
        }),
      );
    },
    async listen(channel, onNotify) {
      return pglite.listen(channel, () => onNotify());
    },
    close: () => db.destroy(),
  };
}

/**
 * PGlite runs each query synchronously on the main thread and answers through promises
 * alone, so a chain of queries (a queue of batches, consumers, sweepers) can run back to
 * back without Node ever polling its sockets: requests already read are served while those
 * still unread wait — seconds in a flash sale. Yielding to the event loop before each query
 * lets the waiting requests in first, so they are served in arrival order.
 */
function yieldingBeforeQueries(pglite: PGlite): PGlite {
  const query = pglite.query.bind(pglite);
  return new Proxy(pglite, {
    get(target, property) {
      if (property === 'query') {
        return async (...args: Parameters<PGlite['query']>) => {
          await new Promise<void>((resolve) => setImmediate(resolve));
          return query(...args);
        };
      }
      // PGlite's methods use private fields: they must run on the instance, not the proxy.
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}
