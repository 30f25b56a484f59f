import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Thrown when the environment cannot start Evently; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `true` or `false`, nothing else. */
const Bool = (fallback?: boolean) =>
  Type.Boolean(fallback === undefined ? {} : { default: fallback });
const Int = (min: number, max: number, fallback?: number) =>
  Type.Integer({
    minimum: min,
    maximum: max,
    ...(fallback === undefined ? {} : { default: fallback }),
  });

/**
 * Every setting, declared once: its variable, what it accepts and its default (unset and empty
 * take the default; no default and Optional: the feature is off). `Config` below is derived
 * from it; docs/operations.md explains each one.
 */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union(
    [Type.Literal('development'), Type.Literal('production'), Type.Literal('test')],
    { default: 'development' },
  ),
  PORT: Int(0, 65535, 3_000),
  HOST: Type.String({ default: '0.0.0.0', minLength: 1 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  DATA_DIR: Type.String({ default: './data', minLength: 1 }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_POOL_SIZE: Int(1, 500, 20),
  DATABASE_PREPARED_STATEMENTS: Bool(true),
  DATABASE_READ_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_CLUSTER_NODES: Type.Optional(
    Type.String({ pattern: '^[^,:\\s]+:\\d+(,[^,:\\s]+:\\d+)*$' }),
  ),
  AMQP_URL: Type.Optional(Type.String({ pattern: '^amqps?://' })),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  PAYMENTS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  JWT_PRIVATE_KEY: Type.Optional(Type.String({ minLength: 1 })),
  JWT_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1 })),
  ACCESS_TOKEN_TTL_SECONDS: Int(10, 86400, 900),
  REFRESH_TOKEN_TTL_SECONDS: Int(60, 31536000, 2_592_000),
  BCRYPT_COST: Int(4, 15, 12),
  ADMIN_EMAIL: Type.Optional(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$' })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 10 })),
  HOLD_TTL_SECONDS: Int(10, 3600, 300),
  HOLD_ASYNC_COMMIT: Bool(false),
  BOOKING_BATCH_MAX: Int(1, 1000, 64),
  BOOKING_LATENCY_BUDGET_MS: Int(0, 600_000, 500),
  CORS_ORIGINS: Type.String({ default: '' }),
  BODY_LIMIT_BYTES: Int(1024, 10 * 1024 * 1024, 1_048_576),
  CACHE_TTL_SECONDS: Int(0, 3600, 30),
  LOCAL_CACHE_TTL_MS: Int(0, 60000, 1_000),
  PAYMENT_TIMEOUT_MS: Int(10, 120_000, 5_000),
  PAYMENT_BREAKER_RESET_MS: Int(10, 3_600_000, 60_000),
  PAYMENT_BREAKER_THRESHOLD: Int(1, 1000, 5),
  PAYMENT_SIM_SLOW_MS: Int(0, 600_000, 10_000),
  SAGA_LEASE_MS: Int(100, 3_600_000, 30_000),
  SAGA_RETRY_DELAY_MS: Int(10, 3_600_000, 2_000),
  SAGA_RECOVERY_INTERVAL_MS: Int(10, 3_600_000, 2_000),
  HOLD_SWEEP_INTERVAL_MS: Int(10, 3_600_000, 5_000),
  SEED_DEMO: Type.Optional(Bool()),
  TRUST_PROXY: Bool(false),
  AMQP_QUORUM_QUEUES: Bool(false),
  MESSAGE_MAX_ATTEMPTS: Int(1, 100, 5),
  MESSAGE_RETRY_BASE_MS: Int(10, 3_600_000, 1_000),
  OUTBOX_POLL_MS: Int(10, 3_600_000, 1_000),
  WS_HEARTBEAT_MS: Int(100, 3_600_000, 25_000),
  WS_MAX_BUFFERED_BYTES: Int(1024, 1_073_741_824, 1_048_576),
  SMTP_FROM: Type.String({
    default: 'Evently <no-reply@evently.local>',
    minLength: 3,
    maxLength: 300,
  }),
  EMAIL_SWEEP_INTERVAL_MS: Int(10, 3_600_000, 5_000),
  RATE_LIMIT_ENABLED: Bool(true),
  RATE_LIMIT_WINDOW_MS: Int(100, 86_400_000, 60_000),
  RATE_LIMIT_IP_MAX: Int(1, 1_000_000, 600),
  RATE_LIMIT_USER_MAX: Int(1, 1_000_000, 600),
  RATE_LIMIT_AUTH_MAX: Int(1, 1_000_000, 20),
  RATE_LIMIT_HOLD_MAX: Int(1, 1_000_000, 60),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://' })),
  OTEL_SERVICE_NAME: Type.String({ default: 'evently', minLength: 1, maxLength: 200 }),
  NAMESPACE: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' })),
});

