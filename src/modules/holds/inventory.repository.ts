import { sql, type Kysely } from 'kysely';
import type { DB } from '../../infra/postgres/schema.js';

/**
 * Moves seats between available, held and sold. Every move is a conditional write in the
 * caller's transaction. The event's counters follow the holds' state changes at COMMIT
 * (migration 008), where the events table's CHECKs refuse any move that would oversell, so
 * correctness never depends on a check made earlier or outside the database.
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

  /** held → available for the seats of a hold that is being released or has expired. */
  async returnHeldSeats(trx: Kysely<DB>, holdId: string): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`
      UPDATE event_seats SET status = 'available', hold_id = NULL
      WHERE hold_id = ${holdId} RETURNING id`.execute(trx);
    return rows.map((r) => r.id);
  }

  /** held → sold for the seats of a hold whose booking is confirmed (none for GA). */
  async sellHeldSeats(trx: Kysely<DB>, holdId: string, bookingId: string): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`
      UPDATE event_seats SET status = 'sold', hold_id = NULL, booking_id = ${bookingId}
      WHERE hold_id = ${holdId} RETURNING id`.execute(trx);
    return rows.map((r) => r.id);
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
