import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../../config.js';
import type { DB } from '../../platform/database/schema.js';
import { AdmissionControl } from '../../platform/admission.js';
import { BackgroundLoop } from '../../platform/background-loop.js';
import type { ReadCache } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import type { DependencyCheck } from '../../platform/health.js';
import { IdempotencyStore } from '../../platform/idempotency.js';
import type { InventoryGate } from '../../platform/ports/inventory-gate.js';
import {
  paymentHealthCheck,
  type PaymentGateway,
  type PaymentLedger,
  ResilientPaymentGateway,
} from '../payments/index.js';
import { SagaRepository } from '../../platform/saga/saga.repository.js';
import { EventCacheKeys } from '../events/index.js';
import type { EventLookup } from '../events/index.js';
import { createHoldsModule, type HoldService } from '../holds/index.js';
import { BookingMetrics } from './booking.metrics.js';
import { BookingRepository } from './booking.repository.js';
import { BookingSaga } from './booking.saga.js';
import { BookHold } from './book-hold.use-case.js';
import { BookingOutcome } from './booking-outcome.js';
import { BookingQueries } from './booking-queries.js';
import { CancelBooking } from './cancel-booking.use-case.js';
import { CancelEventBookings } from './cancel-event-bookings.use-case.js';
import { CancellationSaga } from './cancellation.saga.js';
import { SagaDispatcher } from './saga-dispatcher.js';
import { SagaDriver } from './saga-driver.js';

/** The booking use cases, one per file. */
export interface BookingUseCases {
  book: BookHold;
  cancel: CancelBooking;
  cancelEventBookings: CancelEventBookings;
  queries: BookingQueries;
}

export interface BookingModule {
  holds: HoldService;
  bookings: BookingUseCases;
  sagaDriver: SagaDriver;
  sagaDispatcher: SagaDispatcher;
  sagas: SagaRepository;
  idempotency: IdempotencyStore;
  /** Sheds booking work (holds, bookings) beyond the latency budget: 503 OVERLOADED. */
  admission: AdmissionControl;
  payments: ResilientPaymentGateway;
  /** The in-process provider's books, when payments are simulated (tests read it). */
  ledger?: PaymentLedger;
  healthChecks: DependencyCheck[];
  /** The hold sweeper and saga dispatcher loops (started by `evently serve`, not by tests). */
  loops: BackgroundLoop[];
}

export function createBookingModule(input: {
  config: Config;
  db: Kysely<DB>;
  events: EventLookup;
  cache: ReadCache;
  gate: InventoryGate;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** The provider adapter the composition root chose, and its books when it is simulated. */
  paymentProvider: { gateway: PaymentGateway; ledger?: PaymentLedger };
}): BookingModule {
  const { config, db, clock, logger } = input;
  const sagas = new SagaRepository(db);
  const bookingRepository = new BookingRepository(db);
  const metrics: BookingMetrics = new BookingMetrics(input.registry, (): Promise<number> =>
    holds.activeHolds(),
  );

  const { ledger } = input.paymentProvider;
  const payments = new ResilientPaymentGateway(
    input.paymentProvider.gateway,
    {
      timeoutMs: config.payments.timeoutMs,
      breakerResetMs: config.payments.breakerResetMs,
      breakerThreshold: config.payments.breakerThreshold,
    },
    input.registry,
  );

  const holdsModule = createHoldsModule({
    db,
    events: input.events,
    gate: input.gate,
    cache: input.cache,
    clock,
    metrics,
    settings: {
      ttlSeconds: config.holdTtlSeconds,
      asyncCommit: config.holdAsyncCommit,
      maxBatch: config.bookingBatchMax,
    },
  });
  const { holds, inventory } = holdsModule;
  const sagaSettings = { leaseMs: config.sagas.leaseMs, retryDelayMs: config.sagas.retryDelayMs };
  const sagaDriver = new SagaDriver({
    sagas,
    booking: new BookingSaga({
      db,
      sagas,
      bookings: bookingRepository,
      inventory,
      sales: holdsModule.sales,
      gateway: payments,
      clock,
      metrics,
      settings: sagaSettings,
    }),
    cancellation: new CancellationSaga({
      db,
      sagas,
      bookings: bookingRepository,
      inventory,
      gateway: payments,
      clock,
      metrics,
      settings: sagaSettings,
    }),
    afterEffects: async (effects) => {
      await holds.afterRelease(effects.released);
      for (const eventId of effects.eventIds)
        await input.cache.invalidate(EventCacheKeys.forEvent(eventId));
    },
    clock,
    settings: sagaSettings,
    logger,
  });
  const sagaDispatcher = new SagaDispatcher({
    db,
    sagas,
    clock,
    leaseMs: config.sagas.leaseMs,
  });
  const outcome = new BookingOutcome({
    bookings: bookingRepository,
    metrics,
    settings: {
      joinWaitMs: config.payments.timeoutMs * 2 + 1000,
      retryAfterSeconds: Math.max(1, Math.ceil(config.sagas.retryDelayMs / 1000)),
    },
  });
  const bookings: BookingUseCases = {
    book: new BookHold({
      db,
      driver: sagaDriver,
      outcome,
      clock,
      settings: { leaseMs: sagaSettings.leaseMs, maxBatch: config.bookingBatchMax },
    }),
    cancel: new CancelBooking({
      db,
      bookings: bookingRepository,
      events: input.events,
      sagas,
      driver: sagaDriver,
      outcome,
      clock,
      metrics,
      settings: { leaseMs: sagaSettings.leaseMs },
    }),
    cancelEventBookings: new CancelEventBookings({
      db,
      bookings: bookingRepository,
      inventory,
      sagas,
      clock,
    }),
    queries: new BookingQueries({ bookings: bookingRepository, events: input.events }),
  };

  return {
    holds,
    bookings,
    sagaDriver,
    sagaDispatcher,
    sagas,
    idempotency: new IdempotencyStore(db, clock, {
      claimMs: config.sagas.leaseMs,
      waitMs: config.payments.timeoutMs * 2 + 5000,
    }),
    admission: new AdmissionControl({
      budgetMs: config.bookingLatencyBudgetMs,
      minInFlight: 64,
    }),
    payments,
    ledger,
    healthChecks: [paymentHealthCheck(payments)],
    loops: [
      new BackgroundLoop(
        'hold-sweeper',
        config.holdSweepIntervalMs,
        async () => {
          while ((await holds.releaseExpired(200)) === 200) {
            // a full batch: more may be waiting
          }
        },
        logger,
      ),
      new BackgroundLoop(
        'saga-dispatcher',
        config.sagas.recoveryIntervalMs,
        async () => {
          while ((await sagaDispatcher.dispatchDue(50)) === 50) {
            // a full batch: more may be due
          }
        },
        logger,
      ),
    ],
  };
}
