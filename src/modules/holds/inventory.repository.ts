import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';

/**
 * The seat moves outside the booking path's own statements (holds and sales are made by
 * `hold_batch` and `confirm_batch`, migrations 010 and 013): a released or expired hold's
 * seats back, a cancelled booking's seats back. Each runs in the caller's transaction; a
 * release's counters follow the hold's status change at COMMIT, in the hold's stock bucket
 * (migrations 008 and 013).
 */
export class InventoryRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** held → available for the seats of a hold that is being released or has expired. */
  async returnHeldSeats(holdId: string, trx: Kysely<DB>): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`
      UPDATE event_seats SET status = 'available', hold_id = NULL
      WHERE hold_id = ${holdId} RETURNING id`.execute(trx);
    return rows.map((r) => r.id);
  }

  /** sold → available for a cancelled booking. */
  async returnSold(
    sale: { eventId: string; bookingId: string; holdId: string | null; quantity: number },
    trx: Kysely<DB>,
  ): Promise<string[]> {
    const { eventId, bookingId, holdId, quantity } = sale;
    const { rows } = await sql<{ id: string }>`
      UPDATE event_seats SET status = 'available', booking_id = NULL
      WHERE booking_id = ${bookingId} RETURNING id`.execute(trx);
    // Back into the stock bucket the booking's hold took the tickets from (migration 013).
    await sql`
      UPDATE event_stock s
      SET sold = s.sold - ${quantity}::int, available = s.available + ${quantity}::int
      FROM holds h
      WHERE h.id = ${holdId} AND s.event_id = ${eventId} AND s.bucket = h.bucket`.execute(trx);
    return rows.map((r) => r.id);
  }
}
