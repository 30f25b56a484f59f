import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from './support/fixtures.js';
import { eventually, sleep, startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { createTestApp, usingRedis, type TestApp } from './support/test-app.js';
import { startThrowawayRedis, type ThrowawayRedis } from './support/throwaway-redis.js';

interface CheckReport {
  status: 'healthy' | 'degraded' | 'down';
  required: boolean;
  latencyMs: number;
  error?: string;
}
interface Health {
  status: string;
  mode?: string;
  checks: Record<string, CheckReport>;
}

const amqpBase = process.env.AMQP_URL;

async function health(t: TestApp, which: 'ready' | 'status') {
  const response = await t.inject({ method: 'GET', url: `/health/${which}` });
  return { code: response.statusCode, body: response.json<Health>() };
}

/** Polls /health/ready until it answers `code`; returns that answer. */
function readyBecomes(t: TestApp, code: number, what: string) {
  return eventually(
    async () => {
      const answer = await health(t, 'ready');
      return answer.code === code ? answer : undefined;
    },
    what,
    20_000,
    100,
  );
}

describe('GET /health/ready and /health/status with the configured dependencies', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({ SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('lists exactly the configured dependencies, each healthy with its latency', async () => {
    const expected = ['database', 'payments', 'smtp'];
    if (usingRedis) expected.push('redis');
    if (amqpBase) expected.push('rabbitmq');
    const ready = await health(t, 'ready');
    expect(ready.code).toBe(200);
    const status = await health(t, 'status');
    expect(status.code).toBe(200);
    expect(status.body.mode).toBe(t.deps.database.mode);
    expect(Object.keys(status.body.checks).sort()).toEqual(expected.sort());
    for (const [name, check] of Object.entries(status.body.checks)) {
      expect(check.required, name).toBe(['database', 'redis', 'rabbitmq'].includes(name));
      expect(['healthy', 'degraded'], name).toContain(check.status);
      expect(check.latencyMs, name).toBeGreaterThanOrEqual(0);
    }
  });

  it('when the SMTP server is gone, smtp is down but the instance stays ready', async () => {
    await smtp.close();
    const status = await health(t, 'status');
    expect(status.body.checks.smtp).toMatchObject({ status: 'down', required: false });
    expect(status.body.checks.smtp!.error).toBeTruthy();
    expect(status.body.status).toBe('degraded');
    expect((await health(t, 'ready')).code).toBe(200);
  });

  it('when a required check throws, ready answers 503; an optional one only degrades', async () => {
    const failing = {
      name: 'failing-required',
      required: true,
      check: async () => {
        throw new Error('connect ECONNREFUSED postgres://admin:secret@db:5432/x');
      },
    };
    t.deps.healthChecks.push(failing);
    try {
      const ready = await health(t, 'ready');
      expect(ready.code).toBe(503);
      expect(ready.body.status).toBe('not ready');
      expect(ready.body.checks['failing-required']).toMatchObject({ status: 'down' });
      // A password in an error message never reaches the answer.
      expect(JSON.stringify(ready.body)).not.toContain('secret');
      const status = await health(t, 'status');
      expect(status.code).toBe(200);
      expect(status.body.status).toBe('down');
    } finally {
      t.deps.healthChecks.splice(t.deps.healthChecks.indexOf(failing), 1);
    }
    expect((await health(t, 'ready')).code).toBe(200);
  });
});

describe('the payments check follows the circuit breaker', () => {
  let t: TestApp;
  let provider: Server;
  beforeAll(async () => {
    // A provider that accepts connections and never answers: every call times out.
    provider = createServer(() => undefined);
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    const { port } = provider.address() as AddressInfo;
    t = await createTestApp({
      PAYMENTS_URL: `http://127.0.0.1:${port}`,
      PAYMENT_TIMEOUT_MS: '300',
      PAYMENT_BREAKER_THRESHOLD: '1',
      PAYMENT_BREAKER_RESET_MS: '300',
    });
  });
  afterAll(async () => {
    await t?.close();
    provider.closeAllConnections();
    await new Promise((resolve) => provider.close(resolve));
  });

  const charge = () =>
    t.deps.booking.payments.charge({
      idempotencyKey: randomUUID(),
      amountCents: 100,
      currency: 'EUR',
      token: 'tok_visa',
    });

  it('closed → healthy, open → down (still ready), half-open → degraded', async () => {
    expect((await health(t, 'status')).body.checks.payments!.status).toBe('healthy');

    await expect(charge()).rejects.toThrow(/timed out/);
    const open = await health(t, 'status');
    expect(open.body.checks.payments).toMatchObject({ status: 'down', required: false });
    expect(open.body.status).toBe('degraded');
    expect((await health(t, 'ready')).code).toBe(200);

    // After the reset delay the next call is the breaker's one trial: half-open while it runs.
    await sleep(400);
    const trial = charge();
    const halfOpen = await health(t, 'status');
    expect(halfOpen.body.checks.payments!.status).toBe('degraded');
    await expect(trial).rejects.toThrow();
    expect((await health(t, 'status')).body.checks.payments!.status).toBe('down');
  });
});

// Redis is required when configured: an instance without it is taken out of the balancer, yet
// what it still receives is served from PostgreSQL. The Redis here is this test's own.
describe('when Redis stops and comes back', () => {
  let redis: ThrowawayRedis;
  let port: number;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startThrowawayRedis();
    port = Number(new URL(redis.url).port);
    t = await createTestApp({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('ready turns 503 while it is down (reads still served) and 200 once it is back', async () => {
    const organizer = await t.signUp('organizer');
    const event = await createEvent(t, organizer, { name: 'Redis Outage Gig' });
    expect((await health(t, 'ready')).code).toBe(200);

    await redis.stop();
    const down = await readyBecomes(t, 503, 'ready to answer 503');
    expect(down.body.status).toBe('not ready');
    expect(down.body.checks.redis).toMatchObject({ status: 'down', required: true });
    expect(down.body.checks.database!.status).not.toBe('down');
    const status = await health(t, 'status');
    expect(status.body.status).toBe('down');
    expect(status.body.checks.redis!.status).toBe('down');

    const list = await t.inject({ method: 'GET', url: '/api/v1/events' });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: Array<{ id: string }> }>().items.map((e) => e.id)).toContain(
      event.id,
    );
    const one = await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: event.id, name: 'Redis Outage Gig' });

    redis = await startThrowawayRedis(port);
    const back = await readyBecomes(t, 200, 'ready to answer 200 again');
    expect(back.body.checks.redis!.status).not.toBe('down');
  }, 60_000);
});

