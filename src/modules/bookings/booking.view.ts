import type { BookingRow, BookingWithDetails } from './booking.repository.js';
import type { BookingSummaryView, BookingView } from './booking.schemas.js';

export function toBookingSummary(row: BookingRow): BookingSummaryView {
  return {
    id: row.id,
    eventId: row.event_id,
    userId: row.user_id,
    holdId: row.hold_id,
    status: row.status,
    quantity: row.quantity,
    totalCents: row.total_cents,
    refundCents: row.refund_cents,
    currency: row.currency,
    failureCode: row.failure_code,
    createdAt: row.created_at.toISOString(),
    confirmedAt: row.confirmed_at?.toISOString() ?? null,
    cancelledAt: row.cancelled_at?.toISOString() ?? null,
  };
}

export function toBookingView({ row, tickets, saga }: BookingWithDetails): BookingView {
  return {
    ...toBookingSummary(row),
    tickets: tickets.map((t) => ({ id: t.id, seatId: t.seat_id, code: t.code, status: t.status })),
    saga: saga ? toSagaState(saga) : null,
  };
}

export function toSagaState(saga: NonNullable<BookingWithDetails['saga']>) {
  return {
    id: saga.id,
    type: saga.type,
    status: saga.status,
    step: saga.step,
    attempts: saga.attempts,
    lastError: saga.last_error,
  };
}
