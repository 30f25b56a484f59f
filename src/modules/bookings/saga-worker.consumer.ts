import type { ConsumerSpec } from '../../platform/ports/message-bus.js';
import type { BookingService } from './booking.service.js';

export const SAGA_WORKER_CONSUMER = 'saga-worker';

/**
 * Drives booking sagas accepted with `Prefer: respond-async`. The database claim (a lease,
 * taken only when nobody holds one) stays the guard, so duplicate messages or two workers
 * never drive one saga at once.
 */
export function sagaWorkerConsumer(bookings: BookingService): ConsumerSpec {
  return {
    name: SAGA_WORKER_CONSUMER,
    bindings: ['saga.start'],
    async handle(message) {
      const sagaId = message.payload.sagaId;
      if (typeof sagaId === 'string') await bookings.continueSaga(sagaId);
    },
  };
}
