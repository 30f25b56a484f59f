import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { Clock } from '../../platform/clock.js';
import { writeOutbox } from '../../platform/outbox.js';
import type { SagaRepository } from '../../platform/saga/saga.repository.js';

/** A new saga no one drives yet: an async booking, an event cancellation's refund. */
export const SAGA_START = 'saga.start';
/** A saga that could not finish inline, handed over by the dispatcher. */
export const SAGA_CONTINUE = 'saga.continue';

/**
 * Hands sagas that could not finish inline — a payment that timed out, a driver that crashed
 * and let its lease run out — to the saga queue. The claim and its `saga.continue` message
 * commit together, so a due saga is never claimed without a message to wake a worker; if the
 * message is lost or its worker dies, the lease runs out and the saga is dispatched again.
 */
export class SagaDispatcher {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      sagas: SagaRepository;
      clock: Clock;
      leaseMs: number;
    },
  ) {}

  /** Queues the sagas that are due; returns how many it queued. */
  async dispatchDue(limit = 50): Promise<number> {
    return this.deps.db.transaction().execute(async (trx) => {
      const due = await this.deps.sagas.claimDueIn(
        this.deps.clock.now(),
        this.deps.leaseMs,
        limit,
        trx,
      );
      await writeOutbox(
        trx,
        due.map((saga) => ({
          type: SAGA_CONTINUE,
          aggregateType: 'saga',
          aggregateId: saga.id,
          payload: { sagaId: saga.id, dispatchedUntil: saga.locked_until?.toISOString() ?? null },
        })),
      );
      return due.length;
    });
  }
}