type Env = Static<typeof EnvSchema>;

export type JwtKeys =
  | { algorithm: 'HS256'; secret: string }
  | { algorithm: 'RS256'; privateKeyPem: string; publicKeyPem: string };

/** Whether a Redis (single node or cluster) is shared by the instances. */
export const hasSharedRedis = (config: Pick<Config, 'redisUrl' | 'redisClusterNodes'>): boolean =>
  Boolean(config.redisUrl || config.redisClusterNodes);

/** The settings as the program uses them: typed and grouped, derived from EnvSchema. */
export type Config = ReturnType<typeof configFrom>;

/**
 * Reads and validates the environment once. Unset and empty variables take their defaults;
 * a bad value throws a ConfigError naming the variable, so the process stops before serving.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(EnvSchema.properties) as Array<[string, TSchema]>) {
    const given = source[key];
    if (given === undefined || given === '') {
      if (schema.default !== undefined) raw[key] = schema.default;
    } else {
      raw[key] = fromText(schema, given);
    }
  }
  const firstError = Value.Errors(EnvSchema, raw).First();
  if (firstError) {
    const variable = firstError.path.replace(/^\//, '') || 'environment';
    throw new ConfigError(`Invalid configuration: ${variable} ${firstError.message}`);
  }
  const env = raw as Env;
  if (Boolean(env.ADMIN_EMAIL) !== Boolean(env.ADMIN_PASSWORD)) {
    throw new ConfigError('Invalid configuration: ADMIN_EMAIL and ADMIN_PASSWORD go together');
  }
  if (env.DATABASE_READ_URL && !env.DATABASE_URL) {
    // A replica of the embedded database cannot exist.
    throw new ConfigError('Invalid configuration: DATABASE_READ_URL needs DATABASE_URL');
  }
  return configFrom(env);
}

function configFrom(env: Env) {
  const dataDir = resolve(env.DATA_DIR);
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    dataDir,
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    /** Parameterized queries as named prepared statements (off behind a pooler that cannot track them). */
    databasePreparedStatements: env.DATABASE_PREPARED_STATEMENTS,
    /** A replica for catalog and analytics reads; never for what decides a booking. */
    databaseReadUrl: env.DATABASE_READ_URL,
    /**
     * Keeps deployments that share a Redis or a RabbitMQ apart: prefixes every Redis key and
     * every exchange and queue name. Unset: `evently:` keys and `evently.*` queues.
     */
    namespace: env.NAMESPACE,
    redisUrl: env.REDIS_URL,
    redisClusterNodes: env.REDIS_CLUSTER_NODES?.split(','),
    amqpUrl: env.AMQP_URL,
    smtpUrl: env.SMTP_URL,
    paymentsUrl: env.PAYMENTS_URL,
    jwt: resolveJwtKeys(env, dataDir),
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
    bcryptCost: env.BCRYPT_COST,
    admin:
      env.ADMIN_EMAIL && env.ADMIN_PASSWORD
        ? { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }
        : undefined,
    holdTtlSeconds: env.HOLD_TTL_SECONDS,
    /** Holds commit without waiting for the WAL flush (see docs/booking.md). */
    holdAsyncCommit: env.HOLD_ASYNC_COMMIT,
    /** The most hold or confirmation requests of one event sent in one statement. */
    bookingBatchMax: env.BOOKING_BATCH_MAX,
    /** Booking work (holds, bookings) an instance admits must finish within this; 0: no limit. */
    bookingLatencyBudgetMs: env.BOOKING_LATENCY_BUDGET_MS,
    corsOrigins: env.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    cacheTtlSeconds: env.CACHE_TTL_SECONDS,
    localCacheTtlMs: env.LOCAL_CACHE_TTL_MS,
    // The demo is for the embedded newcomer path; a real database is never seeded unasked.
    seedDemo: env.SEED_DEMO ?? !env.DATABASE_URL,
    trustProxy: env.TRUST_PROXY,
    payments: {
      timeoutMs: env.PAYMENT_TIMEOUT_MS,
      breakerResetMs: env.PAYMENT_BREAKER_RESET_MS,
      breakerThreshold: env.PAYMENT_BREAKER_THRESHOLD,
      simulatedSlowMs: env.PAYMENT_SIM_SLOW_MS,
    },
    sagas: {
      leaseMs: env.SAGA_LEASE_MS,
      retryDelayMs: env.SAGA_RETRY_DELAY_MS,
      recoveryIntervalMs: env.SAGA_RECOVERY_INTERVAL_MS,
    },
    holdSweepIntervalMs: env.HOLD_SWEEP_INTERVAL_MS,
    messaging: {
      quorumQueues: env.AMQP_QUORUM_QUEUES,
      maxAttempts: env.MESSAGE_MAX_ATTEMPTS,
      retryBaseMs: env.MESSAGE_RETRY_BASE_MS,
      outboxPollMs: env.OUTBOX_POLL_MS,
      wsHeartbeatMs: env.WS_HEARTBEAT_MS,
      wsMaxBufferedBytes: env.WS_MAX_BUFFERED_BYTES,
      smtpFrom: env.SMTP_FROM,
      emailSweepMs: env.EMAIL_SWEEP_INTERVAL_MS,
    },
    /** Off for deployments behind a gateway that limits, and for load tests. */
    rateLimit: {
      enabled: env.RATE_LIMIT_ENABLED,
      windowMs: env.RATE_LIMIT_WINDOW_MS,
      ipMax: env.RATE_LIMIT_IP_MAX,
      userMax: env.RATE_LIMIT_USER_MAX,
      authMax: env.RATE_LIMIT_AUTH_MAX,
      holdMax: env.RATE_LIMIT_HOLD_MAX,
    },
    /** Tracing is exported over OTLP only when an endpoint is set. */
    telemetry: {
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: env.OTEL_SERVICE_NAME,
    },
  };
}

