import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTIFICATIONS_CONSUMER } from '../src/modules/notifications/notification.consumer.js';
import { OutboxRelay } from '../src/platform/messaging/outbox-relay.js';
import type { BusMessage, MessageBus } from '../src/platform/ports/message-bus.js';
import { holdAndBook } from './support/bookings.js';
import { createEvent } from './support/fixtures.js';
import { eventually, sleep, type SmtpSink } from './support/smtp-sink.js';
import {
  createMailingTestApp,
  createTestApp,
  usingRealDatabase,
  type TestApp,
} from './support/test-app.js';

const bus = process.env.AMQP_URL ? 'RabbitMQ' : 'the in-process bus';

/** A consumer of our own that records every delivery (message id → arrival times). */
async function observe(buses: MessageBus[], types: string[]) {
  const name = `observer-${randomBytes(4).toString('hex')}`;
  const seen = new Map<string, number[]>();
  const messages = new Map<string, BusMessage>();
  for (const b of buses) {
    await b.consume({
      name,
      bindings: types,
      handle: async (message) => {
        const at = Date.now();
        seen.set(message.messageId, [...(seen.get(message.messageId) ?? []), at]);
        messages.set(message.messageId, message);
      },
    });
  }
  return { seen, messages };
}

class RelayKilled extends Error {}

describe(`outbox relay over ${bus}: at-least-once, deduplicated by consumers`, () => {
  let smtp: SmtpSink;
  let t: TestApp;
  const notificationRuns = new Map<string, number>();

  beforeAll(async () => {
    ({ smtp, t } = await createMailingTestApp());
    // The consumers and the email sweep run, the relay does not: this test plays the relay.
    const messaging = t.deps.messaging;
    for (const consumer of messaging.consumers) {
      await messaging.bus.consume(
        consumer.name === NOTIFICATIONS_CONSUMER
          ? {
              ...consumer,
              handle: async (message) => {
                await consumer.handle(message);
                notificationRuns.set(
                  message.messageId,
                  (notificationRuns.get(message.messageId) ?? 0) + 1,
                );
              },
            }
          : consumer,
      );
    }
    for (const loop of messaging.notifications.loops) loop.start();
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('a relay killed after publishing but before marking: republished, yet one notification and one email', async () => {
    const db = t.deps.database.db;
    const organizer = await t.signUp('organizer');
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const booking = await holdAndBook(t, user, event.id);

    const confirmedRow = await db
      .selectFrom('outbox')
      .selectAll()
      .where('type', '=', 'booking.confirmed')
      .where('aggregate_id', '=', booking.id)
      .executeTakeFirstOrThrow();
    expect(confirmedRow.published_at).toBeNull();
    const messageId = confirmedRow.message_id;

    // What relayOnce does, up to the crash: claim, publish (broker confirmed), then die before
    // the UPDATE — the transaction rolls back and the rows stay unpublished.
    let firstPublish: string[] = [];
    await expect(
      db.transaction().execute(async (trx) => {
        const { rows } = await sql<{
          message_id: string;
          type: string;
          payload: Record<string, unknown>;
        }>`SELECT message_id, type, payload FROM outbox WHERE published_at IS NULL
           ORDER BY id FOR UPDATE SKIP LOCKED`.execute(trx);
        await t.deps.messaging.bus.publish(
          rows.map((r) => ({ messageId: r.message_id, type: r.type, payload: r.payload })),
        );
        firstPublish = rows.map((r) => r.message_id);
        throw new RelayKilled('killed before marking');
      }),
    ).rejects.toBeInstanceOf(RelayKilled);
    expect(firstPublish).toContain(messageId);

    await eventually(() => notificationRuns.get(messageId) === 1, 'the first delivery');
    await smtp.waitFor((m) => m.some((x) => x.to.includes(user.email)), 15_000, 'the email');

    const stillPending = await db
      .selectFrom('outbox')
      .select('message_id')
      .where('published_at', 'is', null)
      .execute();
    expect(stillPending.map((r) => r.message_id)).toEqual(expect.arrayContaining(firstPublish));

    // The restarted relay publishes the same rows again and marks them this time.
    const republished = await t.deps.messaging.relay.relayOnce();
    expect(republished).toBe(stillPending.length);
    expect(republished).toBeGreaterThanOrEqual(firstPublish.length);
    const marked = await db
      .selectFrom('outbox')
      .select(['message_id', 'published_at', 'attempts'])
      .where('message_id', 'in', firstPublish)
      .execute();
    for (const row of marked) {
      expect(row.published_at).toBeInstanceOf(Date);
      expect(row.attempts).toBe(1);
    }

    // The notification consumer sees (and finishes handling) the duplicate …
    await eventually(() => notificationRuns.get(messageId) === 2, 'the duplicate delivery');
    await sleep(1000); // several email sweeps
    // … and produces nothing for it.
    const notifications = await db
      .selectFrom('notifications')
      .selectAll()
      .where('user_id', '=', user.id)
      .execute();
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ type: 'booking.confirmed' });
    // (processed_messages is not in the typed schema: plain SQL.)
    const { rows: processed } = await sql`
      SELECT 1 FROM processed_messages
      WHERE consumer = ${NOTIFICATIONS_CONSUMER} AND message_id = ${messageId}`.execute(db);
    expect(processed).toHaveLength(1);
    const deliveries = await db
      .selectFrom('email_deliveries')
      .selectAll()
      .where('to_address', '=', user.email)
      .execute();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.status).toBe('sent');
    const mails = smtp.mails.filter((m) => m.to.includes(user.email));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain(booking.id);
  });
});

