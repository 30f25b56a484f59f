import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { BookingsTable, DB, TicketsTable } from '../../infra/postgres/schema.js';
import { newestFirstPage } from '../../infra/postgres/keyset-page.js';
import type { SagaRow } from '../../platform/saga/saga.repository.js';

export type BookingRow = Selectable<BookingsTable>;
export type TicketRow = Selectable<TicketsTable>;

/** What a booking's view shows of it: the row, its tickets and its latest saga. */
export interface BookingWithDetails {
  row: BookingRow;
  tickets: Array<Pick<TicketRow, 'id' | 'seat_id' | 'code' | 'status'>>;
  saga: Pick<SagaRow, 'id' | 'type' | 'status' | 'step' | 'attempts' | 'last_error'> | undefined;
}

/** 128 random bits, URL-safe: a ticket code cannot be guessed or enumerated. */
export const newTicketCode = () => randomBytes(16).toString('base64url');

export class BookingRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Inserts a pending booking; undefined when the hold already has a live one. */
  async insertPending(
    trx: Kysely<DB>,
    booking: Omit<
      BookingRow,
      | 'status'
      | 'refund_cents'
      | 'payment_ref'
      | 'failure_code'
      | 'created_at'
      | 'updated_at'
      | 'confirmed_at'
      | 'cancelled_at'
    >,
  ): Promise<BookingRow | undefined> {
    const { rows } = await sql<BookingRow>`
      INSERT INTO bookings (id, event_id, user_id, hold_id, quantity, total_cents, currency)
      VALUES (${booking.id}, ${booking.event_id}, ${booking.user_id}, ${booking.hold_id},
              ${booking.quantity}, ${booking.total_cents}, ${booking.currency})
      ON CONFLICT (hold_id) WHERE status IN ('pending', 'confirmed') DO NOTHING
      RETURNING *`.execute(trx);
    return rows[0];
  }

  findById(id: string, executor: Kysely<DB> = this.db): Promise<BookingRow | undefined> {
    return executor.selectFrom('bookings').selectAll().where('id', '=', id).executeTakeFirst();
  }

  lockById(trx: Kysely<DB>, id: string): Promise<BookingRow | undefined> {
    return trx
      .selectFrom('bookings')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
  }

  findLiveByHold(holdId: string, executor: Kysely<DB> = this.db): Promise<BookingRow | undefined> {
    return executor
      .selectFrom('bookings')
      .selectAll()
      .where('hold_id', '=', holdId)
      .where('status', 'in', ['pending', 'confirmed'])
      .executeTakeFirst();
  }

  async confirm(trx: Kysely<DB>, id: string, paymentRef: string, now: Date): Promise<void> {
    await trx
      .updateTable('bookings')
      .set({ status: 'confirmed', payment_ref: paymentRef, confirmed_at: now, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }

  async fail(
    trx: Kysely<DB>,
    id: string,
    failureCode: string,
    refundCents: number,
    now: Date,
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

  async cancel(trx: Kysely<DB>, id: string, refundCents: number, now: Date): Promise<void> {
    await trx
      .updateTable('bookings')
      .set({ status: 'cancelled', refund_cents: refundCents, cancelled_at: now, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'confirmed')
      .execute();
  }

  async insertTickets(
    trx: Kysely<DB>,
    booking: { id: string; event_id: string },
    seatIds: Array<string | null>,
  ): Promise<void> {
    await trx
      .insertInto('tickets')
      .values(
        seatIds.map((seatId) => ({
          booking_id: booking.id,
          event_id: booking.event_id,
          seat_id: seatId,
          code: newTicketCode(),
        })),
      )
      .execute();
  }

  async cancelTickets(trx: Kysely<DB>, bookingId: string): Promise<void> {
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
  async confirmedOfEvent(trx: Kysely<DB>, eventId: string): Promise<BookingRow[]> {
    return trx
      .selectFrom('bookings')
      .selectAll()
      .where('event_id', '=', eventId)
      .where('status', '=', 'confirmed')
      .execute();
  }
}
