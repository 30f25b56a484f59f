import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createDependencies, type Dependencies } from '../../src/composition.js';
import { loadConfig, type Config } from '../../src/config.js';
import { migrate } from '../../src/infra/postgres/migrator.js';
import type { UserRole } from '../../src/platform/database/schema.js';
import type { PaymentGateway } from '../../src/modules/payments/payment-gateway.js';
import { UserRepository } from '../../src/modules/users/user.repository.js';
import type { Clock } from '../../src/platform/clock.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-signing';

/** The configuration tests run with: the real services from the environment, when given. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'evently-test-')),
    JWT_SECRET: TEST_JWT_SECRET,
    BCRYPT_COST: '4',
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL,
    AMQP_URL: process.env.AMQP_URL,
    SEED_DEMO: 'false',
    // Many tests fire hundreds of requests from one address; rate-limit tests turn it back on.
    RATE_LIMIT_ENABLED: 'false',
    // Stampede tests check what the database allows, not what an instance sheds; the
    // overload test turns shedding back on.
    BOOKING_LATENCY_BUDGET_MS: '0',
    ...overrides,
  });
}

export interface SignedIn {
  id: string;
  email: string;
  password: string;
  role: UserRole;
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
}

export interface TestApp {
  app: FastifyInstance;
  deps: Dependencies;
  testDb: TestDatabase;
  /** Prefix of this app's Redis keys (and RabbitMQ names). */
  redisNamespace: string;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** Registers a fresh user through the API, grants it `role`, and signs it in. */
  signUp(role?: UserRole): Promise<SignedIn>;
  /** A second app on the same database and Redis, like another instance behind a balancer. */
  anotherInstance(): Promise<{ app: FastifyInstance; deps: Dependencies }>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  clock?: Clock;
  paymentGateway?: PaymentGateway;
}

export async function createTestApp(
  overrides: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const config = testConfig({
    // Fast payment timeouts and saga retries keep failure tests quick.
    PAYMENT_TIMEOUT_MS: '300',
    PAYMENT_SIM_SLOW_MS: '600',
    SAGA_RETRY_DELAY_MS: '100',
    SAGA_LEASE_MS: '5000',
    ...overrides,
  });
  const testDb = await createTestDatabase();
  await migrate(testDb.database);
  // One Redis namespace per app group keeps parallel test files out of each other's keys.
  const redisNamespace = `test:${randomBytes(6).toString('hex')}:`;
  const deps = await createDependencies(config, testDb.database, { redisNamespace, ...options });
  const app = await buildApp(deps, { logger: false });
  await app.ready();
  const extra: Array<{ app: FastifyInstance; deps: Dependencies }> = [];

  const inject = (options: InjectOptions) => app.inject(options);

  return {
    app,
    deps,
    testDb,
    redisNamespace,
    inject,
    async signUp(role: UserRole = 'user') {
      const email = `u-${randomUUID()}@example.test`;
      const password = 'correct horse battery';
      const registered = await inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email, password, name: `Test ${role}` },
      });
      if (registered.statusCode !== 201) throw new Error(`register failed: ${registered.body}`);
      const { user } = registered.json<{ user: { id: string } }>();
      if (role !== 'user') {
        await new UserRepository(deps.database.db).update(user.id, { role, bumpTokenEpoch: false });
      }
      const login = await inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password },
      });
      const body = login.json<{ accessToken: string; refreshToken: string }>();
      return {
        id: user.id,
        email,
        password,
        role,
        accessToken: body.accessToken,
        refreshToken: body.refreshToken,
        auth: { authorization: `Bearer ${body.accessToken}` },
      };
    },
    async anotherInstance() {
      const database = testDb.openAnother();
      const otherDeps = await createDependencies(config, database, { redisNamespace, ...options });
      const otherApp = await buildApp(otherDeps, { logger: false });
      await otherApp.ready();
      extra.push({ app: otherApp, deps: otherDeps });
      return { app: otherApp, deps: otherDeps };
    },
    async close() {
      for (const other of extra) {
        await other.app.close();
        await other.deps.close();
      }
      await app.close();
      await deps.close();
      await testDb.drop();
    },
  };
}

/** A test app and an organizer signed in to it: what most API test files start from. */
export async function createTestAppWithOrganizer(
  overrides: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<{ t: TestApp; organizer: SignedIn }> {
  const t = await createTestApp(overrides, options);
  return { t, organizer: await t.signUp('organizer') };
}

/**
 * A test app whose email goes to a fresh SMTP sink, with the outbox poll, the email sweep and
 * message retries fast enough for a test to wait on them; `workers` also starts the API's
 * background work and the consumers, as a serving instance does.
 */
export async function createMailingTestApp(
  overrides: Record<string, string> = {},
  { workers = false } = {},
): Promise<{ smtp: SmtpSink; t: TestApp }> {
  const smtp = await startSmtpSink();
  try {
    const t = await createTestApp({
      SMTP_URL: smtp.url,
      OUTBOX_POLL_MS: '100',
      EMAIL_SWEEP_INTERVAL_MS: '200',
      MESSAGE_RETRY_BASE_MS: '50',
      ...overrides,
    });
    if (workers) await t.deps.start({ api: true, workers: true });
    return { smtp, t };
  } catch (error) {
    await smtp.close();
    throw error;
  }
}

/** Whether this run talks to real services (as CI's first pass does) or the embedded mode. */
export const usingRealDatabase = Boolean(process.env.DATABASE_URL);
export const usingRedis = Boolean(process.env.REDIS_URL);
