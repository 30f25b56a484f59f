import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { DB } from '../../platform/database/schema.js';
import { AppError, notFound } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { SagaRepository } from '../../platform/saga/saga.repository.js';
import type { AuditContext } from '../audit/index.js';
import type { EventLookup } from '../events/index.js';
import { assertMayAccessBooking } from './booking-access.js';
import type { BookingOutcome } from './booking-outcome.js';
import type { BookingMetrics } from './booking.metrics.js';
import type { BookingRepository } from './booking.repository.js';
import type { SagaDriver } from './saga-driver.js';
import { startCancellation } from './start-cancellation.js';

/**
 * `POST /bookings/:id/cancel`: refund, then the seats go back. The request drives the
 * cancellation saga itself; a refund the provider cannot take now answers 503 and the saga
 * finishes later. Cancelling twice is harmless.
 */
export class CancelBooking {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      bookings: BookingRepository;
      events: EventLookup;
      sagas: SagaRepository;
      driver: SagaDriver;
      outcome: BookingOutcome;
      clock: Clock;
      metrics: BookingMetrics;
      settings: { leaseMs: number };
    },
  ) {}

  async cancel(
    actor: Principal,
    id: string,
    audit: AuditContext,
  ): Promise<{ id: string; status: 'cancelled'; refundCents: number }> {
    const { deps } = this;
    const booking = await deps.bookings.findById(id);
    if (!booking) throw notFound('Booking');
    await assertMayAccessBooking(deps.events, actor, booking);
    if (booking.status === 'cancelled')
      return { id, status: 'cancelled', refundCents: booking.refund_cents };
    if (booking.status !== 'confirmed') {
      throw new AppError('INVALID_STATE', `A ${booking.status} booking cannot be cancelled`);
    }
    const saga = await startCancellation(deps.sagas, deps.db, booking, {
      reason: 'requested',
      audit,
      lockedUntil: new Date(deps.clock.now().getTime() + deps.settings.leaseMs),
    });
    if (saga) await deps.driver.drive(saga);
    const after = await deps.outcome.awaitSettled(id, 'cancelled');
    if (after.status !== 'cancelled') {
      deps.metrics.operation('cancel', 'pending');
      throw deps.outcome.unavailable(
        undefined,
        'The refund could not be made yet; the cancellation will complete',
      );
    }
    deps.metrics.operation('cancel', 'success');
    return { id, status: 'cancelled', refundCents: after.refund_cents };
  }
}
