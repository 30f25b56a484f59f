import { randomBytes, randomUUID } from 'node:crypto';
import { register as globalRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOutbox } from '../src/platform/outbox.js';
import { holdAndBook } from './support/bookings.js';
import { createEvent } from './support/fixtures.js';
import { eventually, sleep } from './support/smtp-sink.js';
import { createTestApp, usingRedis, type SignedIn, type TestApp } from './support/test-app.js';

const bus = process.env.AMQP_URL ? 'RabbitMQ' : 'the in-process bus';

async function scrape(t: TestApp): Promise<string> {
  const response = await t.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  return response.body;
}

/** The value of one series in a Prometheus text exposition, or undefined when absent. */
function valueOf(text: string, name: string, labels: Record<string, string> = {}) {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ? match[2].split(',') : [];
    if (present.length === wanted.length && wanted.every((w) => present.includes(w))) {
      return Number(match[3]);
    }
  }
  return undefined;
}

describe(`GET /metrics: outbox, queues, dead letters and cache over ${bus}`, () => {
  let t: TestApp;
  let organizer: SignedIn;
  beforeAll(async () => {
    t = await createTestApp({
      OUTBOX_POLL_MS: '100',
      MESSAGE_MAX_ATTEMPTS: '2',
      MESSAGE_RETRY_BASE_MS: '50',
      LOCAL_CACHE_TTL_MS: '300',
    });
    organizer = await t.signUp('organizer');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('outbox_lag_seconds is above 0 while a row waits, 0 once the relay drained it', async () => {
    // The workers are not started yet: nothing publishes this row.
    await writeOutbox(t.deps.database.db, [
      {
        type: `metrics.${randomBytes(3).toString('hex')}`,
        aggregateType: 'test',
        aggregateId: randomUUID(),
        payload: {},
      },
    ]);
    await sleep(150);
    const waiting = await scrape(t);
    expect(valueOf(waiting, 'outbox_pending_messages')).toBeGreaterThanOrEqual(1);
    expect(valueOf(waiting, 'outbox_lag_seconds')).toBeGreaterThan(0.1);

    await t.deps.start({ api: true, workers: true });
    const drained = await eventually(async () => {
      const text = await scrape(t);
      return valueOf(text, 'outbox_pending_messages') === 0 ? text : undefined;
    }, 'the relay to drain the outbox');
    expect(valueOf(drained, 'outbox_lag_seconds')).toBe(0);
  });

  it('after a booking flowed through the outbox, every metric is exported', async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    await holdAndBook(t, user, event.id);
    await eventually(
      async () =>
        (await t.deps.database.db
          .selectFrom('notifications')
          .select('id')
          .where('user_id', '=', user.id)
          .executeTakeFirst()) !== undefined,
      'the booking notification',
    );
    await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}` });
    const text = await scrape(t);
    for (const name of [
      'outbox_lag_seconds',
      'outbox_pending_messages',
      'queue_depth',
      'dead_letters',
      'cache_hit_ratio',
      'websocket_connections',
      'payment_circuit_state',
      'active_holds',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} gauge`);
    }
    for (const name of [
      'cache_requests_total',
      'app_requests_total',
      'booking_operations_total',
      'saga_outcomes_total',
      'websocket_dropped_total',
      'process_cpu_user_seconds_total',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} counter`);
    }
    expect(text).toContain('nodejs_heap_size_used_bytes');
    expect(valueOf(text, 'payment_circuit_state')).toBe(0);
    expect(valueOf(text, 'websocket_connections')).toBe(0);
    for (const consumer of t.deps.messaging.consumers.map((c) => c.name)) {
      expect(valueOf(text, 'queue_depth', { consumer }), consumer).toBeGreaterThanOrEqual(0);
      expect(valueOf(text, 'dead_letters', { consumer }), consumer).toBe(0);
    }
    // The per-app registry only: several apps share this process.
    expect(globalRegistry.getSingleMetric('outbox_lag_seconds')).toBeUndefined();
    expect(globalRegistry.getSingleMetric('cache_requests_total')).toBeUndefined();
  });

  it('cache counters and the hit ratio move on repeated reads of an event', async () => {
    const event = await createEvent(t, organizer);
    const before = await scrape(t);
    const count = (text: string, level: string, result: string) =>
      valueOf(text, 'cache_requests_total', { level, result }) ?? 0;
    const read = async () =>
      expect(
        (await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}` })).statusCode,
      ).toBe(200);

    await read(); // loaded from PostgreSQL: a miss at every level
    await read(); // from this process's LRU
    await sleep(400); // the LRU entry expires; the shared one (Redis) lives on
    await read();
    const after = await scrape(t);

    expect(count(after, 'local', 'miss') - count(before, 'local', 'miss')).toBe(2);
    expect(count(after, 'local', 'hit') - count(before, 'local', 'hit')).toBe(1);
    if (usingRedis) {
      expect(count(after, 'shared', 'miss') - count(before, 'shared', 'miss')).toBe(1);
      expect(count(after, 'shared', 'hit') - count(before, 'shared', 'hit')).toBe(1);
    } else {
      // No Redis, no shared level to count.
      expect(after).not.toMatch(/^cache_requests_total\{[^}]*level="shared"/m);
    }
    const ratio = valueOf(after, 'cache_hit_ratio')!;
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1);
    expect(ratio).toBeCloseTo(t.deps.cache.hits / (t.deps.cache.hits + t.deps.cache.misses), 6);
  });

  it('dead_letters counts a dead-lettered message until it is retried', async () => {
    const admin = await t.signUp('admin');
    const consumer = `metrics-flaky-${randomBytes(4).toString('hex')}`;
    const type = `metrics.${randomBytes(3).toString('hex')}`;
    let fixed = false;
    const handled: string[] = [];
    await t.deps.messaging.bus.consume({
      name: consumer,
      bindings: [type],
      handle: async (message) => {
        if (!fixed) throw new Error('boom');
        handled.push(message.messageId);
      },
    });
    // Through the outbox and the relay, as the platform's own messages travel.
    await writeOutbox(t.deps.database.db, [
      { type, aggregateType: 'test', aggregateId: randomUUID(), payload: {} },
    ]);
    const letter = await eventually(
      () =>
        t.deps.database.db
          .selectFrom('dead_letters')
          .select(['id', 'message_id'])
          .where('consumer', '=', consumer)
          .executeTakeFirst(),
      'the dead letter',
    );
    expect(valueOf(await scrape(t), 'dead_letters', { consumer })).toBe(1);

    fixed = true;
    const retried = await t.inject({
      method: 'POST',
      url: `/api/v1/admin/dead-letters/${letter.id}/retry`,
      headers: admin.auth,
    });
    expect(retried.statusCode).toBe(202);
    await eventually(() => handled.includes(letter.message_id), 'the retried message');
    expect(valueOf(await scrape(t), 'dead_letters', { consumer }) ?? 0).toBe(0);
  });
});
