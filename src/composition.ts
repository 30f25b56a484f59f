import type { Kysely } from 'kysely';
import { pino, type Logger } from 'pino';
import { hasSharedRedis, type Config } from './config.js';
import { openEmbedded, connectPostgres, type Database } from './infra/postgres/database.js';
import type { DB } from './platform/database/schema.js';
import { MemoryPubSub, NoSharedCache } from './infra/memory/memory-cache-store.js';
import { MemoryRateLimitStore } from './infra/memory/memory-rate-limit-store.js';
import { MemorySessionDirectory } from './infra/memory/memory-session-directory.js';
import { MemoryTokenDenylist } from './infra/memory/memory-token-denylist.js';
import { RedisCacheStore, RedisPubSub } from './infra/redis/redis-cache-store.js';
import { closeRedis, connectRedis } from './infra/redis/redis-client.js';
import { RedisRateLimitStore } from './infra/redis/redis-rate-limit-store.js';
import { RedisSessionDirectory } from './infra/redis/redis-session-directory.js';
import { RedisTokenDenylist } from './infra/redis/redis-token-denylist.js';
import { UserAdminService } from './modules/admin/user-admin.service.js';
import { AuditLogRepository } from './modules/audit/audit-log.repository.js';
import { AuditLogService } from './modules/audit/audit-log.service.js';
import {
  AnalyticsRepository,
  AnalyticsService,
  BookingsExport,
} from './modules/analytics/index.js';
import { createAuthModule, type AuthModule } from './modules/auth/auth.module.js';
import { PasswordHasher } from './modules/auth/password-hasher.js';
import { SessionRepository } from './modules/auth/session.repository.js';
import { TokenIssuer } from './modules/auth/token-issuer.js';
import { EventRepository } from './modules/events/event.repository.js';
import { SagaQueries } from './modules/admin/saga-queries.js';
import { createEventsModule, type EventsModule } from './modules/events/events.module.js';
import { UserRepository } from './modules/users/user.repository.js';
import { VenueRepository } from './modules/venues/venue.repository.js';
import { VenueService } from './modules/venues/venue.service.js';
import { createAsyncModule, type AsyncModule, type ProcessRoles } from './async-composition.js';
import { createBookingModule, type BookingModule } from './modules/bookings/index.js';
import { createTicketsModule, type TicketsModule } from './modules/tickets/index.js';
import {
  HttpPaymentGateway,
  PaymentLedger,
  SimulatedPaymentGateway,
  type PaymentGateway,
} from './modules/payments/index.js';
import { MemoryInventoryGate } from './infra/memory/memory-inventory-gate.js';
import { RedisInventoryGate } from './infra/redis/redis-inventory-gate.js';
import { createAuthGuards, type AuthGuards } from './platform/auth-guard.js';
import { systemClock, type Clock } from './platform/clock.js';
import type { InventoryGate } from './platform/ports/inventory-gate.js';
import { ReadCache } from './platform/cache.js';
import type { DependencyCheck } from './platform/health.js';
import { createMetrics, type HttpMetrics } from './platform/metrics.js';
import type { CacheStore, PubSub } from './platform/ports/cache-store.js';
import type { RateLimitStore } from './platform/ports/rate-limit-store.js';
import type { SessionDirectory } from './platform/ports/session-directory.js';
import type { TokenDenylist } from './platform/ports/token-denylist.js';

export interface Dependencies {
  config: Config;
  logger: Logger;
  database: Database;
  metrics: HttpMetrics;
  cache: ReadCache;
  guards: AuthGuards;
  healthChecks: DependencyCheck[];
  clock: Clock;
  /** Rate-limit windows: shared through Redis when configured, else this process's own. */
  rateLimits: RateLimitStore;
  /** Every user's live sessions (Redis when configured). */
  sessions: SessionDirectory;
  services: {
    auth: AuthModule;
    userAdmin: UserAdminService;
    auditLog: AuditLogService;
    analytics: AnalyticsService;
    venues: VenueService;
    events: EventsModule;
    /** Tickets: views, QR, PDF, check-in and scanner grants. */
    tickets: TicketsModule;
    /** The admin's view of the sagas. */
    sagas: SagaQueries;
    /** The organizer's bookings CSV (from the replica when one is configured). */
    bookingsExport: BookingsExport;
  };
  /** Catalog and analytics reads: the replica (DATABASE_READ_URL) or the primary. */
  readDb: Kysely<DB>;
  booking: BookingModule;
  messaging: AsyncModule;
  /**
   * Starts this process's roles: the API role subscribes to live updates; the worker role runs
   * the outbox relay, the consumers, the sweepers and saga recovery. Tests start what they need.
   */
  start(roles: ProcessRoles): Promise<void>;
  /** Releases every connection this composition opened (the database included). */
  close(): Promise<void>;
}

