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
const names = new Map<string, string>();

function statementName(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined) return known;
  if (names.size >= MAX_NAMED_STATEMENTS || text.length > MAX_NAMED_TEXT_LENGTH) return undefined;
  const name = `evently_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  names.set(text, name);
  return name;
}

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
      if (name !== undefined) return query({ name, text, values });
    }
    return query(...args);
  };
  (client as unknown as { query: QueryFunction }).query = preparing;
}
