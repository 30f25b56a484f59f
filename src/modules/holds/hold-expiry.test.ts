import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, createVenue } from '../../../test/support/fixtures.js';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/support/test-app.js';
import { ManualClock } from '../../platform/clock.js';
import { sleep } from '../../../test/support/kit.js';
import { api, type HoldBody } from '../../../test/support/api.js';

const TTL_MS = 60_000;

let t: TestApp;
let organizer: SignedIn;
const clock = new ManualClock();
beforeAll(async () => {
  t = await createTestApp({ HOLD_TTL_SECONDS: String(TTL_MS / 1000) }, { clock });
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

const hold = (user: SignedIn, eventId: string, payload: HoldBody) =>
  api.hold(t, user, eventId, payload);

const release = (user: SignedIn, holdId: string) =>
  t.inject({ method: 'DELETE', url: `/api/v1/holds/${holdId}`, headers: user.auth });

const book = (user: SignedIn, holdId: string, token = 'tok_visa') =>
  t.inject({
    method: 'POST',
    url: '/api/v1/bookings',
    headers: user.auth,
    payload: { holdId, payment: { token } },
  });

const eventCounts = async (id: string) => {
  const row = await t.deps.database.db
    .selectFrom('events_with_inventory')
    .select(['available', 'held', 'sold', 'capacity'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  // The invariant every move between the counters keeps.
  expect(row.available + row.held + row.sold).toBe(row.capacity);
  return row;
};

const holdRow = (id: string) =>
  t.deps.database.db.selectFrom('holds').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

const bookingRow = (id: string) =>
  t.deps.database.db
    .selectFrom('bookings')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

/** The status of each seat as the public seat map shows it. */
async function seatMap(eventId: string): Promise<Record<string, string>> {
  const response = await t.inject({ method: 'GET', url: `/api/v1/events/${eventId}/seats` });
  expect(response.statusCode).toBe(200);
  const body = response.json<{
    sections: Array<{ rows: Array<{ seats: Array<{ id: string; status: string }> }> }>;
  }>();
  return Object.fromEntries(
    body.sections.flatMap((s) => s.rows.flatMap((r) => r.seats.map((x) => [x.id, x.status]))),
  );
}

const releasedMessages = (holdId: string) =>
  t.deps.database.db
    .selectFrom('outbox')
    .selectAll()
    .where('type', '=', 'seats.released')
    .where(sql<boolean>`payload @> ${JSON.stringify({ holdId })}::jsonb`)
    .execute();

const ledger = () => {
  const books = t.deps.booking.ledger;
  if (!books) throw new Error('this app has no in-process payment ledger');
  return books;
};

describe('hold expiry (HOLD_TTL_SECONDS=60, a manual clock)', () => {
  it('when the TTL passes, then another user gets the seat at once, before any sweep', async () => {
    const { event, seatIds } = await reservedEvent();
    const first = await t.signUp();
    const second = await t.signUp();
    const mine = await hold(first, event.id, { seatIds: [seatIds[0]!] });
    expect(mine.statusCode).toBe(201);
    expect(new Date(mine.json().expiresAt).getTime()).toBe(clock.now().getTime() + TTL_MS);

    clock.advance(TTL_MS - 1_000);
    const early = await hold(second, event.id, { seatIds: [seatIds[0]!] });
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({
      code: 'SEAT_UNAVAILABLE',
      unavailableSeatIds: [seatIds[0]!],
    });
    expect(await eventCounts(event.id)).toMatchObject({ held: 1, available: 19, sold: 0 });

    clock.advance(2_000);
    const late = await hold(second, event.id, { seatIds: [seatIds[0]!, seatIds[1]!] });

    expect(late.statusCode).toBe(201);
    expect(await holdRow(mine.json().id)).toMatchObject({ status: 'expired' });
    // The expired hold's seat moved back and straight on to the new hold: counted once.
    expect(await eventCounts(event.id)).toMatchObject({ held: 2, available: 18, sold: 0 });
    const map = await seatMap(event.id);
    expect([map[seatIds[0]!], map[seatIds[1]!], map[seatIds[2]!]]).toEqual([
      'held',
      'held',
      'available',
    ]);
    const messages = await releasedMessages(mine.json().id);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload).toMatchObject({ reason: 'expired', seatIds: [seatIds[0]!] });
  });

  it('when the sweeper runs, then expired general-admission holds are released and announced once', async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const held = (await hold(user, event.id, { quantity: 3 })).json();
    const kept = (await hold(await t.signUp(), event.id, { quantity: 2 })).json();
    expect(await eventCounts(event.id)).toMatchObject({ held: 5, available: 5 });
    clock.advance(TTL_MS / 2);
    // A later hold of the same event outlives the first one by half a TTL.
    const later = (await hold(await t.signUp(), event.id, { quantity: 1 })).json();
    await t.deps.booking.holds.releaseExpired();
    expect(await holdRow(held.id)).toMatchObject({ status: 'active' });

    clock.advance(TTL_MS / 2 + 1);
    // Until swept, an expired hold is still counted as held.
    expect(await eventCounts(event.id)).toMatchObject({ held: 6, available: 4 });
    const released = await t.deps.booking.holds.releaseExpired();

    expect(released).toBeGreaterThanOrEqual(2);
    expect(await eventCounts(event.id)).toMatchObject({ held: 1, available: 9, sold: 0 });
    const row = await holdRow(held.id);
    expect(row.status).toBe('expired');
    expect(row.released_at?.getTime()).toBe(clock.now().getTime());
    expect(await holdRow(kept.id)).toMatchObject({ status: 'expired' });
    expect(await holdRow(later.id)).toMatchObject({ status: 'active' });
    const messages = await releasedMessages(held.id);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ aggregate_type: 'event', aggregate_id: event.id });
    expect(messages[0]!.payload).toMatchObject({
      holdId: held.id,
      eventId: event.id,
      quantity: 3,
      reason: 'expired',
      userId: user.id,
    });

    await t.deps.booking.holds.releaseExpired();
    expect(await releasedMessages(held.id)).toHaveLength(1);
    expect(await eventCounts(event.id)).toMatchObject({ held: 1, available: 9 });
  });

  it('when an expired hold is booked, then it answers 410 HOLD_EXPIRED and charges nothing', async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const held = (await hold(user, event.id, { quantity: 2 })).json();
    clock.advance(TTL_MS);

    const late = await book(user, held.id);

    expect(late.statusCode).toBe(410);
    expect(late.json().code).toBe('HOLD_EXPIRED');
    const bookings = await t.deps.database.db
      .selectFrom('bookings')
      .select('id')
      .where('hold_id', '=', held.id)
      .execute();
    expect(bookings).toEqual([]);
    expect(await eventCounts(event.id)).toMatchObject({ sold: 0 });

    await t.deps.booking.holds.releaseExpired();
    const afterSweep = await book(user, held.id);
    expect(afterSweep.statusCode).toBe(410);
    expect(await eventCounts(event.id)).toMatchObject({ held: 0, available: 10, sold: 0 });
  });
});

