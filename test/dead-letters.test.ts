import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdAndBook } from './support/bookings.js';
import { createEvent } from './support/fixtures.js';
import { eventually, sleep } from './support/smtp-sink.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';

const bus = process.env.AMQP_URL ? 'RabbitMQ' : 'the in-process bus';

interface DeadLetterItem {
  id: string;
  consumer: string;
  messageId: string;
  type: string;
  payload: Record<string, unknown>;
  error: string;
  attempts: number;
  createdAt: string;
  retriedAt: string | null;
}

describe(`dead letters over ${bus}`, () => {
  let t: TestApp;
  let admin: SignedIn;
  let organizer: SignedIn;
  const flaky = `flaky-${randomBytes(4).toString('hex')}`;
  // Bookings whose message the consumer handles again: it fails for every other one.
  const healed = new Set<string>();
  const attempts = new Map<string, number[]>();
  const successes = new Map<string, number>();

  beforeAll(async () => {
    t = await createTestApp({
      MESSAGE_MAX_ATTEMPTS: '3',
      MESSAGE_RETRY_BASE_MS: '50',
      OUTBOX_POLL_MS: '100',
    });
    await t.deps.start({ api: true, workers: true });
    // A consumer of the platform's kind, with a bug: it throws until its bug is fixed for that booking.
    await t.deps.messaging.bus.consume({
      name: flaky,
      bindings: ['booking.confirmed'],
      handle: async (message) => {
        attempts.set(message.messageId, [...(attempts.get(message.messageId) ?? []), Date.now()]);
        if (!healed.has(String(message.payload.bookingId))) throw new Error('boom');
        successes.set(message.messageId, (successes.get(message.messageId) ?? 0) + 1);
      },
    });
    admin = await t.signUp('admin');
    organizer = await t.signUp('organizer');
  });
  afterAll(async () => {
    await t?.close();
  });

  const list = (who: SignedIn | undefined, query = '') =>
    t.inject({
      method: 'GET',
      url: `/api/v1/admin/dead-letters${query}`,
      headers: who?.auth ?? {},
    });
  const retry = (who: SignedIn | undefined, id: string) =>
    t.inject({
      method: 'POST',
      url: `/api/v1/admin/dead-letters/${id}/retry`,
      headers: who?.auth ?? {},
    });

  it('a message that fails every attempt is dead-lettered after 3 attempts, listed, and can be retried once', async () => {
    const db = t.deps.database.db;
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const booking = await holdAndBook(t, user, event.id);
    const { message_id: messageId } = await db
      .selectFrom('outbox')
      .select('message_id')
      .where('type', '=', 'booking.confirmed')
      .where('aggregate_id', '=', booking.id)
      .executeTakeFirstOrThrow();

    const letter = await eventually(
      () =>
        db
          .selectFrom('dead_letters')
          .selectAll()
          .where('consumer', '=', flaky)
          .where('message_id', '=', messageId)
          .executeTakeFirst(),
      'the dead letter',
    );
    expect(letter).toMatchObject({ type: 'booking.confirmed', error: 'boom', attempts: 3 });
    expect(letter.payload).toMatchObject({ bookingId: booking.id, userId: user.id });
    const tries = attempts.get(messageId)!;
    expect(tries).toHaveLength(3);
    // Growing back-off: 50 ms, then 100 ms (lower bounds only).
    expect(tries[1]! - tries[0]!).toBeGreaterThanOrEqual(45);
    expect(tries[2]! - tries[1]!).toBeGreaterThanOrEqual(90);

    // No fourth attempt, no second letter.
    await sleep(1000);
    expect(attempts.get(messageId)).toHaveLength(3);
    expect(
      await db
        .selectFrom('dead_letters')
        .select('id')
        .where('message_id', '=', messageId)
        .execute(),
    ).toHaveLength(1);
    // The failing consumer holds nobody else up: the user was still notified.
    const notes = await db
      .selectFrom('notifications')
      .select('type')
      .where('user_id', '=', user.id)
      .execute();
    expect(notes).toEqual([{ type: 'booking.confirmed' }]);

    const listed = await list(admin, `?consumer=${flaky}`);
    expect(listed.statusCode).toBe(200);
    const items = listed.json<{ items: DeadLetterItem[]; nextCursor: string | null }>().items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      id: letter.id,
      consumer: flaky,
      messageId,
      type: 'booking.confirmed',
      error: 'boom',
      attempts: 3,
      retriedAt: null,
      payload: { bookingId: booking.id },
    });
    const unfiltered = (await list(admin)).json<{ items: DeadLetterItem[] }>().items;
    expect(unfiltered.map((d) => d.id)).toContain(letter.id);

    // The bug is fixed; the admin re-queues the message.
    healed.add(booking.id);
    const requeued = await retry(admin, letter.id);
    expect(requeued.statusCode).toBe(202);
    expect(requeued.json()).toEqual({ id: letter.id, status: 'requeued' });
    await eventually(() => successes.get(messageId) === 1, 'the retried message processed');
    expect(attempts.get(messageId)).toHaveLength(4);

    const after = (await list(admin, `?consumer=${flaky}`)).json<{ items: DeadLetterItem[] }>()
      .items;
    expect(after).toHaveLength(1);
    expect(after[0]!.retriedAt).not.toBeNull();
    expect(Date.parse(after[0]!.retriedAt!)).toBeGreaterThanOrEqual(
      Date.parse(after[0]!.createdAt),
    );

    const again = await retry(admin, letter.id);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ status: 409, code: 'INVALID_STATE' });
    await sleep(500);
    expect(successes.get(messageId)).toBe(1);
  });

  it('two admins retrying the same dead letter at once: one 202, one 409, requeued once', async () => {
    const db = t.deps.database.db;
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const booking = await holdAndBook(t, user, event.id);
    const letter = await eventually(
      () =>
        db
          .selectFrom('dead_letters')
          .selectAll()
          .where('consumer', '=', flaky)
          .where(sql<boolean>`payload->>'bookingId' = ${booking.id}`)
          .executeTakeFirst(),
      'the dead letter',
    );
    expect(attempts.get(letter.message_id)).toHaveLength(3);

    healed.add(booking.id);
    const answers = await Promise.all([retry(admin, letter.id), retry(admin, letter.id)]);
    await eventually(() => successes.has(letter.message_id), 'the retried message');
    await sleep(1000);
    const codes = answers.map((a) => a.statusCode).sort();
    console.log(
      `concurrent retries answered ${codes.join(', ')}; the consumer then got ` +
        `${attempts.get(letter.message_id)!.length - 3} delivery(ies)`,
    );
    expect(codes).toEqual([202, 409]);
    // Requeued once: one more delivery, not two.
    expect(attempts.get(letter.message_id)).toHaveLength(4);
    expect(successes.get(letter.message_id)).toBe(1);
  });

  it('is for admins only: a user or organizer → 403, anonymous → 401, unknown id → 404', async () => {
    const user = await t.signUp();
    for (const who of [user, organizer]) {
      const listed = await list(who);
      expect(listed.statusCode).toBe(403);
      expect(listed.json()).toMatchObject({ code: 'FORBIDDEN' });
      const retried = await retry(who, randomUUID());
      expect(retried.statusCode).toBe(403);
      expect(retried.json()).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect((await list(undefined)).statusCode).toBe(401);
    expect((await retry(undefined, randomUUID())).statusCode).toBe(401);
    const unknown = await retry(admin, randomUUID());
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a dead letter of a consumer that no longer exists is a 409, not lost: it stays for a later retry', async () => {
    const db = t.deps.database.db;
    const retired = `retired-${randomBytes(4).toString('hex')}`;
    const letter = await db
      .insertInto('dead_letters')
      .values({
        consumer: retired,
        message_id: randomUUID(),
        type: 'booking.confirmed',
        payload: JSON.stringify({ bookingId: randomUUID() }),
        error: 'boom',
        attempts: 3,
      })
      .returningAll()
      .executeTakeFirstOrThrow();

    for (let i = 0; i < 2; i++) {
      const refused = await retry(admin, letter.id);
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'INVALID_STATE' });
      expect(refused.json().detail).toContain(retired);
    }
    const after = await db
      .selectFrom('dead_letters')
      .selectAll()
      .where('id', '=', letter.id)
      .executeTakeFirstOrThrow();
    expect(after.retried_at).toBeNull();
    const audited = await db
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'admin.dead_letter_retried')
      .where('target_id', '=', letter.id)
      .execute();
    expect(audited).toEqual([]);
  });
});

