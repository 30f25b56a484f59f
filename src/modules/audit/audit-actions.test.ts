import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, createVenue, inDays } from '../../../test/support/fixtures.js';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/support/test-app.js';

interface AuditItem {
  id: string;
  occurredAt: string;
  actorId: string | null;
  actorRole: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  requestId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

let t: TestApp;
let admin: SignedIn;
let organizer: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  admin = await t.signUp('admin');
  organizer = await t.signUp('organizer');
});
afterAll(async () => {
  await t?.close();
});

/** Every entry of one action (as the admin endpoint lists them). */
async function entriesOf(action: string): Promise<AuditItem[]> {
  const items: AuditItem[] = [];
  let cursor: string | null = null;
  do {
    const response = await t.inject({
      method: 'GET',
      url: '/api/v1/admin/audit-log',
      headers: admin.auth,
      query: { action, limit: '100', ...(cursor ? { cursor } : {}) },
    });
    expect(response.statusCode).toBe(200);
    const page = response.json<{ items: AuditItem[]; nextCursor: string | null }>();
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** The one entry of `action` about `targetId`. */
async function entryFor(action: string, targetId: string | null): Promise<AuditItem> {
  const found = (await entriesOf(action)).filter((e) => e.targetId === targetId);
  expect(found, `${action} entries for ${targetId}`).toHaveLength(1);
  return found[0]!;
}

/** Actor, role, IP and request id are those of `response`'s request, made by `who`. */
function expectMadeBy(entry: AuditItem, who: SignedIn, response: LightMyRequestResponse): void {
  expect(entry.actorId).toBe(who.id);
  expect(entry.actorRole).toBe(who.role);
  expect(entry.ip).toBe('127.0.0.1');
  expect(response.headers['x-request-id']).toBeTruthy();
  expect(entry.requestId).toBe(response.headers['x-request-id']);
}

const post = (url: string, who: SignedIn | undefined, payload?: Record<string, unknown>) =>
  t.inject({ method: 'POST', url: `/api/v1${url}`, headers: who?.auth ?? {}, payload });

async function hold(user: SignedIn, eventId: string, quantity = 1) {
  const response = await post(`/events/${eventId}/holds`, user, { quantity });
  expect(response.statusCode).toBe(201);
  return { response, id: response.json<{ id: string }>().id };
}

describe('audit log: sign-in and accounts', () => {
  it('when someone registers and logs in, then auth.registered and auth.login name them', async () => {
    const email = `audit-${randomUUID()}@example.test`;
    const password = 'correct horse battery';
    const registered = await post('/auth/register', undefined, { email, password, name: 'A' });
    expect(registered.statusCode).toBe(201);
    const userId = registered.json<{ user: { id: string } }>().user.id;
    const me = { id: userId, role: 'user' } as SignedIn;
    const registration = await entryFor('auth.registered', userId);
    expectMadeBy(registration, me, registered);
    expect(registration).toMatchObject({ targetType: 'user', after: { email, role: 'user' } });

    const login = await post('/auth/login', undefined, { email, password });
    expect(login.statusCode).toBe(200);
    const entry = await entryFor('auth.login', userId);
    expectMadeBy(entry, me, login);
    expect(entry).toMatchObject({ targetType: 'user', before: null, after: { email } });
    expect(JSON.stringify(entry)).not.toContain(password);
    expect(JSON.stringify(entry)).not.toContain(login.json<{ accessToken: string }>().accessToken);
  });

  it('when a login fails, then auth.login_failed keeps the attempted email, never the password', async () => {
    const user = await t.signUp();
    const wrong = await post('/auth/login', undefined, {
      email: user.email,
      password: 'not the password at all',
    });
    expect(wrong.statusCode).toBe(401);
    const entry = await entryFor('auth.login_failed', user.id);
    expect(entry).toMatchObject({
      actorId: null,
      actorRole: null,
      ip: '127.0.0.1',
      requestId: wrong.headers['x-request-id'],
      targetType: 'user',
      after: { email: user.email, reason: 'wrong_password' },
    });
    expect(JSON.stringify(entry)).not.toContain('not the password at all');

    const unknownEmail = `nobody-${randomUUID()}@example.test`;
    const unknown = await post('/auth/login', undefined, {
      email: unknownEmail,
      password: 'whatever it is',
    });
    expect(unknown.statusCode).toBe(401);
    const unknownEntry = (await entriesOf('auth.login_failed')).find(
      (e) => e.after?.email === unknownEmail,
    );
    expect(unknownEntry).toMatchObject({
      actorId: null,
      targetId: null,
      requestId: unknown.headers['x-request-id'],
      after: { reason: 'unknown_email' },
    });
  });

  it('when a user logs out, then auth.logout names their session', async () => {
    const user = await t.signUp();
    const sessions = await t.inject({
      method: 'GET',
      url: '/api/v1/auth/sessions',
      headers: user.auth,
    });
    const sessionId = sessions.json<{ items: Array<{ id: string }> }>().items[0]!.id;
    const response = await post('/auth/logout', user);
    expect(response.statusCode).toBe(204);
    const entry = await entryFor('auth.logout', sessionId);
    expectMadeBy(entry, user, response);
    expect(entry.targetType).toBe('session');
  });

  it('when a user ends another of their sessions, then auth.session_ended names it', async () => {
    const user = await t.signUp();
    const second = await post('/auth/login', undefined, {
      email: user.email,
      password: user.password,
    });
    const other = second.json<{ accessToken: string }>().accessToken;
    const listed = await t.inject({
      method: 'GET',
      url: '/api/v1/auth/sessions',
      headers: { authorization: `Bearer ${other}` },
    });
    const current = listed
      .json<{ items: Array<{ id: string; current: boolean }> }>()
      .items.find((s) => s.current)!;
    const response = await t.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${current.id}`,
      headers: user.auth,
    });
    expect(response.statusCode).toBe(204);
    expectMadeBy(await entryFor('auth.session_ended', current.id), user, response);
  });

  it('when a rotated refresh token is presented again, then auth.refresh_reused is recorded', async () => {
    const user = await t.signUp();
    const first = await post('/auth/refresh', undefined, { refreshToken: user.refreshToken });
    expect(first.statusCode).toBe(200);
    const reused = await post('/auth/refresh', undefined, { refreshToken: user.refreshToken });
    expect(reused.statusCode).toBe(401);
    const entry = (await entriesOf('auth.refresh_reused')).find((e) => e.actorId === user.id);
    expect(entry).toMatchObject({
      targetType: 'session',
      ip: '127.0.0.1',
      requestId: reused.headers['x-request-id'],
    });
    expect(JSON.stringify(entry)).not.toContain(user.refreshToken);
  });

  it('when an admin changes a role, disables and re-enables a user, then each is recorded with before and after', async () => {
    const user = await t.signUp();
    const patch = (payload: Record<string, unknown>) =>
      t.inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${user.id}`,
        headers: admin.auth,
        payload,
      });
    const promoted = await patch({ role: 'organizer' });
    expect(promoted.statusCode).toBe(200);
    const roleChange = await entryFor('user.role_changed', user.id);
    expectMadeBy(roleChange, admin, promoted);
    expect(roleChange).toMatchObject({
      targetType: 'user',
      before: { role: 'user' },
      after: { role: 'organizer' },
    });

    const disabled = await patch({ disabled: true });
    expect(disabled.statusCode).toBe(200);
    const disabling = await entryFor('user.disabled', user.id);
    expectMadeBy(disabling, admin, disabled);
    expect(disabling).toMatchObject({ before: { disabled: false }, after: { disabled: true } });

    const enabled = await patch({ disabled: false });
    expectMadeBy(await entryFor('user.enabled', user.id), admin, enabled);
    // A change to what already is changes nothing and records nothing.
    expect((await patch({ role: 'organizer' })).statusCode).toBe(200);
    await entryFor('user.role_changed', user.id);
  });
});

