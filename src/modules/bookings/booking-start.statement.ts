import { sql, type Kysely } from 'kysely';
import {
  BOOKING_DATE_COLUMNS,
  HOLD_DATE_COLUMNS,
  SAGA_DATE_COLUMNS,
  rowFromJson,
} from '../../infra/postgres/json-row.js';
import type { DB } from '../../infra/postgres/schema.js';
import type { SagaRow } from '../../platform/saga/saga.repository.js';
import type { AuditContext } from '../audit/audit-context.js';
import type { HoldRow } from '../holds/hold.repository.js';
import type { BookingRow } from './booking.repository.js';
import { BOOKING_SAGA } from './booking.saga.js';
import { SAGA_START } from './saga-dispatcher.js';

export interface BookingStart {
  bookingId: string;
  holdId: string;
  userId: string;
  token: string;
  audit: AuditContext;
  now: Date;
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
  hold: Record<string, unknown> | null;
  booking: Record<string, unknown> | null;
  saga: Record<string, unknown> | null;
  live: Record<string, unknown> | null;
}

/**
 * A booking's start in one round trip: the pending booking (only for the caller's active
 * hold; a live booking of the hold makes it a no-op), its saga at `charge`, and the saga's
 * queue message when a worker is to drive it — with what the caller needs to answer a
 * repeat or a refusal.
 */
export async function startBooking(db: Kysely<DB>, start: BookingStart): Promise<BookingStarted> {
  const { rows } = await sql<StartRow>`
    WITH h AS (
      SELECT * FROM holds WHERE id = ${start.holdId}
    ), b AS (
      INSERT INTO bookings (id, event_id, user_id, hold_id, quantity, total_cents, currency)
      SELECT ${start.bookingId}, h.event_id, h.user_id, h.id, h.quantity, h.total_cents, h.currency
      FROM h
      WHERE h.user_id = ${start.userId} AND h.status = 'active' AND h.expires_at > ${start.now}
      ON CONFLICT (hold_id) WHERE status IN ('pending', 'confirmed') DO NOTHING
      RETURNING *
    ), s AS (
      INSERT INTO sagas (type, booking_id, step, payload, locked_until)
      SELECT ${BOOKING_SAGA}, b.id, 'charge',
             jsonb_build_object('holdId', b.hold_id, 'userId', b.user_id, 'eventId', b.event_id,
                                'token', ${start.token}::text, 'amountCents', b.total_cents,
                                'currency', b.currency, 'audit', ${JSON.stringify(start.audit)}::jsonb),
             ${start.lockedUntil}::timestamptz
      FROM b
      ON CONFLICT (booking_id, type) WHERE status IN ('running', 'compensating') DO NOTHING
      RETURNING *
    ), queued AS (
      INSERT INTO outbox (aggregate_type, aggregate_id, type, payload, trace_context)
      SELECT 'saga', s.id, ${SAGA_START}, jsonb_build_object('sagaId', s.id, 'bookingId', s.booking_id),
             ${start.traceContext ? JSON.stringify(start.traceContext) : null}::jsonb
      FROM s WHERE ${start.queue}
    )
    SELECT (SELECT to_jsonb(h) FROM h) AS hold,
           (SELECT to_jsonb(b) FROM b) AS booking,
           (SELECT to_jsonb(s) FROM s) AS saga,
           (SELECT to_jsonb(l) FROM bookings l
            WHERE l.hold_id = ${start.holdId} AND l.status IN ('pending', 'confirmed')
            LIMIT 1) AS live`.execute(db);
  const row = rows[0]!;
  return {
    hold: row.hold ? rowFromJson<HoldRow>(row.hold, HOLD_DATE_COLUMNS) : undefined,
    booking: row.booking ? rowFromJson<BookingRow>(row.booking, BOOKING_DATE_COLUMNS) : undefined,
    saga: row.saga ? rowFromJson<SagaRow>(row.saga, SAGA_DATE_COLUMNS) : undefined,
    live: row.live ? rowFromJson<BookingRow>(row.live, BOOKING_DATE_COLUMNS) : undefined,
  };
}