export interface CompositionOptions {
  /** Prefix for every Redis key and channel, so deployments (and test files) can share a Redis. */
  redisNamespace?: string;
  /** Tests move time by hand. */
  clock?: Clock;
  /** Tests may put their own provider behind the resilience policies. */
  paymentGateway?: PaymentGateway;
  /** Prefix of the RabbitMQ exchange and queues (defaults to the Redis namespace). */
  busNamespace?: string;
}

/** Opens the configured database: PostgreSQL when DATABASE_URL is set, else embedded PGlite. */
export function openDatabase(config: Config): Promise<Database> {
  return config.databaseUrl
    ? Promise.resolve(
        connectPostgres(config.databaseUrl, config.databasePoolSize, {
          preparedStatements: config.databasePreparedStatements,
        }),
      )
    : openEmbedded(config.dataDir);
}

// A user's fast-path lock outlives a normal hold transaction; remembered inventory is short-lived.
const GATE_SETTINGS = { lockMs: 2000, rememberSeconds: 5 };

interface Infrastructure {
  denylist: TokenDenylist;
  sessions: SessionDirectory;
  gate: InventoryGate;
  rateLimits: RateLimitStore;
  sharedCache: CacheStore;
  pubsub: PubSub;
  checks: DependencyCheck[];
  onReconnect(listener: () => void): void;
  close(): Promise<void>;
}

function infrastructure(config: Config, namespace: string): Infrastructure {
  if (!hasSharedRedis(config)) {
    return {
      denylist: new MemoryTokenDenylist(),
      sessions: new MemorySessionDirectory(),
      gate: new MemoryInventoryGate(GATE_SETTINGS),
      rateLimits: new MemoryRateLimitStore(),
      sharedCache: new NoSharedCache(),
      pubsub: new MemoryPubSub(),
      checks: [],
      onReconnect: () => undefined,
      close: async () => undefined,
    };
  }
  const connection = { url: config.redisUrl, clusterNodes: config.redisClusterNodes };
  const redis = connectRedis({ ...connection, keyPrefix: namespace, maxRetriesPerRequest: 2 });
  const subscriber = connectRedis({
    ...connection,
    maxRetriesPerRequest: null,
    autoResubscribe: false,
  });
  // Connection errors are reported by the health checks; ioredis reconnects by itself.
  redis.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  const pubsub = new RedisPubSub(redis, subscriber, namespace);
  return {
    denylist: new RedisTokenDenylist(redis),
    sessions: new RedisSessionDirectory(redis, config.refreshTokenTtlSeconds),
    gate: new RedisInventoryGate(redis, GATE_SETTINGS),
    rateLimits: new RedisRateLimitStore(redis),
    sharedCache: new RedisCacheStore(redis),
    pubsub,
    checks: [{ name: 'redis', required: true, check: async () => void (await redis.ping()) }],
    onReconnect(listener) {
      let first = true;
      redis.on('ready', () => {
        if (first) first = false;
        else listener();
      });
    },
    async close() {
      await pubsub.close();
      await closeRedis(redis);
    },
  };
}

/**
 * Redis key prefix and RabbitMQ name prefix. Unset: `evently:` keys and the `evently`
 * exchange; `NAMESPACE=blue`: `blue:` keys and `blue.evently`; tests pass their own.
 */
function namespacesOf(config: Config, options: CompositionOptions): { redis: string; bus: string } {
  const redis = options.redisNamespace ?? (config.namespace ? `${config.namespace}:` : 'evently:');
  const bus =
    options.busNamespace ??
    (config.namespace ? `${config.namespace}.` : redis === 'evently:' ? '' : redis);
  return { redis, bus };
}

/**
 * The payment provider: the one a test hands in, else the HTTP provider at PAYMENTS_URL, else
 * the in-process simulated one (with its ledger, which tests and the simulator read).
 */
function paymentProviderFor(
  config: Config,
  override: PaymentGateway | undefined,
): { gateway: PaymentGateway; ledger?: PaymentLedger } {
  if (override) return { gateway: override };
  if (config.paymentsUrl) return { gateway: new HttpPaymentGateway(config.paymentsUrl) };
  const ledger = new PaymentLedger({
    slowMs: config.payments.simulatedSlowMs,
    latencyMs: 0,
    failureRate: 0,
  });
  return { gateway: new SimulatedPaymentGateway(ledger), ledger };
}

