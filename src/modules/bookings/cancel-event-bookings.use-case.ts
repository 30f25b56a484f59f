import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { DB } from '../../platform/database/schema.js';
import type { SagaRepository } from '../../platform/saga/saga.repository.js';
import type { AuditContext } from '../audit/index.js';
import type { HoldInventory } from '../holds/index.js';
import type { BookingRepository } from './booking.repository.js';
import { queueSagas, startCancellation } from './start-cancellation.js';

/**
 * An event was cancelled: release its holds and start a cancellation saga for every
 * confirmed booking. The sagas go to the saga queue with the same commit, so the refunds are
 * spread over the workers instead of running in the organizer's request.
 */
export class CancelEventBookings {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      bookings: BookingRepository;
      inventory: HoldInventory;
      sagas: SagaRepository;
      clock: Clock;
    },
  ) {}

  async cancelEvent(eventId: string, audit: AuditContext): Promise<void> {
    const { deps } = this;
    const now = deps.clock.now();
    await deps.db.transaction().execute(async (trx) => {
      const confirmed = await deps.bookings.confirmedOfEvent(eventId, trx);
      const queued: Array<{ sagaId: string; bookingId: string }> = [];
      for (const booking of confirmed) {
        const saga = await startCancellation(deps.sagas, trx, booking, {
          reason: 'event_cancelled',
          audit,
          lockedUntil: null,
        });
        if (saga) queued.push({ sagaId: saga.id, bookingId: booking.id });
      }
      await queueSagas(trx, queued);
      await deps.inventory.releaseAllOfEvent(eventId, now, trx);
    });
  }
}