describe(`retry back-off is per message over ${bus}`, () => {
  let t: TestApp;
  beforeAll(async () => {
    // Delays 200, 400, 800, 1600, 3200 ms between the six attempts.
    t = await createTestApp({ MESSAGE_MAX_ATTEMPTS: '6', MESSAGE_RETRY_BASE_MS: '200' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("a message's first retry is not held up behind another message's long back-off", async () => {
    const type = `backoff.${randomBytes(3).toString('hex')}`;
    const tries = new Map<string, number[]>();
    await t.deps.messaging.bus.consume({
      name: `always-failing-${randomBytes(4).toString('hex')}`,
      bindings: [type],
      handle: async (message) => {
        tries.set(message.messageId, [...(tries.get(message.messageId) ?? []), Date.now()]);
        throw new Error('still broken');
      },
    });
    const slow = { messageId: randomUUID(), type, payload: { which: 'slow' } };
    const fresh = { messageId: randomUUID(), type, payload: { which: 'fresh' } };
    await t.deps.messaging.bus.publish([slow]);
    // After its fifth failure the first message waits 3200 ms for its last attempt …
    await eventually(() => tries.get(slow.messageId)?.length === 5, 'five attempts', 15_000, 5);
    // … while a new message fails once and should be back 200 ms later.
    await t.deps.messaging.bus.publish([fresh]);
    await eventually(() => tries.get(fresh.messageId)?.length === 2, 'the fresh retry', 15_000, 5);
    const [first, second] = tries.get(fresh.messageId)!;
    const waited = second! - first!;
    const slowWaited = tries.get(slow.messageId)!.length === 6;
    console.log(
      `fresh message retried after ${waited} ms (configured 200 ms); ` +
        `the slow message's last attempt had ${slowWaited ? '' : 'not '}happened by then`,
    );
    // Generous: 5x the configured delay, well under the other message's 3200 ms.
    expect(waited).toBeLessThan(1000);
    // Both end as dead letters, each after six attempts.
    await eventually(
      async () =>
        (
          await t.deps.database.db
            .selectFrom('dead_letters')
            .select('id')
            .where('type', '=', type)
            .execute()
        ).length === 2,
      'two dead letters',
      15_000,
    );
    expect(tries.get(slow.messageId)).toHaveLength(6);
    expect(tries.get(fresh.messageId)).toHaveLength(6);
  });
});