describe('audit log: venues and events', () => {
  it('when an organizer creates a venue, then venue.created records it', async () => {
    const response = await post('/venues', organizer, {
      name: 'Audit Hall',
      address: '2 Log Lane',
      city: 'Recordville',
      timezone: 'Europe/Berlin',
      sections: [{ name: 'Main', rows: [{ label: 'A', seats: 4 }] }],
    });
    expect(response.statusCode).toBe(201);
    const venueId = response.json<{ id: string }>().id;
    const entry = await entryFor('venue.created', venueId);
    expectMadeBy(entry, organizer, response);
    expect(entry).toMatchObject({
      targetType: 'venue',
      before: null,
      after: { name: 'Audit Hall', city: 'Recordville', capacity: 4 },
    });
  });

  it('when an event is created, changed, published and cancelled, then each step is recorded', async () => {
    const startsAt = inDays(20);
    const created = await post('/events', organizer, {
      name: 'Audited Night',
      description: 'Watched closely',
      startsAt,
      endsAt: inDays(20, 3),
      seating: 'general',
      capacity: 50,
      priceCents: 1500,
      currency: 'EUR',
    });
    expect(created.statusCode).toBe(201);
    const eventId = created.json<{ id: string }>().id;
    const creation = await entryFor('event.created', eventId);
    expectMadeBy(creation, organizer, created);
    expect(creation).toMatchObject({
      targetType: 'event',
      before: null,
      after: { name: 'Audited Night', capacity: 50, priceCents: 1500, status: 'draft' },
    });

    const patched = await t.inject({
      method: 'PATCH',
      url: `/api/v1/events/${eventId}`,
      headers: admin.auth,
      payload: { priceCents: 1800, name: 'Audited Night II' },
    });
    expect(patched.statusCode).toBe(200);
    const update = await entryFor('event.updated', eventId);
    expectMadeBy(update, admin, patched);
    // Only what changed, as it was and as it became.
    expect(update.before).toEqual({ name: 'Audited Night', priceCents: 1500 });
    expect(update.after).toEqual({ name: 'Audited Night II', priceCents: 1800 });

    const published = await post(`/events/${eventId}/publish`, organizer);
    expect(published.statusCode).toBe(200);
    const publication = await entryFor('event.published', eventId);
    expectMadeBy(publication, organizer, published);
    expect(publication).toMatchObject({
      before: { status: 'draft' },
      after: { status: 'published' },
    });

    const cancelled = await post(`/events/${eventId}/cancel`, organizer);
    expect(cancelled.statusCode).toBe(200);
    const cancellation = await entryFor('event.cancelled', eventId);
    expectMadeBy(cancellation, organizer, cancelled);
    expect(cancellation).toMatchObject({
      before: { status: 'published' },
      after: { status: 'cancelled' },
    });
    // Cancelling again is harmless and not recorded twice.
    expect((await post(`/events/${eventId}/cancel`, organizer)).statusCode).toBe(200);
    await entryFor('event.cancelled', eventId);
  });

  it('when an event update is refused, then nothing is recorded', async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const refused = await t.inject({
      method: 'PATCH',
      url: `/api/v1/events/${event.id}`,
      headers: organizer.auth,
      payload: { endsAt: inDays(1) },
    });
    expect(refused.statusCode).toBe(400);
    expect((await entriesOf('event.updated')).filter((e) => e.targetId === event.id)).toEqual([]);
  });
});

