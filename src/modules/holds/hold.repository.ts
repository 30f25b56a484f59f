import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB, HoldsTable } from '../../infra/postgres/schema.js';
import type { EventRow } from '../events/event.repository.js';

export type HoldRow = Selectable<HoldsTable>;

// A literal, not a parameter: prepared statements may run on a generic plan, which can use
// the partial indexes on active holds only when the status is written into the SQL.
const ACTIVE = sql.lit('active' as const);

export class HoldRepository {
  /**
   * Serializes one user's hold attempts on one event (a transaction-scoped advisory lock), so
   * the per-user ticket limit cannot be raced past by parallel requests. With `asyncCommit`
   * the same statement makes this transaction's commit asynchronous (no extra round trip).
   */
  async lockUserOnEvent(
    trx: Kysely<DB>,
    userId: string,
    eventId: string,
    options: { asyncCommit: boolean } = { asyncCommit: false },
  ): Promise<void> {
    const lock = sql`pg_advisory_xact_lock(hashtextextended(${`${userId}:${eventId}`}, 0))`;
    await (
      options.asyncCommit
        ? sql`SELECT ${lock}, set_config('synchronous_commit', 'off', true)`
        : sql`SELECT ${lock}`
    ).execute(trx);
  }

  /**
   * The event, with the tickets the user already has on it (live holds plus confirmed
   * bookings), in one round trip. Read after lockUserOnEvent, so the count is current.
   */
  async eventWithTicketsOfUser(
    trx: Kysely<DB>,
    userId: string,
    eventId: string,
    now: Date,
  ): Promise<{ event: EventRow; owned: number } | undefined> {
    const { rows } = await sql<EventRow & { owned_by_user: number }>`
      SELECT e.*, (
        COALESCE((SELECT SUM(quantity) FROM holds
                  WHERE user_id = ${userId} AND event_id = e.id
                    AND status = 'active' AND expires_at > ${now}), 0)
      + COALESCE((SELECT SUM(quantity) FROM bookings
                  WHERE user_id = ${userId} AND event_id = e.id AND status = 'confirmed'), 0)
      )::int AS owned_by_user
      FROM events e WHERE e.id = ${eventId}`.execute(trx);
    const found = rows[0];
    if (!found) return undefined;
    const { owned_by_user: owned, ...event } = found;
    return { event, owned };
  }

  insert(
    trx: Kysely<DB>,
    hold: Omit<HoldRow, 'status' | 'created_at' | 'released_at'>,
  ): Promise<HoldRow> {
    return trx.insertInto('holds').values(hold).returningAll().executeTakeFirstOrThrow();
  }

  async insertSeats(trx: Kysely<DB>, holdId: string, seatIds: string[]): Promise<void> {
    if (seatIds.length === 0) return;
    await trx
      .insertInto('hold_seats')
      .values(seatIds.map((seat_id) => ({ hold_id: holdId, seat_id })))
      .execute();
  }

  findById(db: Kysely<DB>, id: string): Promise<HoldRow | undefined> {
    return db.selectFrom('holds').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async seatIds(db: Kysely<DB>, holdId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('hold_seats')
      .select('seat_id')
      .where('hold_id', '=', holdId)
      .execute();
    return rows.map((r) => r.seat_id);
  }

  /** Locks an active hold for a state change; undefined when it is not active any more. */
  lockActive(trx: Kysely<DB>, holdId: string): Promise<HoldRow | undefined> {
    return trx
      .selectFrom('holds')
      .selectAll()
      .where('id', '=', holdId)
      .where('status', '=', ACTIVE)
      .forUpdate()
      .executeTakeFirst();
  }

  /** Every active hold of an event, locked (event cancellation). */
  lockActiveOfEvent(trx: Kysely<DB>, eventId: string): Promise<HoldRow[]> {
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
    trx: Kysely<DB>,
    holdId: string,
    status: 'released' | 'expired' | 'converted',
    now: Date,
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
    trx: Kysely<DB>,
    now: Date,
    scope: { eventId?: string; seatIds?: string[]; limit: number },
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

  async activeCount(db: Kysely<DB>, now: Date): Promise<number> {
    const row = await db
      .selectFrom('holds')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', ACTIVE)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
