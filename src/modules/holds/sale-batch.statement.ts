import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { AuditContext } from '../audit/index.js';

/** A paid booking's confirmation as the sale statement takes it (migration 010, `confirm_batch`). */
export interface SaleRequest {
  sagaId: string;
  /** The lease the confirming driver holds on the saga; the sale is refused without it. */
  lockedUntil: Date | null;
  bookingId: string;
  holdId: string;
  userId: string;
  chargeId: string;
  amountCents: number;
  currency: string;
  /** The saga's payload as it is to be stored with the sale (the charge in it). */
  payload: Record<string, unknown>;
  audit: AuditContext;
  traceContext: Record<string, string> | null;
}

/**
 * CONFIRMED: sold, with the booking's row, tickets and saga as JSON; LATE: the hold is no
 * longer active; CLOSED: the event is no longer on sale; SETTLED: not pending any more;
 * LEASE_LOST: the saga is another driver's now.
 */
export type SaleOutcome = 'CONFIRMED' | 'LATE' | 'CLOSED' | 'SETTLED' | 'LEASE_LOST';

export interface SaleAnswer {
  outcome: SaleOutcome;
  detail: SoldBookingJson | null;
}

/** The booking as `to_jsonb` gives it: dates as strings. */
export interface SoldBookingJson {
  booking: Record<string, unknown> & { id: string };
  tickets: Array<{ id: string; seat_id: string | null; code: string; status: string }>;
  saga: {
    id: string;
    type: string;
    status: string;
    step: string;
    attempts: number;
    last_error: string | null;
  };
}

/**
 * The confirmation's one round trip: a batch of paid bookings of one event sold in one
 * statement (seats sold, tickets issued, booking confirmed, hold converted, audit, outbox,
 * the saga finished, the event's counters), one answer per booking.
 */
export class SaleBatchStatement {
  constructor(private readonly db: Kysely<DB>) {}

  async run(eventId: string, now: Date, requests: SaleRequest[]): Promise<SaleAnswer[]> {
    const { rows } = await sql<{
      idx: number;
      outcome: SaleOutcome;
      detail: SoldBookingJson | null;
    }>`
      SELECT idx, outcome, detail
      FROM confirm_batch(${eventId}::uuid, ${now}::timestamptz, ${JSON.stringify(requests)}::jsonb)`.execute(
      this.db,
    );
    if (rows.length !== requests.length) {
      throw new Error(`confirm_batch answered ${rows.length} of ${requests.length} requests`);
    }
    const answers: SaleAnswer[] = new Array(requests.length);
    for (const row of rows) answers[row.idx] = { outcome: row.outcome, detail: row.detail };
    return answers;
  }
}
