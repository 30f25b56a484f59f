import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdAndBook } from './support/bookings.js';
import { createEvent } from './support/fixtures.js';
import { eventually, sleep, type SmtpSink } from './support/smtp-sink.js';
import { createMailingTestApp, type SignedIn, type TestApp } from './support/test-app.js';

// Booking events travel outbox → relay → bus (RabbitMQ when AMQP_URL is set, in process
// otherwise) → notifications consumer → in-app row + email through a real SMTP server.
const bus = process.env.AMQP_URL ? 'RabbitMQ' : 'the in-process bus';

interface NotificationItem {
  id: string;
  type: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

describe(`notifications over ${bus}`, () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let organizer: SignedIn;

  beforeAll(async () => {
    ({ smtp, t } = await createMailingTestApp({}, { workers: true }));
    organizer = await t.signUp('organizer');
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const notificationsOf = async (user: SignedIn): Promise<NotificationItem[]> => {
    const response = await t.inject({
      method: 'GET',
      url: '/api/v1/me/notifications',
      headers: user.auth,
    });
    expect(response.statusCode).toBe(200);
    return response.json<{ items: NotificationItem[] }>().items;
  };

  const mailsFor = (user: SignedIn, bookingId: string, subject?: string) =>
    smtp.mails.filter(
      (m) =>
        m.to.includes(user.email) &&
        m.text.includes(bookingId) &&
        (subject === undefined || m.subject === subject),
    );

  /** Waits for `n` notifications of `type`, then a little longer so that a duplicate would show. */
  const settledNotifications = async (user: SignedIn, type: string, n = 1) => {
    await eventually(
      async () => (await notificationsOf(user)).filter((x) => x.type === type).length >= n,
      `${n} ${type} notification(s)`,
    );
    await sleep(1000);
    return (await notificationsOf(user)).filter((x) => x.type === type);
  };

  it('a confirmed booking produces one in-app notification and exactly one email', async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const booking = await holdAndBook(t, user, event.id, { quantity: 2 });

    const confirmed = await settledNotifications(user, 'booking.confirmed');
    expect(confirmed).toHaveLength(1);
    expect(confirmed[0]).toMatchObject({
      type: 'booking.confirmed',
      title: 'Your booking is confirmed',
      readAt: null,
      data: { bookingId: booking.id, eventId: event.id, userId: user.id, quantity: 2 },
    });
    expect(confirmed[0]!.body).toContain(booking.id);
    expect(confirmed[0]!.body).toContain('50.00 EUR');

    await smtp.waitFor(() => mailsFor(user, booking.id).length >= 1, 15_000, 'the confirmation');
    await sleep(500);
    const mails = mailsFor(user, booking.id);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ to: [user.email], subject: 'Your booking is confirmed' });
    // Nothing else was sent to this user.
    expect(smtp.mails.filter((m) => m.to.includes(user.email))).toHaveLength(1);

    const deliveries = await t.deps.database.db
      .selectFrom('email_deliveries')
      .select(['status', 'to_address', 'sent_at'])
      .where('to_address', '=', user.email)
      .execute();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ status: 'sent', to_address: user.email });
    expect(deliveries[0]!.sent_at).toBeInstanceOf(Date);
  });

  it('notifications are private: anonymous → 401, another user sees none of them', async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const owner = await t.signUp();
    const stranger = await t.signUp();
    const booking = await holdAndBook(t, owner, event.id);
    await settledNotifications(owner, 'booking.confirmed');

    const anonymous = await t.inject({ method: 'GET', url: '/api/v1/me/notifications' });
    expect(anonymous.statusCode).toBe(401);
    const theirs = await notificationsOf(stranger);
    expect(theirs.filter((n) => JSON.stringify(n).includes(booking.id))).toEqual([]);
  });

  it("a cancellation produces a 'booking.cancelled' notification and email, newest first", async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const booking = await holdAndBook(t, user, event.id);
    await settledNotifications(user, 'booking.confirmed');

    const cancelled = await t.inject({
      method: 'POST',
      url: `/api/v1/bookings/${booking.id}/cancel`,
      headers: user.auth,
    });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', refundCents: 2500 });

    const notes = await settledNotifications(user, 'booking.cancelled');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({
      title: 'Your booking is cancelled',
      data: { bookingId: booking.id, refundCents: 2500, reason: 'requested' },
    });
    const all = await notificationsOf(user);
    expect(all.map((n) => n.type)).toEqual(['booking.cancelled', 'booking.confirmed']);

    await smtp.waitFor(
      () => mailsFor(user, booking.id, 'Your booking is cancelled').length >= 1,
      15_000,
      'the cancellation email',
    );
    await sleep(500);
    expect(mailsFor(user, booking.id, 'Your booking is cancelled')).toHaveLength(1);
    expect(mailsFor(user, booking.id, 'Your booking is cancelled')[0]!.text).toContain(
      '25.00 EUR refunded',
    );
    expect(mailsFor(user, booking.id)).toHaveLength(2);
  });

  it("an event cancellation notifies each holder ('event.cancelled') once, by app and email", async () => {
    const event = await createEvent(t, organizer, { capacity: 20 });
    const holders = await Promise.all([t.signUp(), t.signUp(), t.signUp()]);
    const bookings = await Promise.all(
      holders.map((user, i) => holdAndBook(t, user, event.id, { quantity: i + 1 })),
    );
    for (const user of holders) await settledNotifications(user, 'booking.confirmed');

    const cancelled = await t.inject({
      method: 'POST',
      url: `/api/v1/events/${event.id}/cancel`,
      headers: organizer.auth,
    });
    expect(cancelled.statusCode).toBe(200);

    for (const [i, user] of holders.entries()) {
      const booking = bookings[i]!;
      const notes = await settledNotifications(user, 'event.cancelled');
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatchObject({
        title: 'An event you booked was cancelled',
        data: {
          bookingId: booking.id,
          eventId: event.id,
          reason: 'event_cancelled',
          refundCents: 2500 * (i + 1),
        },
      });
      // The plain 'booking.cancelled' wording is not used for an event cancellation.
      expect((await notificationsOf(user)).filter((n) => n.type === 'booking.cancelled')).toEqual(
        [],
      );
      await smtp.waitFor(
        () => mailsFor(user, booking.id, 'An event you booked was cancelled').length >= 1,
        15_000,
        `the event-cancelled email of holder ${i}`,
      );
    }
    await sleep(500);
    for (const [i, user] of holders.entries()) {
      const booking = bookings[i]!;
      const mails = mailsFor(user, booking.id, 'An event you booked was cancelled');
      expect(mails).toHaveLength(1);
      expect(mails[0]!.text).toContain(`${(25 * (i + 1)).toFixed(2)} EUR refunded`);
      expect(smtp.mails.filter((m) => m.to.includes(user.email))).toHaveLength(2);
    }
  });
});
