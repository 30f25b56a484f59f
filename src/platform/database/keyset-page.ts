import { sql, type SelectQueryBuilder } from 'kysely';

export interface Page<R> {
  rows: R[];
  hasMore: boolean;
}

export interface NewestFirstCursor {
  createdAt: Date;
  id: string;
}

/**
 * One page of a newest-first list keyed by (created_at, id): a row-value comparison walks the
 * index in order, and one extra row tells whether another page follows.
 */
export async function newestFirstPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  limit: number,
  before?: NewestFirstCursor,
): Promise<Page<O>> {
  const scoped = before
    ? query.where(sql<boolean>`(created_at, id) < (${before.createdAt}, ${before.id})`)
    : query;
  const rows = await scoped
    .orderBy(sql`created_at`, 'desc')
    .orderBy(sql`id`, 'desc')
    .limit(limit + 1)
    .execute();
  return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
}