describe(`two outbox relays draining a backlog over ${bus}`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ OUTBOX_POLL_MS: '100' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('publish each of 300 rows at least once and mark every row published', async () => {
    const db = t.deps.database.db;
    const type = `relay.backlog.${randomBytes(3).toString('hex')}`;
    let relays: OutboxRelay[];
    let observed: Awaited<ReturnType<typeof observe>>;
    let stopSecond: () => Promise<void>;
    if (usingRealDatabase) {
      // Another instance behind the balancer: its own pool, LISTEN connection and bus connection.
      const other = await t.anotherInstance();
      observed = await observe([t.deps.messaging.bus, other.deps.messaging.bus], [type]);
      relays = [t.deps.messaging.relay, other.deps.messaging.relay];
      await Promise.all([
        t.deps.start({ api: false, workers: true }),
        other.deps.start({ api: false, workers: true }),
      ]);
      stopSecond = async () => undefined; // closed with the test app
    } else {
      // An in-memory PGlite has one connection: the second relay shares it (and the bus).
      observed = await observe([t.deps.messaging.bus], [type]);
      const second = new OutboxRelay({
        database: t.deps.database,
        bus: t.deps.messaging.bus,
        settings: { batchSize: 200, pollMs: 100 },
        logger: t.deps.logger,
      });
      relays = [t.deps.messaging.relay, second];
      await Promise.all([t.deps.start({ api: false, workers: true }), second.start()]);
      stopSecond = () => second.stop();
    }
    let rows: Array<{ message_id: string }>;
    try {
      await sleep(300);
      // Both relays are idle and LISTENing; one statement drops a 300-row backlog on them and
      // its NOTIFY wakes both at once (a relay claims at most 200 rows per batch).
      await sql`
        INSERT INTO outbox (aggregate_type, aggregate_id, type, payload)
        SELECT 'test', gen_random_uuid(), ${type}, jsonb_build_object('n', n)
        FROM generate_series(1, 300) AS n`.execute(db);
      rows = await db.selectFrom('outbox').select('message_id').where('type', '=', type).execute();
      expect(rows).toHaveLength(300);
      await eventually(
        async () => {
          const left = await db
            .selectFrom('outbox')
            .select(db.fn.countAll<number>().as('n'))
            .where('type', '=', type)
            .where('published_at', 'is', null)
            .executeTakeFirstOrThrow();
          return Number(left.n) === 0;
        },
        'every row marked published',
        30_000,
      );
      await eventually(
        () => rows.every((r) => observed.seen.has(r.message_id)),
        'every message delivered',
        30_000,
      );
    } finally {
      await stopSecond();
    }
    for (const row of rows)
      expect(observed.seen.get(row.message_id)!.length).toBeGreaterThanOrEqual(1);
    const deliveries = [...observed.seen.values()].reduce((n, at) => n + at.length, 0);
    const published = relays.map((r) => r.published);
    console.log(
      `two relays: published ${published.join(' + ')} rows, ${deliveries} deliveries of 300 messages`,
    );
    // SKIP LOCKED: without a failure no row is claimed by both relays, each is marked once.
    expect(published.reduce((a, b) => a + b, 0)).toBe(300);
    const marked = await db
      .selectFrom('outbox')
      .select(['attempts', 'published_at'])
      .where('type', '=', type)
      .execute();
    expect(marked.every((r) => r.attempts === 1 && r.published_at instanceof Date)).toBe(true);
    // Payloads travel intact.
    const ns = [...observed.messages.values()]
      .map((m) => Number(m.payload.n))
      .sort((a, b) => a - b);
    expect(new Set(ns).size).toBe(300);
    expect(ns[0]).toBe(1);
    expect(ns.at(-1)).toBe(300);
  });
});

describe(`LISTEN/NOTIFY wakes the relay over ${bus}`, () => {
  let t: TestApp;
  beforeAll(async () => {
    // The fallback poll is a minute: only a notification can explain a prompt publish.
    t = await createTestApp({ OUTBOX_POLL_MS: '60000' });
    await t.deps.start({ api: true, workers: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("publishes a booking's message well before OUTBOX_POLL_MS", async () => {
    const organizer = await t.signUp('organizer');
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const observed = await observe([t.deps.messaging.bus], ['booking.confirmed']);
    // Let the relay finish whatever the setup woke it for; it then sleeps on its 60 s timer.
    await sleep(1500);

    for (let round = 0; round < 2; round++) {
      const booking = await holdAndBook(t, user, event.id);
      const row = await t.deps.database.db
        .selectFrom('outbox')
        .select('message_id')
        .where('type', '=', 'booking.confirmed')
        .where('aggregate_id', '=', booking.id)
        .executeTakeFirstOrThrow();
      const confirmedAt = (
        await t.deps.database.db
          .selectFrom('bookings')
          .select('confirmed_at')
          .where('id', '=', booking.id)
          .executeTakeFirstOrThrow()
      ).confirmed_at!;
      const arrivedAt = await eventually(
        () => observed.seen.get(row.message_id)?.[0],
        `the booking.confirmed message of round ${round}`,
        10_000,
        5,
      );
      const latency = arrivedAt - confirmedAt.getTime();
      console.log(`NOTIFY wake-up: commit → consumer in ${latency} ms (poll is 60000 ms)`);
      expect(latency).toBeLessThan(10_000);
      await sleep(1500);
    }
  });
});
