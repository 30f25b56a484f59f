import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';

/**
 * Work a caller adds to a repository's change (an audit row, say), run in the same
 * transaction with the changed row, so both commit or neither does.
 */
export type AlsoInTransaction<R> = (trx: Kysely<DB>, row: R) => Promise<void>;

/**
 * Runs a single-statement change alone, or, when the caller has more to do with it, in a
 * transaction together with that work (which runs only when the change found its row).
 */
export async function changeWith<R>(
  db: Kysely<DB>,
  also: AlsoInTransaction<R> | undefined,
  change: (executor: Kysely<DB>) => Promise<R | undefined>,
): Promise<R | undefined> {
  if (!also) return change(db);
  return db.transaction().execute(async (trx) => {
    const row = await change(trx);
    if (row !== undefined) await also(trx, row);
    return row;
  });
}
