import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { Clock } from '../../platform/clock.js';
import { writeOutbox } from '../../platform/outbox.js';
import { activeTraceContext } from '../../platform/telemetry.js';
import {
  startBookings,
  type BookingStart,
  type BookingStarted,
} from './booking-start.statement.js';
import { GroupCommitter } from '../../platform/group-commit.js';
import { AppError, forbidden, notFound } from '../../platform/errors.js';
import { cursorDate, decodeCursor, toPage } from '../../platform/pagination.js';
import type { SagaRepository, SagaRow } from '../../platform/saga/saga.repository.js';
import type { AuditContext } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import type { EventLookup } from '../events/index.js';
import type { HoldInventory } from '../holds/index.js';
import type { BookingMetrics } from './booking.metrics.js';
import type { BookingRepository, BookingRow, BookingWithDetails } from './booking.repository.js';
import type { SagaEffects, SagaSettings } from './booking.saga.js';
import type { BookingView } from './booking.schemas.js';
import { toBookingSummary, toBookingView } from './booking.view.js';
import {
  CANCELLATION_SAGA,
  cancellationPayload,
  type CancellationPayload,
} from './cancellation.saga.js';
import type { SagaDriver } from './saga-driver.js';
import { SAGA_START } from './saga-dispatcher.js';

const JOIN_POLL_MS = 50;

