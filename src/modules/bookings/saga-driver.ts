import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import {
  SagaLeaseLost,
  type SagaRepository,
  type SagaRow,
} from '../../platform/saga/saga.repository.js';
import { spanEvent, withSpan } from '../../platform/telemetry.js';
import {
  BOOKING_SAGA,
  type BookingSaga,
  type SagaEffects,
  type SagaSettings,
} from './booking.saga.js';
import { CANCELLATION_SAGA, type CancellationSaga } from './cancellation.saga.js';

/**
 * Drives sagas of every type, inline for a request or for a queue worker, and applies
 * their after-commit effects (cache invalidation, fast-path inventory). A step that throws
 * unexpectedly is recorded and retried later; it never leaves a saga without an owner.
 */
export class SagaDriver {
  constructor(
    private readonly deps: {
      sagas: SagaRepository;
      booking: BookingSaga;
      cancellation: CancellationSaga;
      afterEffects: (effects: SagaEffects) => Promise<void>;
      clock: Clock;
      settings: SagaSettings;
      logger: Logger;
    },
  ) {}

  /**
   * A worker received the saga from the queue: claim it (unless someone else owns it) and
   * drive it. `dispatchedUntil` is the lease the dispatcher took for it, handed over here.
   */
  async continueById(sagaId: string, dispatchedUntil?: Date): Promise<void> {
    const saga = await this.deps.sagas.claimById(
      sagaId,
      this.deps.clock.now(),
      this.deps.settings.leaseMs,
      dispatchedUntil,
    );
    if (saga) await this.drive(saga);
  }

  /**
   * One span per drive (`saga.<type>`); where the saga stood and where it stopped are events.
   * Pass `effects` to read what the drive did (the confirmed booking, for its answer).
   */
  async drive(
    saga: SagaRow,
    effects: SagaEffects = { released: [], eventIds: new Set() },
  ): Promise<SagaRow> {
    const attributes = {
      'evently.saga.id': saga.id,
      'evently.saga.step': saga.step,
      ...(saga.booking_id ? { 'evently.booking.id': saga.booking_id } : {}),
    };
    return withSpan(`saga.${saga.type}`, attributes, async () => {
      spanEvent('saga.step', { step: saga.step, status: saga.status });
      const after = await this.driveSteps(saga, effects);
      spanEvent('saga.step', { step: after.step, status: after.status });
      return after;
    });
  }

  private async driveSteps(saga: SagaRow, effects: SagaEffects): Promise<SagaRow> {
    try {
      if (saga.type === BOOKING_SAGA) return await this.deps.booking.drive(saga, effects);
      if (saga.type === CANCELLATION_SAGA) return await this.deps.cancellation.drive(saga, effects);
      throw new Error(`unknown saga type ${saga.type}`);
    } catch (error) {
      if (error instanceof SagaLeaseLost) {
        // Another driver took the saga over (this one's step outlived its lease) or
        // finished it: it is theirs to drive; writing anything now could undo their work.
        this.deps.logger.warn({ sagaId: saga.id, step: saga.step }, 'saga lease lost; stopped');
        return (await this.deps.sagas.findById(saga.id).catch(() => undefined)) ?? saga;
      }
      this.deps.logger.error(
        { err: error, sagaId: saga.id, step: saga.step },
        'saga step failed; will retry',
      );
      return this.deps.sagas
        .update(saga, {
          lastError: error instanceof Error ? error.message : String(error),
          lockedUntil: new Date(this.deps.clock.now().getTime() + this.deps.settings.retryDelayMs),
        })
        .catch(() => saga);
    } finally {
      await this.deps
        .afterEffects(effects)
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error }, 'saga after-effects failed'),
        );
    }
  }

  /**
   * Claims and drives the sagas that are due, in this process; returns how many it took.
   * Running instances hand due sagas to the queue instead (`SagaDispatcher`); this is the
   * same work done by hand, for tests and maintenance scripts.
   */
  async recoverDue(limit = 20): Promise<number> {
    const due = await this.deps.sagas.claimDue(
      this.deps.clock.now(),
      this.deps.settings.leaseMs,
      limit,
    );
    for (const saga of due) await this.drive(saga);
    return due.length;
  }
}
