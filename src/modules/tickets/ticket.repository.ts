import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../../platform/database/schema.js';

export type TicketStatus = 'valid' | 'checked_in' | 'cancelled';

/** A reserved seat as people read it on a ticket. */
export interface SeatLabel {
  section: string;
  row: string;
  number: number;
}

/** A ticket with what its views show: its holder (from its booking) and its seat's labels. */
export interface TicketDetails {
  id: string;
  booking_id: string;
  event_id: string;
  holder_id: string;
  holder_name: string;
  seat: SeatLabel | null;
  code: string;
  status: TicketStatus;
  checked_in_at: Date | null;
}

/** A booking as its printed tickets need it. */
export interface BookingHolder {
  id: string;
  event_id: string;
  user_id: string;
  status: string;
  holder_name: string;
}

/** One line of the offline manifest: the code only as its SHA-256, never in plain text. */
export interface ManifestRow {
  code_hash: string;
  seat: SeatLabel | null;
  status: TicketStatus;
  checked_in_at: Date | null;
}

/** A ticket as the offline sync locks and decides it. */
export interface LockedTicket {
  id: string;
  code: string;
  booking_id: string;
  status: TicketStatus;
  checked_in_at: Date | null;
}

const seatOf = (alias: string): RawBuilder<SeatLabel | null> =>
  sql<SeatLabel | null>`CASE WHEN ${sql.ref(`${alias}.id`)} IS NULL THEN NULL ELSE json_build_object(
    'section', ${sql.ref(`${alias}.section`)}, 'row', ${sql.ref(`${alias}.row_label`)},
    'number', ${sql.ref(`${alias}.number`)}) END`;

// The holder's name and the seat's labels are read with the ticket, in its statement: a door
// scan stays one round trip (docs/architecture.md lists this read among the exceptions).
const DETAILS = sql`t.id, t.booking_id, t.event_id, b.user_id AS holder_id, u.name AS holder_name,
  ${seatOf('s')} AS seat, t.code, t.status, t.checked_in_at`;
const DETAIL_JOINS = sql`JOIN bookings b ON b.id = t.booking_id
  JOIN users u ON u.id = b.user_id
  LEFT JOIN event_seats s ON s.id = t.seat_id`;

/**
 * Tickets as the tickets module reads them and checks them in. The bookings module creates
 * and cancels them (with their booking); this module moves a valid ticket to checked_in.
 */
export class TicketRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async findDetails(
    id: string,
    executor: Kysely<DB> = this.db,
  ): Promise<TicketDetails | undefined> {
    const { rows } = await sql<TicketDetails>`
      SELECT ${DETAILS} FROM tickets t ${DETAIL_JOINS} WHERE t.id = ${id}`.execute(executor);
    return rows[0];
  }

  async detailsOfBooking(
    bookingId: string,
    executor: Kysely<DB> = this.db,
  ): Promise<TicketDetails[]> {
    const { rows } = await sql<TicketDetails>`
      SELECT ${DETAILS} FROM tickets t ${DETAIL_JOINS}
      WHERE t.booking_id = ${bookingId} ORDER BY t.created_at, t.id`.execute(executor);
    return rows;
  }

  async bookingHolder(
    bookingId: string,
    executor: Kysely<DB> = this.db,
  ): Promise<BookingHolder | undefined> {
    const { rows } = await sql<BookingHolder>`
      SELECT b.id, b.event_id, b.user_id, b.status, u.name AS holder_name
      FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.id = ${bookingId}`.execute(executor);
    return rows[0];
  }

  /**
   * The check-in itself: one conditional UPDATE. Of any number of concurrent scans of one
   * code, the first to lock the row moves it from valid; the others, re-reading it after that
   * commit, no longer match `status = 'valid'` and get no row. Undefined: not checked in now.
   */
  async checkIn(
    eventId: string,
    code: string,
    at: Date,
    trx: Kysely<DB>,
  ): Promise<TicketDetails | undefined> {
    const { rows } = await sql<TicketDetails>`
      WITH checked AS (
        UPDATE tickets SET status = 'checked_in', checked_in_at = ${at}
        WHERE event_id = ${eventId} AND code = ${code} AND status = 'valid'
        RETURNING *)
      SELECT ${DETAILS} FROM checked t ${DETAIL_JOINS}`.execute(trx);
    return rows[0];
  }

  /** Why a code was not checked in: its ticket's state at this event, if it has one. */
  findStateByCode(
    eventId: string,
    code: string,
    executor: Kysely<DB> = this.db,
  ): Promise<{ status: TicketStatus; checked_in_at: Date | null } | undefined> {
    return executor
      .selectFrom('tickets')
      .select(['status', 'checked_in_at'])
      .where('event_id', '=', eventId)
      .where('code', '=', code)
      .executeTakeFirst();
  }

  /** The event's tickets with these codes, locked in id order (concurrent syncs never deadlock). */
  lockByCodes(eventId: string, codes: string[], trx: Kysely<DB>): Promise<LockedTicket[]> {
    if (codes.length === 0) return Promise.resolve([]);
    return trx
      .selectFrom('tickets')
      .select(['id', 'code', 'booking_id', 'status', 'checked_in_at'])
      .where('event_id', '=', eventId)
      .where('code', 'in', codes)
      .orderBy('id')
      .forUpdate()
      .execute();
  }

  /** Sets a locked ticket's check-in time (a first check-in, or an earlier offline scan). */
  async setCheckedIn(id: string, at: Date, trx: Kysely<DB>): Promise<void> {
    await trx
      .updateTable('tickets')
      .set({ status: 'checked_in', checked_in_at: at })
      .where('id', '=', id)
      .where('status', '<>', 'cancelled')
      .execute();
  }

  /** Every ticket of the event for offline scanning; the hash is made in the database. */
  async manifest(eventId: string, executor: Kysely<DB> = this.db): Promise<ManifestRow[]> {
    const { rows } = await sql<ManifestRow>`
      SELECT encode(sha256(convert_to(t.code, 'UTF8')), 'hex') AS code_hash,
             ${seatOf('s')} AS seat, t.status, t.checked_in_at
      FROM tickets t LEFT JOIN event_seats s ON s.id = t.seat_id
      WHERE t.event_id = ${eventId} ORDER BY t.id`.execute(executor);
    return rows;
  }

  /** How many of the event's live tickets are checked in (cancelled ones count for neither). */
  async counts(
    eventId: string,
    executor: Kysely<DB> = this.db,
  ): Promise<{ checkedIn: number; total: number }> {
    const { rows } = await sql<{ checked_in: number; total: number }>`
      SELECT count(*) FILTER (WHERE status = 'checked_in')::int AS checked_in,
             count(*) FILTER (WHERE status <> 'cancelled')::int AS total
      FROM tickets WHERE event_id = ${eventId}`.execute(executor);
    const row = rows[0]!;
    return { checkedIn: row.checked_in, total: row.total };
  }
}
