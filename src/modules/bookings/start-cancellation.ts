import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import { writeOutbox } from '../../platform/outbox.js';
import type { SagaRepository, SagaRow } from '../../platform/saga/saga.repository.js';
import type { AuditContext } from '../audit/index.js';
import type { BookingRow } from './booking.repository.js';
import {
  CANCELLATION_SAGA,
  cancellationPayload,
  type CancellationPayload,
} from './cancellation.saga.js';
import { SAGA_START } from './saga-dispatcher.js';

/**
 * Creates a confirmed booking's cancellation saga (refund, then seats back), in `executor`'s
 * transaction. `lockedUntil` set: the caller owns it and drives it now; null: a worker will.
 * Answers nothing when the booking already has one under way.
 */
export function startCancellation(
  sagas: SagaRepository,
  executor: Kysely<DB>,
  booking: BookingRow,
  cancel: { reason: CancellationPayload['reason']; audit: AuditContext; lockedUntil: Date | null },
): Promise<SagaRow | undefined> {
  return sagas.insert(
    {
      type: CANCELLATION_SAGA,
      bookingId: booking.id,
      step: 'refund',
      payload: cancellationPayload.write({
        bookingId: booking.id,
        eventId: booking.event_id,
        userId: booking.user_id,
        chargeId: booking.payment_ref,
        amountCents: booking.total_cents,
        reason: cancel.reason,
        audit: cancel.audit,
      }),
      lockedUntil: cancel.lockedUntil,
    },
    executor,
  );
}

/** Puts new, unowned sagas on the saga queue, in the transaction that created them. */
export function queueSagas(
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