describe('DELETE /api/v1/holds/:id', () => {
  it('gives the seats back at once (204), and another user can take them', async () => {
    const { event, seatIds } = await reservedEvent();
    const user = await t.signUp();
    const held = (await hold(user, event.id, { seatIds: seatIds.slice(2, 4) })).json();
    expect(await eventCounts(event.id)).toMatchObject({ held: 2, available: 18 });

    const released = await release(user, held.id);

    expect(released.statusCode).toBe(204);
    expect(released.body).toBe('');
    expect(await eventCounts(event.id)).toMatchObject({ held: 0, available: 20, sold: 0 });
    expect(await holdRow(held.id)).toMatchObject({ status: 'released' });
    const map = await seatMap(event.id);
    expect([map[seatIds[2]!], map[seatIds[3]!]]).toEqual(['available', 'available']);
    expect(await releasedMessages(held.id)).toHaveLength(1);
    const other = await t.signUp();
    expect((await hold(other, event.id, { seatIds: seatIds.slice(2, 4) })).statusCode).toBe(201);
  });

  it("answers 404 for someone else's hold and leaves it alone", async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const owner = await t.signUp();
    const stranger = await t.signUp();
    const held = (await hold(owner, event.id, { quantity: 2 })).json();

    const refused = await release(stranger, held.id);

    expect(refused.statusCode).toBe(404);
    expect(refused.json().code).toBe('NOT_FOUND');
    expect(await holdRow(held.id)).toMatchObject({ status: 'active' });
    expect(await eventCounts(event.id)).toMatchObject({ held: 2, available: 8 });
    const unknown = await release(owner, '00000000-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
  });

  it('answers 409 INVALID_STATE when the hold was already given up or booked, and changes nothing', async () => {
    const event = await createEvent(t, organizer, { capacity: 10 });
    const user = await t.signUp();
    const first = (await hold(user, event.id, { quantity: 1 })).json();
    expect((await release(user, first.id)).statusCode).toBe(204);
    const twice = await release(user, first.id);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('INVALID_STATE');

    const second = (await hold(user, event.id, { quantity: 2 })).json();
    expect((await book(user, second.id)).statusCode).toBe(201);
    const booked = await release(user, second.id);
    expect(booked.statusCode).toBe(409);
    expect(await eventCounts(event.id)).toMatchObject({ held: 0, sold: 2, available: 8 });
  });
});

