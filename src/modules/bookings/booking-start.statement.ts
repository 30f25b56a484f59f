import { sql, type Kysely } from 'kysely';
import {
  BOOKING_DATE_COLUMNS,
  HOLD_DATE_COLUMNS,
  SAGA_DATE_COLUMNS,
  rowFromJson,
} from '../../infra/postgres/json-row.js';
import type { DB } from '../../platform/database/schema.js';
import type { SagaRow } from '../../platform/saga/saga.repository.js';
import type { AuditContext } from '../audit/index.js';
import type { HoldRow } from '../holds/index.js';
import type { BookingRow } from './booking.repository.js';

export interface BookingStart {
  bookingId: string;
  holdId: string;
  userId: string;
  token: string;
  audit: AuditContext;
  /** The saga's first lease: the request's own when it drives it inline, none for a worker. */
  lockedUntil: Date | null;
  /** Put the saga on the saga queue (a worker drives it). */
  queue: boolean;
  traceContext: Record<string, string> | null;
}

export interface BookingStarted {
  /** The hold as it was, whoever's it is; undefined when there is none. */
  hold: HoldRow | undefined;
  /** The pending booking this statement created, with its saga. */
  booking: BookingRow | undefined;
  saga: SagaRow | undefined;
  /** The hold's live (pending or confirmed) booking before this statement. */
  live: BookingRow | undefined;
}

interface StartRow {
  idx: number;
  hold: Record<string, unknown> | null;
  booking: Record<string, unknown> | null;
  saga: Record<string, unknown> | null;
  live: Record<string, unknown> | null;
}

/**
 * Bookings' starts in one round trip for a batch (`start_booking_batch`, migration 012): each
 * request's pending booking (only for the caller's active hold; a live booking of the hold
 * makes it a no-op), its saga at `charge`, and the saga's queue message when a worker is to
 * drive it — with what the caller needs to answer a repeat or a refusal.
 */
export async function startBookings(
  db: Kysely<DB>,
  now: Date,
  starts: BookingStart[],
): Promise<BookingStarted[]> {
  const requests = starts.map((s) => ({
    bookingId: s.bookingId,
    holdId: s.holdId,
    userId: s.userId,
    token: s.token,
    audit: s.audit,
    lockedUntil: s.lockedUntil?.toISOString() ?? null,
    queue: s.queue,
    traceContext: s.traceContext,
  }));
  const { rows } = await sql<StartRow>`
    SELECT idx, hold, booking, saga, live
    FROM start_booking_batch(${now}::timestamptz, ${JSON.stringify(requests)}::jsonb)`.execute(db);
  if (rows.length !== starts.length) {
    throw new Error(`start_booking_batch answered ${rows.length} of ${starts.length} requests`);
  }
  const answers: BookingStarted[] = new Array(starts.length);
  for (const row of rows) {
    answers[row.idx] = {
      hold: row.hold ? rowFromJson<HoldRow>(row.hold, HOLD_DATE_COLUMNS) : undefined,
      booking: row.booking ? rowFromJson<BookingRow>(row.booking, BOOKING_DATE_COLUMNS) : undefined,
      saga: row.saga ? rowFromJson<SagaRow>(row.saga, SAGA_DATE_COLUMNS) : undefined,
      live: row.live ? rowFromJson<BookingRow>(row.live, BOOKING_DATE_COLUMNS) : undefined,
    };
  }
  return answers;
}
