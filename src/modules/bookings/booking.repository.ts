import { sql, type Kysely, type Selectable } from 'kysely';
import type { BookingsTable, DB, TicketsTable } from '../../platform/database/schema.js';
import { newestFirstPage } from '../../platform/database/keyset-page.js';
import type { SagaRow } from '../../platform/saga/saga.repository.js';

export type BookingRow = Selectable<BookingsTable>;
export type TicketRow = Selectable<TicketsTable>;

/** What a booking's view shows of it: the row, its tickets and its latest saga. */
export interface BookingWithDetails {
  row: BookingRow;
  tickets: Array<Pick<TicketRow, 'id' | 'seat_id' | 'code' | 'status'>>;
  saga: Pick<SagaRow, 'id' | 'type' | 'status' | 'step' | 'attempts' | 'last_error'> | undefined;
}

export class BookingRepository {
  constructor(private readonly db: Kysely<DB>) {}

  findById(id: string, executor: Kysely<DB> = this.db): Promise<BookingRow | undefined> {
    return executor.selectFrom('bookings').selectAll().where('id', '=', id).executeTakeFirst();
  }

  lockById(id: string, trx: Kysely<DB>): Promise<BookingRow | undefined> {
    return trx
      .selectFrom('bookings')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
  }

  async fail(
    id: string,
    failureCode: string,
    refundCents: number,
    now: Date,
    trx: Kysely<DB>,
  ): Promise<void> {
    await trx
      .updateTable('bookings')
      .set({
        status: 'failed',
        failure_code: failureCode,
        refund_cents: refundCents,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }

  async cancel(id: string, refundCents: number, now: Date, trx: Kysely<DB>): Promise<void> {
    await trx
      .updateTable('bookings')
      .set({ status: 'cancelled', refund_cents: refundCents, cancelled_at: now, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'confirmed')
      .execute();
  }

  async cancelTickets(bookingId: string, trx: Kysely<DB>): Promise<void> {
    await trx
      .updateTable('tickets')
      .set({ status: 'cancelled' })
      .where('booking_id', '=', bookingId)
      .execute();
  }

  /**
   * A booking with what its view shows of its tickets and latest saga, in one round trip
   * (the answer to every booking request reads it).
   */
  async findWithDetails(id: string): Promise<BookingWithDetails | undefined> {
    const { rows } = await sql<BookingRow & Omit<BookingWithDetails, 'row'>>`
      SELECT b.*,
        COALESCE((
          SELECT json_agg(json_build_object('id', t.id, 'seat_id', t.seat_id, 'code', t.code,
                                            'status', t.status) ORDER BY t.created_at, t.id)
          FROM tickets t WHERE t.booking_id = b.id), '[]'::json) AS tickets,
        (SELECT json_build_object('id', s.id, 'type', s.type, 'status', s.status, 'step', s.step,
                                  'attempts', s.attempts, 'last_error', s.last_error)
         FROM sagas s WHERE s.booking_id = b.id ORDER BY s.created_at DESC LIMIT 1) AS saga
      FROM bookings b WHERE b.id = ${id}`.execute(this.db);
    const found = rows[0];
    if (!found) return undefined;
    const { tickets, saga, ...row } = found;
    return { row, tickets, saga: saga ?? undefined };
  }

  async listByUser(
    userId: string,
    options: { limit: number; after?: { createdAt: Date; id: string } },
  ): Promise<{ rows: BookingRow[]; hasMore: boolean }> {
    const query = this.db.selectFrom('bookings').selectAll().where('user_id', '=', userId);
    return newestFirstPage(query, options.limit, options.after);
  }

  /** Confirmed bookings of an event (event cancellation). */
  async confirmedOfEvent(eventId: string, executor: Kysely<DB> = this.db): Promise<BookingRow[]> {
    return executor
      .selectFrom('bookings')
      .selectAll()
      .where('event_id', '=', eventId)
      .where('status', '=', 'confirmed')
      .execute();
  }
}
