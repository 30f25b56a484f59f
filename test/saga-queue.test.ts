import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from './support/fixtures.js';
import { eventually } from './support/smtp-sink.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';
import { api } from './support/api.js';

// A booking saga that cannot finish inline (the provider outlasts the payment timeout) is
// continued by the saga-worker consumer from a `saga.continue` message, over RabbitMQ when
// AMQP_URL is set and the in-process bus otherwise. The database lease stays the guard.
const bus = process.env.AMQP_URL ? 'RabbitMQ' : 'the in-process bus';

describe(`sagas continued from the saga queue over ${bus}`, () => {
  let t: TestApp;
  let organizer: SignedIn;

  beforeAll(async () => {
    t = await createTestApp({
      OUTBOX_POLL_MS: '50',
      SAGA_RECOVERY_INTERVAL_MS: '100',
      MESSAGE_RETRY_BASE_MS: '50',
    });
    organizer = await t.signUp('organizer');
  });
  afterAll(async () => {
    await t?.close();
  });

  const db = () => t.deps.database.db;

  const holdAndBookSlowly = async (user: SignedIn, eventId: string) => {
    const held = await api.hold(t, user, eventId, { quantity: 2 });
    expect(held.statusCode).toBe(201);
    const booked = await t.inject({
      method: 'POST',
      url: '/api/v1/bookings',
      headers: user.auth,
      payload: { holdId: held.json<{ id: string }>().id, payment: { token: 'tok_slow' } },
    });
    // The provider is slower than the timeout: nobody knows yet whether money moved.
    expect(booked.statusCode).toBe(503);
    expect(booked.json()).toMatchObject({ code: 'PAYMENT_UNAVAILABLE' });
    return booked.json<{ bookingId: string }>().bookingId;
  };

  const sagaOf = (bookingId: string) =>
    db()
      .selectFrom('sagas')
      .selectAll()
      .where('booking_id', '=', bookingId)
      .where('type', '=', 'booking')
      .executeTakeFirstOrThrow();

  const chargesOf = (bookingId: string) =>
    t.deps.booking.ledger!.entries.filter(
      (e) => e.kind === 'charge' && e.idempotencyKey === bookingId,
    );

  /** `saga.continue` messages written for a saga, and which of them the worker took. */
  const continueMessages = async (sagaId: string) => {
    const { rows } = await sql<{ taken: boolean }>`
      SELECT p.message_id IS NOT NULL AS taken
      FROM outbox o
      LEFT JOIN processed_messages p ON p.message_id = o.message_id AND p.consumer = 'saga-worker'
      WHERE o.type = 'saga.continue' AND o.aggregate_id = ${sagaId}`.execute(db());
    return { written: rows.length, taken: rows.filter((r) => r.taken).length };
  };

  it('a payment that timed out inline is settled by a queue worker, charged once', async () => {
    await t.deps.start({ api: true, workers: true });
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();

    const bookingId = await holdAndBookSlowly(user, event.id);
    const saga = await sagaOf(bookingId);
    expect(saga).toMatchObject({ status: 'running', step: 'settle_charge' });

    const finished = await eventually(async () => {
      const now = await sagaOf(bookingId);
      return ['running', 'compensating'].includes(now.status) ? undefined : now;
    }, 'the saga to end');

    // The late charge is refunded (the booking's policy for an answer that came too late).
    expect(finished).toMatchObject({ status: 'compensated', step: 'done' });
    expect(chargesOf(bookingId)).toHaveLength(1);
    const messages = await continueMessages(saga.id);
    expect(messages.taken).toBeGreaterThanOrEqual(1);
    expect(messages.taken).toBe(messages.written);
  });

  it('two copies of one dispatch drive the saga once', async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const bookingId = await holdAndBookSlowly(user, event.id);
    const saga = await sagaOf(bookingId);

    // The dispatcher's message is written; a copy with another message id (as a broker
    // redelivery after a lost ack, or a second relay, would produce) is published alongside.
    const dispatched = await eventually(async () => {
      const rows = await db()
        .selectFrom('outbox')
        .select(['payload'])
        .where('type', '=', 'saga.continue')
        .where('aggregate_id', '=', saga.id)
        .execute();
      return rows[0]?.payload as Record<string, unknown> | undefined;
    }, 'the dispatch message');
    await t.deps.messaging.bus.publish([
      { messageId: randomUUID(), type: 'saga.continue', payload: dispatched },
    ]);

    const finished = await eventually(async () => {
      const now = await sagaOf(bookingId);
      return ['running', 'compensating'].includes(now.status) ? undefined : now;
    }, 'the saga to end');
    expect(finished.status).toBe('compensated');
    expect(chargesOf(bookingId)).toHaveLength(1);
    const refunds = t.deps.booking.ledger!.entries.filter(
      (e) => e.kind === 'refund' && e.idempotencyKey === `refund:${bookingId}`,
    );
    expect(refunds).toHaveLength(1);
  });

  it('only the holder of the dispatched lease can take it over', async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const bookingId = await holdAndBookSlowly(user, event.id);
    const saga = await sagaOf(bookingId);
    const sagas = t.deps.booking.sagas;

    // As the dispatcher leaves it: leased until L1, a message carrying L1 on its way.
    const leasedUntil = new Date(Date.now() + 60_000);
    await db()
      .updateTable('sagas')
      .set({ locked_until: leasedUntil })
      .where('id', '=', saga.id)
      .execute();
    const { attempts } = await sagaOf(bookingId);

    // No lease, or an older dispatch's lease, claims nothing while L1 is live.
    expect(await sagas.claimById(saga.id, new Date(), 60_000)).toBeUndefined();
    const older = new Date(leasedUntil.getTime() - 5_000);
    expect(await sagas.claimById(saga.id, new Date(), 60_000, older)).toBeUndefined();
    // L1 hands the lease over without counting another takeover; a second copy then fails.
    const taken = await sagas.claimById(saga.id, new Date(), 60_000, leasedUntil);
    expect(taken).toMatchObject({ id: saga.id, attempts });
    expect(await sagas.claimById(saga.id, new Date(), 60_000, leasedUntil)).toBeUndefined();

    // Give it back so the workers finish it and leave nothing behind.
    await db().updateTable('sagas').set({ locked_until: null }).where('id', '=', saga.id).execute();
    await eventually(
      async () =>
        ['running', 'compensating'].includes((await sagaOf(bookingId)).status) ? undefined : 1,
      'the saga to end',
    );
    expect(chargesOf(bookingId)).toHaveLength(1);
  });
});