export class BookingService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly bookings: BookingRepository,
    private readonly inventory: HoldInventory,
    private readonly events: EventLookup,
    private readonly sagas: SagaRepository,
    private readonly driver: SagaDriver,
    private readonly clock: Clock,
    private readonly metrics: BookingMetrics,
    private readonly settings: SagaSettings & {
      joinWaitMs: number;
      retryAfterSeconds: number;
      maxBatch: number;
    },
  ) {
    this.starts = new GroupCommitter(
      (_key, starts) => startBookings(this.db, this.clock.now(), starts),
      { maxBatch: settings.maxBatch },
    );
  }

  /** Booking starts that arrive together share one statement (one commit). */
  private readonly starts: GroupCommitter<BookingStart, BookingStarted>;

  /**
   * Books a hold: starts the booking saga and runs it inline. Repeats for the same hold (a
   * retry, a double submit) join the booking already under way instead of paying twice.
   */
  async book(
    actor: Principal,
    input: { holdId: string; token: string },
    audit: AuditContext,
  ): Promise<BookingView> {
    const started = await this.start(actor, input, audit, 'inline');
    if ('existing' in started) {
      if (!started.existing) throw new AppError('BOOKING_IN_PROGRESS', 'Retry in a moment');
      return this.outcome((await this.awaitSettled(started.existing.id)).id);
    }
    const effects: SagaEffects = { released: [], eventIds: new Set() };
    await this.driver.drive(started.saga, effects);
    return this.outcome(started.booking.id, effects.confirmed);
  }

  /**
   * `Prefer: respond-async`: records the booking and its saga and returns at once; a worker
   * picks the saga up from the queue (`saga.start`), so accepting bookings is not limited by
   * how fast the payment provider answers.
   */
  async bookAsync(
    actor: Principal,
    input: { holdId: string; token: string },
    audit: AuditContext,
  ): Promise<BookingRow> {
    const started = await this.start(actor, input, audit, 'worker');
    if ('existing' in started) {
      if (!started.existing) throw new AppError('BOOKING_IN_PROGRESS', 'Retry in a moment');
      return started.existing;
    }
    return started.booking;
  }

  /**
   * A worker received the saga from the queue: claim it (unless someone else owns it) and
   * drive it. `dispatchedUntil` is the lease the dispatcher took for it, handed over here.
   */
  async continueSaga(sagaId: string, dispatchedUntil?: Date): Promise<void> {
    const saga = await this.sagas.claimById(
      sagaId,
      this.clock.now(),
      this.settings.leaseMs,
      dispatchedUntil,
    );
    if (saga) await this.driver.drive(saga);
  }

  private async start(
    actor: Principal,
    input: { holdId: string; token: string },
    audit: AuditContext,
    runner: 'inline' | 'worker',
  ): Promise<{ existing: BookingRow | undefined } | { booking: BookingRow; saga: SagaRow }> {
    const now = this.clock.now();
    const started = await this.starts.submit('start', {
      bookingId: randomUUID(),
      holdId: input.holdId,
      userId: actor.userId,
      token: input.token,
      audit,
      // Inline: this request owns it. For a worker: no owner yet, so the first claim is a
      // first attempt (and the recovery loop is the fallback if the message were lost).
      lockedUntil: runner === 'inline' ? new Date(now.getTime() + this.settings.leaseMs) : null,
      queue: runner === 'worker',
      traceContext: activeTraceContext() ?? null,
    });
    const { hold } = started;
    if (!hold || hold.user_id !== actor.userId) throw notFound('Hold');
    if (started.booking && started.saga) return { booking: started.booking, saga: started.saga };
    if (started.booking) throw new AppError('BOOKING_IN_PROGRESS', 'Retry in a moment');
    // A repeat of a request that booked this hold (or a double submit) answers with that
    // booking.
    if (started.live) return { existing: started.live };
    if (hold.status !== 'active' || hold.expires_at <= now) {
      throw new AppError(
        'HOLD_EXPIRED',
        'The hold has expired or was released; hold the seats again',
      );
    }
    return { existing: undefined };
  }

  async get(actor: Principal, id: string): Promise<BookingView> {
    const found = await this.bookings.findWithDetails(id);
    if (!found) throw notFound('Booking');
    await this.assertMayAccess(actor, found.row);
    return toBookingView(found);
  }

  async listMine(actor: Principal, query: { limit: number; cursor?: string }) {
    const after = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const page = await this.bookings.listByUser(actor.userId, {
      limit: query.limit,
      after: after && { createdAt: cursorDate(after.createdAt), id: after.id },
    });
    return toPage(page, toBookingSummary, (row) => ({
      createdAt: row.created_at.toISOString(),
      id: row.id,
    }));
  }

  /** Cancels a confirmed booking (refund, then seats back). Cancelling twice is harmless. */
  async cancel(
    actor: Principal,
    id: string,
    audit: AuditContext,
  ): Promise<{ id: string; status: 'cancelled'; refundCents: number }> {
    const booking = await this.bookings.findById(id);
    if (!booking) throw notFound('Booking');
    await this.assertMayAccess(actor, booking);
    if (booking.status === 'cancelled')
      return { id, status: 'cancelled', refundCents: booking.refund_cents };
    if (booking.status !== 'confirmed') {
      throw new AppError('INVALID_STATE', `A ${booking.status} booking cannot be cancelled`);
    }
    const saga = await this.startCancellation(this.db, booking, 'requested', audit, true);
    if (saga) await this.driver.drive(saga);
    const after = await this.awaitSettled(id, 'cancelled');
    if (after.status !== 'cancelled') {
      this.metrics.operation('cancel', 'pending');
      throw new AppError(
        'PAYMENT_UNAVAILABLE',
        'The refund could not be made yet; the cancellation will complete',
        {
          headers: { 'retry-after': String(this.settings.retryAfterSeconds) },
        },
      );
    }
    this.metrics.operation('cancel', 'success');
    return { id, status: 'cancelled', refundCents: after.refund_cents };
  }

  /**
   * An event was cancelled: release its holds and start a cancellation saga for every
   * confirmed booking. The sagas go to the saga queue with the same commit, so the refunds
   * are spread over the workers instead of running in this request.
   */
  async cancelEvent(eventId: string, audit: AuditContext): Promise<void> {
    const now = this.clock.now();
    await this.db.transaction().execute(async (trx) => {
      const confirmed = await this.bookings.confirmedOfEvent(trx, eventId);
      const queued: Array<{ sagaId: string; bookingId: string }> = [];
      for (const booking of confirmed) {
        const saga = await this.startCancellation(trx, booking, 'event_cancelled', audit, false);
        if (saga) queued.push({ sagaId: saga.id, bookingId: booking.id });
      }
      await queueSagas(trx, queued);
      await this.inventory.releaseAllOfEvent(trx, eventId, now);
    });
  }

  private async startCancellation(
    executor: Kysely<DB>,
    booking: BookingRow,
    reason: CancellationPayload['reason'],
    audit: AuditContext,
    ownNow: boolean,
  ): Promise<SagaRow | undefined> {
    const payload: CancellationPayload = {
      bookingId: booking.id,
      eventId: booking.event_id,
      userId: booking.user_id,
      chargeId: booking.payment_ref,
      amountCents: booking.total_cents,
      reason,
      audit,
    };
    return this.sagas.insert(executor, {
      type: CANCELLATION_SAGA,
      bookingId: booking.id,
      step: 'refund',
      payload: cancellationPayload.write(payload),
      // Owned by this request when it drives it now; otherwise left for a queue worker.
      lockedUntil: ownNow ? new Date(this.clock.now().getTime() + this.settings.leaseMs) : null,
    });
  }

  /** Waits (briefly) for a booking to leave `pending` or reach `target`. */
  private async awaitSettled(id: string, target?: BookingRow['status']): Promise<BookingRow> {
    const deadline = Date.now() + this.settings.joinWaitMs;
    for (;;) {
      const booking = await this.bookings.findById(id);
      if (!booking) throw notFound('Booking');
      const settled = target ? booking.status === target : booking.status !== 'pending';
      if (settled || Date.now() > deadline) return booking;
      await new Promise((resolve) => setTimeout(resolve, JOIN_POLL_MS));
    }
  }

  /** The answer for a booking request, from the booking's state. */
  private async outcome(bookingId: string, known?: BookingWithDetails): Promise<BookingView> {
    const found = known ?? (await this.bookings.findWithDetails(bookingId));
    if (!found) throw notFound('Booking');
    const booking = found.row;
    const extra = { bookingId: booking.id };
    switch (booking.status) {
      case 'confirmed':
      case 'cancelled':
        this.metrics.operation('book', 'success');
        return toBookingView(found);
      case 'pending':
        this.metrics.operation('book', 'pending');
        throw new AppError(
          'PAYMENT_UNAVAILABLE',
          'The payment provider did not answer; the booking will be settled',
          {
            ...extra,
            headers: { 'retry-after': String(this.settings.retryAfterSeconds) },
          },
        );
      case 'failed': {
        this.metrics.operation('book', (booking.failure_code ?? 'failed').toLowerCase());
        if (booking.failure_code === 'PAYMENT_DECLINED') {
          throw new AppError(
            'PAYMENT_DECLINED',
            'The card was declined; the hold is kept until it expires',
            extra,
          );
        }
        if (booking.failure_code === 'HOLD_EXPIRED') {
          throw new AppError(
            'HOLD_EXPIRED',
            'The hold expired before the payment completed; it was refunded',
            extra,
          );
        }
        if (booking.failure_code === 'SALES_CLOSED') {
          throw new AppError(
            'SALES_CLOSED',
            'The event was cancelled; the payment was refunded',
            extra,
          );
        }
        throw new AppError('PAYMENT_UNAVAILABLE', 'Payments are unavailable; try again shortly', {
          ...extra,
          headers: { 'retry-after': String(this.settings.retryAfterSeconds) },
        });
      }
    }
  }

  private async assertMayAccess(actor: Principal, booking: BookingRow): Promise<void> {
    if (actor.role === 'admin' || booking.user_id === actor.userId) return;
    const event = await this.events.findById(booking.event_id);
    if (event?.organizer_id === actor.userId) return;
    if (actor.role === 'organizer')
      throw forbidden('Only the holder, the event organizer or an admin');
    throw notFound('Booking');
  }
}

/** Puts new, unowned sagas on the saga queue, in the transaction that created them. */
function queueSagas(
  trx: Kysely<DB>,
  sagas: Array<{ sagaId: string; bookingId: string }>,
): Promise<void> {
  return writeOutbox(
    trx,
    sagas.map(({ sagaId, bookingId }) => ({
      type: SAGA_START,
      aggregateType: 'saga',
      aggregateId: sagaId,
      payload: { sagaId, bookingId },
    })),
  );
}
