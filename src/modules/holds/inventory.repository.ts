import { sql, type Kysely } from 'kysely';
import type { DB } from '../../infra/postgres/schema.js';

/**
 * Moves seats between available, held and sold. Every move is a conditional write in the
 * caller's transaction, and the events table's CHECKs refuse any move that would oversell,
 * so correctness never depends on a check made earlier or outside the database.
 */
export class InventoryRepository {
  /** Locks the requested seats that are still available, in id order (no deadlocks). */
  async lockAvailableSeats(
    trx: Kysely<DB>,
    eventId: string,
    seatIds: string[],
  ): Promise<Array<{ id: string; price_cents: number }>> {
    const { rows } = await sql<{ id: string; price_cents: number }>`
      SELECT id, price_cents FROM event_seats
      WHERE event_id = ${eventId} AND id = ANY(${seatIds}::uuid[]) AND status = 'available'
      ORDER BY id
      FOR UPDATE`.execute(trx);
    return rows;
  }

  /** The event's status, unlocked: enough to word a failure. */
  async eventStatus(trx: Kysely<DB>, eventId: string): Promise<string | undefined> {
    const { rows } = await sql<{ status: string }>`
      SELECT status FROM events WHERE id = ${eventId}`.execute(trx);
    return rows[0]?.status;
  }

  async existingSeatIds(trx: Kysely<DB>, eventId: string, seatIds: string[]): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`
      SELECT id FROM event_seats WHERE event_id = ${eventId} AND id = ANY(${seatIds}::uuid[])`.execute(
      trx,
    );
    return rows.map((r) => r.id);
  }

  async markSeatsHeld(trx: Kysely<DB>, holdId: string, seatIds: string[]): Promise<void> {
    await sql`
      UPDATE event_seats SET status = 'held', hold_id = ${holdId}
      WHERE id = ANY(${seatIds}::uuid[]) AND status = 'available'`.execute(trx);
  }

  /**
   * available → held for `quantity`, after first returning `released` tickets of expired holds
   * (held → available) in the same statement. Answers what is left available afterwards, or
   * undefined when not enough was left.
   */
  async holdCapacity(
    trx: Kysely<DB>,
    eventId: string,
    quantity: number,
    released = 0,
  ): Promise<number | undefined> {
    const { rows } = await sql<{ available: number }>`
      UPDATE events
      SET available = available + ${released}::int - ${quantity}::int,
          held = held - ${released}::int + ${quantity}::int
      WHERE id = ${eventId} AND available + ${released}::int >= ${quantity}::int
      RETURNING available`.execute(trx);
    return rows[0]?.available;
  }

  /** held → available for the seats of a hold that is being released or has expired. */
  async returnHeldSeats(trx: Kysely<DB>, holdId: string): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`
      UPDATE event_seats SET status = 'available', hold_id = NULL
      WHERE hold_id = ${holdId} RETURNING id`.execute(trx);
    return rows.map((r) => r.id);
  }

  /** held → available on the event's counters. */
  async returnHeldCount(trx: Kysely<DB>, eventId: string, quantity: number): Promise<void> {
    await sql`
      UPDATE events SET held = held - ${quantity}::int, available = available + ${quantity}::int
      WHERE id = ${eventId}`.execute(trx);
  }

  /** held → sold for the seats of a hold whose booking is confirmed (none for GA). */
  async sellHeldSeats(trx: Kysely<DB>, holdId: string, bookingId: string): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`
      UPDATE event_seats SET status = 'sold', hold_id = NULL, booking_id = ${bookingId}
      WHERE hold_id = ${holdId} RETURNING id`.execute(trx);
    return rows.map((r) => r.id);
  }

  /**
   * held → sold on the event's counters, only while it is on sale; false when it is not.
   * Callers make it their transaction's last statement: it locks the event row.
   */
  async sellHeldCount(trx: Kysely<DB>, eventId: string, quantity: number): Promise<boolean> {
    const { rows } = await sql<{ id: string }>`
      UPDATE events SET held = held - ${quantity}::int, sold = sold + ${quantity}::int
      WHERE id = ${eventId} AND status = 'published' RETURNING id`.execute(trx);
    return rows.length > 0;
  }

  /** sold → available for a cancelled booking. */
  async returnSold(
    trx: Kysely<DB>,
    eventId: string,
    bookingId: string,
    quantity: number,
  ): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`
      UPDATE event_seats SET status = 'available', booking_id = NULL
      WHERE booking_id = ${bookingId} RETURNING id`.execute(trx);
    await sql`
      UPDATE events SET sold = sold - ${quantity}::int, available = available + ${quantity}::int
      WHERE id = ${eventId}`.execute(trx);
    return rows.map((r) => r.id);
  }
}