describe('hold rules', () => {
  it('when holds and bookings together would pass maxTicketsPerUser, then it answers 409 TICKET_LIMIT_EXCEEDED', async () => {
    const event = await createEvent(t, organizer, {
      capacity: 20,
      extra: { maxTicketsPerUser: 4 },
    });
    const user = await t.signUp();
    const first = (await hold(user, event.id, { quantity: 2 })).json();
    expect((await book(user, first.id)).statusCode).toBe(201);
    const second = await hold(user, event.id, { quantity: 2 });
    expect(second.statusCode).toBe(201);

    const over = await hold(user, event.id, { quantity: 1 });

    expect(over.statusCode).toBe(409);
    expect(over.json().code).toBe('TICKET_LIMIT_EXCEEDED');
    expect(await eventCounts(event.id)).toMatchObject({ held: 2, sold: 2, available: 16 });
    // Someone else has their own allowance.
    expect((await hold(await t.signUp(), event.id, { quantity: 4 })).statusCode).toBe(201);
    // An expired hold no longer counts; the bought tickets still do.
    clock.advance(TTL_MS + 1);
    expect((await hold(user, event.id, { quantity: 2 })).statusCode).toBe(201);
    expect((await hold(user, event.id, { quantity: 1 })).json().code).toBe('TICKET_LIMIT_EXCEEDED');
  });

  it('when several holds race past the per-user limit, then only as many as fit succeed', async () => {
    const event = await createEvent(t, organizer, {
      capacity: 50,
      extra: { maxTicketsPerUser: 3 },
    });
    const user = await t.signUp();
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => hold(user, event.id, { quantity: 1 })),
    );
    const created = responses.filter((r) => r.statusCode === 201).length;
    expect(created).toBeGreaterThanOrEqual(1);
    expect(created).toBeLessThanOrEqual(3);
    for (const r of responses.filter((x) => x.statusCode !== 201)) {
      expect(r.statusCode).toBe(409);
      expect(['TICKET_LIMIT_EXCEEDED', 'HOLD_IN_PROGRESS']).toContain(r.json().code);
    }
    expect((await eventCounts(event.id)).held).toBe(created);
  });

  it('when sales have not opened yet, then it answers 409 SALES_CLOSED until they do', async () => {
    const opensAt = new Date(clock.now().getTime() + 10 * 60_000);
    const event = await createEvent(t, organizer, {
      capacity: 10,
      extra: { salesStartAt: opensAt.toISOString() },
    });
    const user = await t.signUp();

    const early = await hold(user, event.id, { quantity: 1 });

    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('SALES_CLOSED');
    expect(await eventCounts(event.id)).toMatchObject({ held: 0, available: 10 });
    clock.advance(opensAt.getTime() - clock.now().getTime());
    expect((await hold(user, event.id, { quantity: 1 })).statusCode).toBe(201);
  });

  it('when sales have ended, then it answers 409 SALES_CLOSED', async () => {
    const closesAt = new Date(clock.now().getTime() + 5 * 60_000);
    const event = await createEvent(t, organizer, {
      capacity: 10,
      extra: { salesEndAt: closesAt.toISOString() },
    });
    const user = await t.signUp();
    expect((await hold(user, event.id, { quantity: 1 })).statusCode).toBe(201);
    clock.advance(5 * 60_000);

    const closed = await hold(user, event.id, { quantity: 1 });

    expect(closed.statusCode).toBe(409);
    expect(closed.json().code).toBe('SALES_CLOSED');
  });
});

