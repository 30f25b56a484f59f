import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, HoldsTable } from '../../platform/database/schema.js';

export type HoldRow = Selectable<HoldsTable>;

// A literal, not a parameter: prepared statements may run on a generic plan, which can use
// the partial indexes on active holds only when the status is written into the SQL.
const ACTIVE = sql.lit('active' as const);

export class HoldRepository {
  constructor(private readonly db: Kysely<DB>) {}

  findById(id: string, executor: Kysely<DB> = this.db): Promise<HoldRow | undefined> {
    return executor.selectFrom('holds').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Locks an active hold for a state change; undefined when it is not active any more. */
  lockActive(holdId: string, trx: Kysely<DB>): Promise<HoldRow | undefined> {
    return trx
      .selectFrom('holds')
      .selectAll()
      .where('id', '=', holdId)
      .where('status', '=', ACTIVE)
      .forUpdate()
      .executeTakeFirst();
  }

  /** Every active hold of an event, locked (event cancellation). */
  lockActiveOfEvent(eventId: string, trx: Kysely<DB>): Promise<HoldRow[]> {
    return trx
      .selectFrom('holds')
      .selectAll()
      .where('event_id', '=', eventId)
      .where('status', '=', ACTIVE)
      .orderBy('id')
      .forUpdate()
      .execute();
  }

  async setStatus(
    holdId: string,
    status: 'released' | 'expired' | 'converted',
    now: Date,
    trx: Kysely<DB>,
  ): Promise<void> {
    await trx
      .updateTable('holds')
      // The deferred triggers move the event's counters for this change (migration 010).
      .set({ status, released_at: status === 'converted' ? null : now, counters_moved: false })
      .where('id', '=', holdId)
      .execute();
  }

  /**
   * Active holds past their expiry, locked for release. Rows another transaction is working
   * on are skipped, so sweepers on many instances never release one hold twice.
   */
  async lockExpired(
    now: Date,
    scope: { eventId?: string; seatIds?: string[]; limit: number },
    trx: Kysely<DB>,
  ): Promise<HoldRow[]> {
    let query = trx
      .selectFrom('holds')
      .selectAll()
      .where('status', '=', ACTIVE)
      .where('expires_at', '<=', now);
    if (scope.eventId) query = query.where('event_id', '=', scope.eventId);
    if (scope.seatIds) {
      const seatIds = scope.seatIds;
      query = query.where('id', 'in', (eb) =>
        eb
          .selectFrom('event_seats')
          .select('hold_id')
          .where('id', 'in', seatIds)
          .where('hold_id', 'is not', null)
          .$narrowType<{ hold_id: string }>(),
      );
    }
    return query.orderBy('expires_at').limit(scope.limit).forUpdate().skipLocked().execute();
  }

  async activeCount(now: Date, executor: Kysely<DB> = this.db): Promise<number> {
    const row = await executor
      .selectFrom('holds')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', ACTIVE)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
