import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Turns every parameterized query a pooled connection runs into a named prepared statement,
 * so PostgreSQL parses and plans each distinct statement once per connection instead of on
 * every call. On the booking path (some 45 short statements per booking) parsing and
 * planning are a large share of the database's CPU.
 *
 * Kysely sends the same SQL text for the same query shape, so the set of names is small; a
 * few shapes vary with a list's length (`in (…)`, multi-row inserts), so the number of names
 * is capped and anything past the cap, or very long, simply runs unnamed as before. Queries
 * without parameters (BEGIN, COMMIT, migration scripts of several statements) are left alone:
 * only the simple protocol runs several statements in one text.
 */
const MAX_NAMED_STATEMENTS = 1_000;
const MAX_NAMED_TEXT_LENGTH = 8_000;
const hashes = new Map<string, string>();

/**
 * Bumped when PostgreSQL refuses a prepared statement because a table it reads changed shape
 * (a migration added a column under a running instance: "cached plan must not change result
 * type"). Names carry it, so every connection prepares its statements afresh instead of
 * failing on the stale ones until it closes; the one query that hit it fails.
 */
let generation = 0;

function statementName(text: string): string | undefined {
  let hash = hashes.get(text);
  if (hash === undefined) {
    if (hashes.size >= MAX_NAMED_STATEMENTS || text.length > MAX_NAMED_TEXT_LENGTH)
      return undefined;
    hash = createHash('sha1').update(text).digest('hex').slice(0, 20);
    hashes.set(text, hash);
  }
  return `evently_${hash}_${generation}`;
}

const isStalePlan = (error: unknown) => {
  const e = error as { code?: string; message?: string } | undefined;
  return e?.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '');
};

type QueryFunction = (...args: unknown[]) => unknown;

/** Wraps `client.query` (a client of the pool, from its `connect` event). */
export function prepareParameterizedQueries(client: pg.PoolClient): void {
  const query = client.query.bind(client) as QueryFunction;
  const preparing: QueryFunction = (...args) => {
    const [text, values, callback] = args;
    if (
      typeof text === 'string' &&
      Array.isArray(values) &&
      values.length > 0 &&
      callback === undefined
    ) {
      const name = statementName(text);
      if (name !== undefined) {
        return (query({ name, text, values }) as Promise<unknown>).catch((error: unknown) => {
          if (isStalePlan(error)) generation += 1;
          throw error;
        });
      }
    }
    return query(...args);
  };
  (client as unknown as { query: QueryFunction }).query = preparing;
}
