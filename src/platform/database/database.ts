import type { Kysely } from 'kysely';
import type { DB } from './schema.js';

/**
 * The database port: what the platform and the modules need of a connection. Two adapters in
 * infra/postgres/database.ts implement it: node-postgres against PostgreSQL and the embedded
 * PGlite.
 */
export type DatabaseMode = 'postgres' | 'pglite';

/** Runs SQL scripts (several statements, no parameters) on one session. */
export interface ScriptSession {
  runScript(script: string): Promise<void>;
  /** One parameterless statement's rows. */
  queryRows<R>(statement: string): Promise<R[]>;
}

export interface Database {
  readonly db: Kysely<DB>;
  readonly mode: DatabaseMode;
  /**
   * Runs `work` while holding a cluster-wide advisory lock, on the single session the lock
   * belongs to, so concurrent starters take turns (used by migrations).
   */
  withExclusiveSession<T>(
    lockKey: bigint,
    work: (session: ScriptSession) => Promise<T>,
  ): Promise<T>;
  /** LISTENs on a channel; resolves to a function that stops listening. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