describe('audit log: holds, bookings and money', () => {
  it('when a user holds and releases tickets, then hold.created and hold.released are recorded', async () => {
    const event = await createEvent(t, organizer, { capacity: 20 });
    const user = await t.signUp();
    const held = await hold(user, event.id, 2);
    const creation = await entryFor('hold.created', held.id);
    expectMadeBy(creation, user, held.response);
    expect(creation).toMatchObject({
      targetType: 'hold',
      after: { eventId: event.id, quantity: 2, totalCents: 5000, currency: 'EUR' },
    });

    const released = await t.inject({
      method: 'DELETE',
      url: `/api/v1/holds/${held.id}`,
      headers: user.auth,
    });
    expect(released.statusCode).toBe(204);
    const release = await entryFor('hold.released', held.id);
    expectMadeBy(release, user, released);
    expect(release).toMatchObject({ before: { status: 'active' }, after: { status: 'released' } });
  });

  it('when a booking is paid, then booking.confirmed names the buyer and the booking request', async () => {
    const event = await createEvent(t, organizer, { capacity: 20 });
    const user = await t.signUp();
    const held = await hold(user, event.id, 1);
    const booked = await post('/bookings', user, {
      holdId: held.id,
      payment: { token: 'tok_visa' },
    });
    expect(booked.statusCode).toBe(201);
    const bookingId = booked.json<{ id: string }>().id;
    const entry = await entryFor('booking.confirmed', bookingId);
    expectMadeBy(entry, user, booked);
    expect(entry).toMatchObject({
      targetType: 'booking',
      before: { status: 'pending' },
      after: { status: 'confirmed', eventId: event.id, holdId: held.id, totalCents: 2500 },
    });
    expect(JSON.stringify(entry)).not.toContain('tok_visa');
  });

  it('when a card is declined, then booking.failed records the failure', async () => {
    const event = await createEvent(t, organizer, { capacity: 20 });
    const user = await t.signUp();
    const held = await hold(user, event.id, 1);
    const declined = await post('/bookings', user, {
      holdId: held.id,
      payment: { token: 'tok_declined' },
    });
    expect(declined.statusCode).toBe(402);
    const bookingId = declined.json<{ bookingId: string }>().bookingId;
    const entry = await entryFor('booking.failed', bookingId);
    expectMadeBy(entry, user, declined);
    expect(entry).toMatchObject({
      targetType: 'booking',
      after: { status: 'failed', failure: 'PAYMENT_DECLINED', refundCents: 0 },
    });
    expect(JSON.stringify(entry)).not.toContain('tok_declined');
    // No money moved, so no refund is recorded.
    expect((await entriesOf('payment.refunded')).filter((e) => e.targetId === bookingId)).toEqual(
      [],
    );
  });

  it('when a booking is cancelled, then payment.refunded and booking.cancelled name who asked', async () => {
    const event = await createEvent(t, organizer, { capacity: 20 });
    const user = await t.signUp();
    const held = await hold(user, event.id, 2);
    const booked = await post('/bookings', user, {
      holdId: held.id,
      payment: { token: 'tok_visa' },
    });
    const bookingId = booked.json<{ id: string }>().id;
    // The event's organizer cancels it for the holder.
    const cancelled = await post(`/bookings/${bookingId}/cancel`, organizer);
    expect(cancelled.statusCode).toBe(200);

    const refund = await entryFor('payment.refunded', bookingId);
    expectMadeBy(refund, organizer, cancelled);
    expect(refund).toMatchObject({
      targetType: 'booking',
      after: { amountCents: 5000, currency: 'EUR', reason: 'requested' },
    });
    const cancellation = await entryFor('booking.cancelled', bookingId);
    expectMadeBy(cancellation, organizer, cancelled);
    expect(cancellation).toMatchObject({
      before: { status: 'confirmed' },
      after: { status: 'cancelled', refundCents: 5000, reason: 'requested' },
    });
    // Cancelling again changes nothing and records nothing.
    expect((await post(`/bookings/${bookingId}/cancel`, user)).statusCode).toBe(200);
    await entryFor('booking.cancelled', bookingId);
    await entryFor('payment.refunded', bookingId);
  });
});