describe('cancellation', () => {
  it('when a booking of 3 seats is cancelled, then every counter is back where it was and the tickets are void', async () => {
    const { event, seatIds } = await reservedEvent();
    const user = await t.signUp();
    const before = await eventCounts(event.id);
    const mapBefore = await seatMap(event.id);
    const held = (await hold(user, event.id, { seatIds: seatIds.slice(5, 8) })).json();
    const booking = (await book(user, held.id)).json();
    expect(booking.status).toBe('confirmed');
    expect(await eventCounts(event.id)).toMatchObject({
      sold: before.sold + 3,
      available: before.available - 3,
      held: before.held,
    });

    const cancelled = await t.inject({
      method: 'POST',
      url: `/api/v1/bookings/${booking.id}/cancel`,
      headers: user.auth,
    });

    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({
      status: 'cancelled',
      refundCents: booking.totalCents,
    });
    expect(await eventCounts(event.id)).toEqual(before);
    expect(await seatMap(event.id)).toEqual(mapBefore);
    const tickets = await t.deps.database.db
      .selectFrom('tickets')
      .select(['status', 'seat_id'])
      .where('booking_id', '=', booking.id)
      .execute();
    expect(tickets).toHaveLength(3);
    expect(tickets.map((x) => x.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(await bookingRow(booking.id)).toMatchObject({
      status: 'cancelled',
      refund_cents: booking.totalCents,
    });
    expect(
      ledger().entries.filter((e) => e.kind === 'refund' && e.idempotencyKey.endsWith(booking.id)),
    ).toHaveLength(1);
    // The seats can be sold again.
    const other = await t.signUp();
    const again = (await hold(other, event.id, { seatIds: seatIds.slice(5, 8) })).json();
    expect((await book(other, again.id)).statusCode).toBe(201);
  });

  it('when the event is cancelled, then every confirmed booking is refunded once and active holds are released', async () => {
    const { event, seatIds } = await reservedEvent();
    const alice = await t.signUp();
    const bob = await t.signUp();
    const carol = await t.signUp();
    const aliceHold = (await hold(alice, event.id, { seatIds: seatIds.slice(0, 2) })).json();
    const aliceBooking = (await book(alice, aliceHold.id)).json();
    const bobHold = (await hold(bob, event.id, { seatIds: [seatIds[2]!] })).json();
    const bobBooking = (await book(bob, bobHold.id)).json();
    const carolHold = (await hold(carol, event.id, { seatIds: seatIds.slice(3, 5) })).json();
    expect(await eventCounts(event.id)).toMatchObject({ sold: 3, held: 2, available: 15 });

    const cancelled = await t.inject({
      method: 'POST',
      url: `/api/v1/events/${event.id}/cancel`,
      headers: organizer.auth,
    });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().status).toBe('cancelled');

    const ids = [aliceBooking.id as string, bobBooking.id as string];
    const deadline = Date.now() + 10_000;
    let statuses: string[] = [];
    for (;;) {
      // The refunds are queued for workers (saga.start); this file runs none, so it does
      // their work by hand.
      await t.deps.booking.sagaDriver.recoverDue();
      statuses = await Promise.all(ids.map(async (id) => (await bookingRow(id)).status));
      if (statuses.every((s) => s === 'cancelled') || Date.now() > deadline) break;
      await sleep(50);
    }
    expect(statuses).toEqual(['cancelled', 'cancelled']);
    for (const booking of [aliceBooking, bobBooking]) {
      const refunds = ledger().entries.filter(
        (e) => e.kind === 'refund' && e.idempotencyKey === `refund:${booking.id}`,
      );
      expect(refunds).toHaveLength(1);
      expect(refunds[0]!.amountCents).toBe(booking.totalCents);
      expect(await bookingRow(booking.id)).toMatchObject({ refund_cents: booking.totalCents });
    }
    expect(await holdRow(carolHold.id)).toMatchObject({ status: 'released' });
    expect(await eventCounts(event.id)).toMatchObject({ sold: 0, held: 0, available: 20 });
    const live = await t.deps.database.db
      .selectFrom('tickets')
      .select('id')
      .where('event_id', '=', event.id)
      .where('status', '<>', 'cancelled')
      .execute();
    expect(live).toEqual([]);
    const sagas = await t.deps.database.db
      .selectFrom('sagas')
      .select(['type', 'status'])
      .where('booking_id', 'in', ids)
      .where('type', '=', 'cancellation')
      .execute();
    expect(sagas).toEqual([
      { type: 'cancellation', status: 'completed' },
      { type: 'cancellation', status: 'completed' },
    ]);
    // Nothing can be held on a cancelled event, and Carol's hold cannot be booked any more.
    const refused = await hold(carol, event.id, { seatIds: [seatIds[9]!] });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('SALES_CLOSED');
    expect((await book(carol, carolHold.id)).statusCode).toBe(410);
  });
});