/** A variable's text as its schema's type: integers and booleans from their exact spelling. */
function fromText(schema: TSchema, text: string): unknown {
  if (schema.type === 'integer' && /^-?\d+$/.test(text.trim())) return Number(text);
  if (schema.type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function resolveJwtKeys(env: Env, dataDir: string): JwtKeys {
  if (env.JWT_PRIVATE_KEY || env.JWT_PUBLIC_KEY) {
    if (!env.JWT_PRIVATE_KEY || !env.JWT_PUBLIC_KEY) {
      throw new ConfigError(
        'Invalid configuration: JWT_PRIVATE_KEY and JWT_PUBLIC_KEY go together (RS256)',
      );
    }
    return {
      algorithm: 'RS256',
      privateKeyPem: unescapeNewlines(env.JWT_PRIVATE_KEY),
      publicKeyPem: unescapeNewlines(env.JWT_PUBLIC_KEY),
    };
  }
  if (env.JWT_SECRET) return { algorithm: 'HS256', secret: env.JWT_SECRET };
  if (env.NODE_ENV === 'production') {
    throw new ConfigError(
      'Invalid configuration: JWT_SECRET (or JWT_PRIVATE_KEY/JWT_PUBLIC_KEY) is required when NODE_ENV=production',
    );
  }
  return { algorithm: 'HS256', secret: developmentSecret(dataDir) };
}

// Development keeps one generated secret under the data directory so restarts keep sessions.
function developmentSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

function unescapeNewlines(pem: string): string {
  return pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem;
}