describe('audit log: admin actions', () => {
  it('when an admin re-queues a dead letter, then admin.dead_letter_retried records it', async () => {
    const consumer = `audit-${randomUUID().slice(0, 8)}`;
    const delivered: string[] = [];
    await t.deps.messaging.bus.consume({
      name: consumer,
      bindings: [`audit.${consumer}`],
      handle: async (message) => {
        delivered.push(message.messageId);
      },
    });
    const messageId = randomUUID();
    const letter = await t.deps.database.db
      .insertInto('dead_letters')
      .values({
        consumer,
        message_id: messageId,
        type: `audit.${consumer}`,
        payload: JSON.stringify({ note: 'failed before' }),
        error: 'boom',
        attempts: 3,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const retried = await post(`/admin/dead-letters/${letter.id}/retry`, admin);
    expect(retried.statusCode).toBe(202);
    const entry = await entryFor('admin.dead_letter_retried', letter.id);
    expectMadeBy(entry, admin, retried);
    expect(entry).toMatchObject({
      targetType: 'dead_letter',
      after: { consumer, type: `audit.${consumer}`, messageId },
    });
    for (let i = 0; i < 100 && delivered.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(delivered).toEqual([messageId]);
  });
});

describe('audit log: venues fixture', () => {
  it('when a reserved event is published, then the recorded capacity is the venue seat count', async () => {
    const venue = await createVenue(t, organizer, { rows: 1, seatsPerRow: 3 });
    const event = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id });
    const entry = await entryFor('event.published', event.id);
    expect(entry.after).toEqual({ status: 'published', capacity: venue.capacity });
  });
});
