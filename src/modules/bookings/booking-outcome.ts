import { AppError, notFound } from '../../platform/errors.js';
import type { BookingMetrics } from './booking.metrics.js';
import type { BookingRepository, BookingRow, BookingWithDetails } from './booking.repository.js';
import type { BookingView } from './booking.schemas.js';
import { toBookingView } from './booking.view.js';

const JOIN_POLL_MS = 50;

/**
 * How a booking request is answered from the booking's state, and how a request waits for a
 * booking someone else is driving (a repeat, a double submit, a cancellation's refund).
 */
export class BookingOutcome {
  constructor(
    private readonly deps: {
      bookings: BookingRepository;
      metrics: BookingMetrics;
      settings: { joinWaitMs: number; retryAfterSeconds: number };
    },
  ) {}

  /** Waits (briefly) for a booking to leave `pending` or reach `target`. */
  async awaitSettled(id: string, target?: BookingRow['status']): Promise<BookingRow> {
    const deadline = Date.now() + this.deps.settings.joinWaitMs;
    for (;;) {
      const booking = await this.deps.bookings.findById(id);
      if (!booking) throw notFound('Booking');
      const settled = target ? booking.status === target : booking.status !== 'pending';
      if (settled || Date.now() > deadline) return booking;
      await new Promise((resolve) => setTimeout(resolve, JOIN_POLL_MS));
    }
  }

  /** The answer for a booking request: the booking, or the problem its state stands for. */
  async answer(bookingId: string, known?: BookingWithDetails): Promise<BookingView> {
    const found = known ?? (await this.deps.bookings.findWithDetails(bookingId));
    if (!found) throw notFound('Booking');
    const booking = found.row;
    const { metrics } = this.deps;
    switch (booking.status) {
      case 'confirmed':
      case 'cancelled':
        metrics.operation('book', 'success');
        return toBookingView(found);
      case 'pending':
        metrics.operation('book', 'pending');
        throw this.unavailable(
          booking.id,
          'The payment provider did not answer; the booking will be settled',
        );
      case 'failed':
        metrics.operation('book', (booking.failure_code ?? 'failed').toLowerCase());
        throw this.failure(booking);
    }
  }

  /** 503 with Retry-After: the outcome will be known later. */
  unavailable(bookingId: string | undefined, message: string): AppError {
    return new AppError('PAYMENT_UNAVAILABLE', message, {
      ...(bookingId ? { bookingId } : {}),
      headers: { 'retry-after': String(this.deps.settings.retryAfterSeconds) },
    });
  }

  private failure(booking: BookingRow): AppError {
    const extra = { bookingId: booking.id };
    switch (booking.failure_code) {
      case 'PAYMENT_DECLINED':
        return new AppError(
          'PAYMENT_DECLINED',
          'The card was declined; the hold is kept until it expires',
          extra,
        );
      case 'HOLD_EXPIRED':
        return new AppError(
          'HOLD_EXPIRED',
          'The hold expired before the payment completed; it was refunded',
          extra,
        );
      case 'SALES_CLOSED':
        return new AppError(
          'SALES_CLOSED',
          'The event was cancelled; the payment was refunded',
          extra,
        );
      default:
        return this.unavailable(booking.id, 'Payments are unavailable; try again shortly');
    }
  }
}
