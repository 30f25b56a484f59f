import { DeadLetterRepository, DeadLetterService } from './modules/admin/index.js';
import { SmtpMailer } from './infra/smtp/smtp-mailer.js';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import type { Database } from './infra/postgres/database.js';
import type { EventLookup } from './modules/events/index.js';
import type { UserAccounts } from './modules/users/index.js';
import type { BookingModule } from './modules/bookings/index.js';
import type { CheckInCounts } from './modules/tickets/index.js';
import { analyticsConsumer, AnalyticsRepository } from './modules/analytics/index.js';
import { sagaWorkerConsumer } from './modules/bookings/index.js';
import {
  createNotificationsModule,
  type NotificationsModule,
} from './modules/notifications/index.js';
import { LiveHub, liveUpdateConsumer } from './modules/realtime/index.js';
import type { Clock } from './platform/clock.js';
import { createMessageBus } from './compose-message-bus.js';
import { registerMessagingMetrics } from './platform/messaging/messaging-metrics.js';
import { OutboxRelay } from './platform/messaging/outbox-relay.js';
import type { PubSub } from './platform/ports/cache-store.js';
import type { ConsumerSpec, MessageBus } from './platform/ports/message-bus.js';
import { tracedConsumer } from './platform/telemetry.js';

/** Which parts of Evently this process runs (`evently serve | api | worker`). */
export interface ProcessRoles {
  /** HTTP API and WebSocket clients. */
  api: boolean;
  /** Outbox relay, consumers, sweepers and saga recovery. */
  workers: boolean;
}

export interface AsyncModule {
  bus: MessageBus;
  deadLetters: DeadLetterRepository;
  /** The admin's use cases on dead letters (the routes use it). */
  deadLetterAdmin: DeadLetterService;
  relay: OutboxRelay;
  hub: LiveHub;
  notifications: NotificationsModule;
  consumers: ConsumerSpec[];
  start(roles: ProcessRoles): Promise<void>;
  stop(): Promise<void>;
}

/** The asynchronous half of Evently: outbox → bus → consumers, and the live fan-out. */
export function createAsyncModule(input: {
  config: Config;
  database: Database;
  booking: BookingModule;
  /** The events module's lookup (live counts). */
  events: EventLookup;
  /** The tickets module's check-in counts (live counts at the door). */
  checkIns: CheckInCounts;
  /** The users module's accounts (notification emails). */
  users: UserAccounts;
  pubsub: PubSub;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  busNamespace: string;
}): AsyncModule {
  const { config, database, logger } = input;
  const deadLetters = new DeadLetterRepository(database.db);
  const bus = createMessageBus(
    {
      amqpUrl: config.amqpUrl,
      namespace: input.busNamespace,
      quorumQueues: config.messaging.quorumQueues,
      queueExpiresMs: config.env === 'test' ? 120_000 : undefined,
      maxAttempts: config.messaging.maxAttempts,
      retryBaseMs: config.messaging.retryBaseMs,
    },
    deadLetters,
    logger,
  );
  const relay = new OutboxRelay({
    database,
    bus,
    settings: { batchSize: 200, pollMs: config.messaging.outboxPollMs },
    logger,
  });
  const hub = new LiveHub(
    input.pubsub,
    {
      heartbeatMs: config.messaging.wsHeartbeatMs,
      maxBufferedBytes: config.messaging.wsMaxBufferedBytes,
    },
    input.registry,
  );
  const notifications = createNotificationsModule({
    db: database.db,
    users: input.users,
    mailer: config.smtpUrl ? new SmtpMailer(config.smtpUrl, config.messaging.smtpFrom) : undefined,
    emailSweepMs: config.messaging.emailSweepMs,
    clock: input.clock,
    logger,
  });
  const consumers = [
    notifications.consumer,
    liveUpdateConsumer({ events: input.events, checkIns: input.checkIns, hub }),
    sagaWorkerConsumer(input.booking.sagaDriver, database.db),
    analyticsConsumer({
      analytics: new AnalyticsRepository(database.db),
      maxBatch: config.bookingBatchMax,
    }),
  ].map(tracedConsumer);
  registerMessagingMetrics({
    registry: input.registry,
    db: database.db,
    bus,
    deadLettersByConsumer: () => deadLetters.unretriedByConsumer(),
    consumers: () => consumers.map((c) => c.name),
  });
  let started: ProcessRoles = { api: false, workers: false };

  return {
    bus,
    deadLetters,
    deadLetterAdmin: new DeadLetterService({ deadLetters, bus, db: database.db }),
    relay,
    hub,
    notifications,
    consumers,
    async start(roles) {
      started = roles;
      if (roles.api) await hub.start();
      if (!roles.workers) return;
      for (const consumer of consumers) await bus.consume(consumer);
      await relay.start();
      for (const loop of [...input.booking.loops, ...notifications.loops]) loop.start();
    },
    async stop() {
      for (const loop of [...input.booking.loops, ...notifications.loops]) await loop.stop();
      if (started.workers) await relay.stop();
      if (started.api) hub.stop();
      await bus.close();
      await notifications.close();
    },
  };
}