// RabbitMQ is required when configured. The broker is shared, so this test cuts only its own
// connections: the app reaches the broker through a proxy that the test closes and reopens.
if (amqpBase) {
  describe('when RabbitMQ becomes unreachable and comes back', () => {
    let proxy: TcpProxy;
    let t: TestApp;
    beforeAll(async () => {
      const broker = new URL(amqpBase);
      proxy = await startTcpProxy({
        host: broker.hostname,
        port: Number(broker.port || 5672),
      });
      const viaProxy = new URL(amqpBase);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      t = await createTestApp({ AMQP_URL: viaProxy.toString(), OUTBOX_POLL_MS: '100' });
      await t.deps.start({ api: true, workers: true });
    });
    afterAll(async () => {
      await t?.close();
      await proxy?.stop();
    });

    it('ready turns 503 while it is unreachable and 200 once the bus has reconnected', async () => {
      const type = `health.${randomUUID()}`;
      const received: string[] = [];
      await t.deps.messaging.bus.consume({
        name: `health-probe-${randomUUID().slice(0, 8)}`,
        bindings: [type],
        handle: async (message) => void received.push(message.messageId),
      });
      const ready = await health(t, 'ready');
      expect(ready.code).toBe(200);
      expect(ready.body.checks.rabbitmq).toMatchObject({ status: 'healthy', required: true });

      await proxy.stop();
      const down = await readyBecomes(t, 503, 'ready to answer 503');
      expect(down.body.checks.rabbitmq).toMatchObject({ status: 'down', required: true });
      expect(down.body.checks.database!.status).not.toBe('down');
      // The API itself does not need the broker: messages wait in the outbox.
      expect((await t.inject({ method: 'GET', url: '/api/v1/events' })).statusCode).toBe(200);
      // Still down a moment later: the bus's own reconnection attempts fail too.
      await sleep(500);
      expect((await health(t, 'ready')).code).toBe(503);

      await proxy.start();
      const back = await readyBecomes(t, 200, 'ready to answer 200 again');
      expect(back.body.checks.rabbitmq!.status).not.toBe('down');
      // The reconnected bus consumes again, with the consumers it had before the cut.
      const messageId = randomUUID();
      await t.deps.messaging.bus.publish([{ messageId, type, payload: {} }]);
      await eventually(() => received.includes(messageId), 'the message after reconnection');
    }, 60_000);
  });
}