/** The composition root: adapters are built once here and handed to what needs them. */
export async function createDependencies(
  config: Config,
  database: Database,
  options: CompositionOptions = {},
): Promise<Dependencies> {
  const logger = pino({
    level: config.logLevel,
    // Tokens and passwords never reach the logs.
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.refreshToken'],
  });
  const names = namespacesOf(config, options);
  const infra = infrastructure(config, names.redis);
  // Catalog and analytics reads may go to a replica; nothing that decides a booking does.
  const replica = config.databaseReadUrl
    ? connectPostgres(config.databaseReadUrl, config.databasePoolSize, {
        preparedStatements: config.databasePreparedStatements,
      })
    : undefined;
  const readDb = replica?.db ?? database.db;
  const users = new UserRepository(database.db);
  const hasher = new PasswordHasher(config.bcryptCost);
  const auditLog = new AuditLogRepository(database.db);
  const tokens = await TokenIssuer.create(config.jwt, config.accessTokenTtlSeconds);
  const auth = createAuthModule({
    users,
    sessions: new SessionRepository(database.db),
    hasher,
    tokens,
    denylist: infra.denylist,
    directory: infra.sessions,
    refreshTtlSeconds: config.refreshTokenTtlSeconds,
    auditLog,
  });
  const venueRepository = new VenueRepository(database.db);
  const eventRepository = new EventRepository(database.db, readDb);
  const clock = options.clock ?? systemClock;
  const metrics = createMetrics();
  const cache = new ReadCache(
    infra.sharedCache,
    infra.pubsub,
    {
      localTtlMs: config.localCacheTtlMs,
      // Without Redis there is no shared level (nor shared hits and misses to count).
      sharedTtlSeconds: hasSharedRedis(config) ? config.cacheTtlSeconds : 0,
    },
    (error) => logger.warn({ err: error }, 'shared cache unavailable; reading through'),
    metrics.registry,
  );
  await cache.start();
  // The denylist is a cache of PostgreSQL's revocations: fill it now, and again whenever
  // Redis comes back (it keeps nothing across a restart).
  await auth.revocations.restoreDenylist();
  infra.onReconnect(() => void auth.revocations.restoreDenylist().catch(() => undefined));
  const booking = createBookingModule({
    config,
    db: database.db,
    events: eventRepository,
    cache,
    gate: infra.gate,
    clock,
    logger,
    registry: metrics.registry,
    paymentProvider: paymentProviderFor(config, options.paymentGateway),
  });

  const events = createEventsModule({
    events: eventRepository,
    venues: venueRepository,
    cache,
    onCancelled: (eventId, audit) =>
      booking.bookings.cancelEventBookings.cancelEvent(eventId, audit),
  });
  const tickets = createTicketsModule({
    db: database.db,
    events: eventRepository,
    ownership: events.ownership,
    venues: venueRepository,
    users,
    clock,
  });
  const messaging = createAsyncModule({
    config,
    database,
    booking,
    events: eventRepository,
    checkIns: tickets.counts,
    users,
    pubsub: infra.pubsub,
    clock,
    logger,
    registry: metrics.registry,
    busNamespace: names.bus,
  });

  return {
    config,
    logger,
    database,
    messaging,
    metrics,
    clock,
    rateLimits: infra.rateLimits,
    sessions: infra.sessions,
    booking,
    cache,
    guards: createAuthGuards(auth.authenticator),
    healthChecks: [
      {
        name: 'database',
        required: true,
        check: async () =>
          void (await database.db.selectFrom('users').select('id').limit(1).execute()),
      },
      ...infra.checks,
      ...(config.amqpUrl
        ? [{ name: 'rabbitmq', required: true, check: () => messaging.bus.assertReachable() }]
        : []),
      // The payments check reports the breaker's state: half-open is degraded, not healthy.
      ...booking.healthChecks,
      ...messaging.notifications.healthChecks,
    ],
    services: {
      auth,
      userAdmin: new UserAdminService(users, auth.revocations, hasher),
      auditLog: new AuditLogService(auditLog),
      venues: new VenueService(venueRepository),
      events,
      tickets,
      analytics: new AnalyticsService(new AnalyticsRepository(readDb), events.ownership, clock),
      sagas: new SagaQueries({ sagas: booking.sagas }),
      bookingsExport: new BookingsExport({ readDb }),
    },
    readDb,
    start: (roles) => messaging.start(roles),
    async close() {
      await messaging.stop();
      await infra.close();
      await replica?.close();
      await database.close();
    },
  };
}
