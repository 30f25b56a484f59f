import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import { markTaken } from '../../platform/messaging/idempotent-consumer.js';
import type { ConsumerSpec } from '../../platform/ports/message-bus.js';
import type { SagaDriver } from './saga-driver.js';
import { SAGA_CONTINUE, SAGA_START } from './saga-dispatcher.js';

export const SAGA_WORKER_CONSUMER = 'saga-worker';

/**
 * Drives booking sagas from the saga queue: new ones accepted with `Prefer: respond-async`
 * (`saga.start`) and ones that could not finish inline (`saga.continue`, from the
 * dispatcher). The database claim stays the guard, so duplicate messages or two workers
 * never drive one saga at once.
 */
export function sagaWorkerConsumer(driver: SagaDriver, db: Kysely<DB>): ConsumerSpec {
  return {
    name: SAGA_WORKER_CONSUMER,
    bindings: [SAGA_START, SAGA_CONTINUE],
    async handle(message) {
      const { sagaId, dispatchedUntil } = message.payload;
      if (typeof sagaId !== 'string') return;
      // A copy already taken is skipped; if its worker died, the lease runs out and the
      // dispatcher sends a fresh message.
      if (!(await markTaken(db, SAGA_WORKER_CONSUMER, message))) return;
      await driver.continueById(
        sagaId,
        typeof dispatchedUntil === 'string' ? new Date(dispatchedUntil) : undefined,
      );
    },
  };
}
