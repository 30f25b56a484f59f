import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, createVenue } from '../../../test/support/fixtures.js';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/support/test-app.js';
import { api, type HoldBody } from '../../../test/support/api.js';

let t: TestApp;
let organizer: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  organizer = await t.signUp('organizer');
});
afterAll(async () => {
  await t?.close();
});

async function reservedEvent() {
  const venue = await createVenue(t, organizer, { rows: 2, seatsPerRow: 5 });
  const event = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id });
  const seats = (await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}/seats` })).json();
  const seatIds: string[] = seats.sections.flatMap(
    (s: { rows: Array<{ seats: Array<{ id: string }> }> }) =>
      s.rows.flatMap((r) => r.seats.map((seat) => seat.id)),
  );
  return { event, seatIds };
}

const hold = (
  user: SignedIn,
  eventId: string,
  payload: HoldBody,
  headers: Record<string, string> = {},
) => api.hold(t, user, eventId, payload, headers);

const book = (
  user: SignedIn,
  holdId: string,
  token = 'tok_visa',
  headers: Record<string, string> = {},
) => api.book(t, user, holdId, token, headers);

const eventCounts = async (id: string) =>
  await t.deps.database.db
    .selectFrom('events_with_inventory')
    .select(['available', 'held', 'sold', 'capacity'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

describe('POST /api/v1/events/:id/holds then POST /api/v1/bookings', () => {
  it('holds two seats, books them with tok_visa and issues two tickets', async () => {
    const { event, seatIds } = await reservedEvent();
    const user = await t.signUp();
    const held = await hold(user, event.id, { seatIds: seatIds.slice(0, 2) });
    expect(held.statusCode).toBe(201);
    expect(held.json()).toMatchObject({ eventId: event.id, quantity: 2, currency: 'EUR' });
    expect(await eventCounts(event.id)).toMatchObject({ held: 2, available: 18, sold: 0 });

    const booked = await book(user, held.json().id);
    expect(booked.statusCode).toBe(201);
    const booking = booked.json();
    expect(booking.status).toBe('confirmed');
    expect(booking.tickets).toHaveLength(2);
    expect(new Set(booking.tickets.map((x: { seatId: string }) => x.seatId))).toEqual(
      new Set(seatIds.slice(0, 2)),
    );
    expect(await eventCounts(event.id)).toMatchObject({ held: 0, available: 18, sold: 2 });
    expect(
      t.deps.booking.ledger!.entries.filter(
        (e) => e.idempotencyKey === booking.id && e.kind === 'charge',
      ),
    ).toHaveLength(1);
  });

  it('refuses a seat already held by someone else and names it', async () => {
    const { event, seatIds } = await reservedEvent();
    const first = await t.signUp();
    const second = await t.signUp();
    expect((await hold(first, event.id, { seatIds: [seatIds[0]!] })).statusCode).toBe(201);
    const refused = await hold(second, event.id, { seatIds: [seatIds[0]!, seatIds[1]!] });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'SEAT_UNAVAILABLE',
      unavailableSeatIds: [seatIds[0]!],
    });
    expect(await eventCounts(event.id)).toMatchObject({ held: 1 });
  });

  it('answers 402 for a declined card and keeps the hold for another try', async () => {
    const { event, seatIds } = await reservedEvent();
    const user = await t.signUp();
    const held = (await hold(user, event.id, { seatIds: [seatIds[3]!] })).json();
    const declined = await book(user, held.id, 'tok_declined');
    expect(declined.statusCode).toBe(402);
    expect(declined.json().code).toBe('PAYMENT_DECLINED');
    expect(await eventCounts(event.id)).toMatchObject({ held: 1, sold: 0 });
    const retried = await book(user, held.id, 'tok_visa');
    expect(retried.statusCode).toBe(201);
    expect(await eventCounts(event.id)).toMatchObject({ held: 0, sold: 1 });
  });

  it('refunds and releases when the provider charges but fails to answer', async () => {
    const { event, seatIds } = await reservedEvent();
    const user = await t.signUp();
    const held = (await hold(user, event.id, { seatIds: [seatIds[4]!] })).json();
    const failed = await book(user, held.id, 'tok_charge_then_error');
    expect(failed.statusCode).toBe(503);
    const bookingId = failed.json().bookingId as string;
    // The saga settles it: it finds the charge, refunds it and gives the seat back.
    for (let i = 0; i < 50; i++) {
      await t.deps.booking.sagaDriver.recoverDue();
      const row = await t.deps.database.db
        .selectFrom('bookings')
        .selectAll()
        .where('id', '=', bookingId)
        .executeTakeFirstOrThrow();
      if (row.status !== 'pending') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const row = await t.deps.database.db
      .selectFrom('bookings')
      .selectAll()
      .where('id', '=', bookingId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    expect(row.refund_cents).toBe(row.total_cents);
    const ledger = t.deps.booking.ledger!.entries.filter((e) =>
      e.idempotencyKey.endsWith(bookingId),
    );
    expect(ledger.map((e) => e.kind).sort()).toEqual(['charge', 'refund']);
    expect(await eventCounts(event.id)).toMatchObject({ held: 0, sold: 0, available: 10 + 10 });
  });

  it('general admission: holds a quantity, refuses more than is left with SOLD_OUT', async () => {
    const event = await createEvent(t, organizer, { capacity: 5 });
    const user = await t.signUp();
    expect((await hold(user, event.id, { quantity: 4 })).statusCode).toBe(201);
    const other = await t.signUp();
    const refused = await hold(other, event.id, { quantity: 2 });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('SOLD_OUT');
  });

  it('cancels a booking: refund, seats back, twice is harmless', async () => {
    const { event, seatIds } = await reservedEvent();
    const user = await t.signUp();
    const held = (await hold(user, event.id, { seatIds: seatIds.slice(5, 7) })).json();
    const booking = (await book(user, held.id)).json();
    const cancel = () =>
      t.inject({
        method: 'POST',
        url: `/api/v1/bookings/${booking.id}/cancel`,
        headers: user.auth,
      });
    const first = await cancel();
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: 'cancelled', refundCents: booking.totalCents });
    expect((await cancel()).json()).toMatchObject({
      status: 'cancelled',
      refundCents: booking.totalCents,
    });
    expect(await eventCounts(event.id)).toMatchObject({ held: 0, sold: 0, available: 20 });
  });

  it('replays the same answer for the same Idempotency-Key and refuses a different body', async () => {
    const event = await createEvent(t, organizer, { capacity: 50 });
    const user = await t.signUp();
    const key = { 'idempotency-key': `k-${Date.now()}` };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => hold(user, event.id, { quantity: 2 }, key)),
    );
    const ids = new Set(responses.map((r) => r.json().id));
    expect(responses.every((r) => r.statusCode === 201)).toBe(true);
    expect(ids.size).toBe(1);
    expect(await eventCounts(event.id)).toMatchObject({ held: 2 });
    const other = await hold(user, event.id, { quantity: 3 }, key);
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});
