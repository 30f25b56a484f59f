import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookedEvent, checkIns } from './support/check-ins.js';
import { holdAndBook } from './support/bookings.js';
import { createEvent } from './support/fixtures.js';
import { expectProblem } from './support/kit.js';
import { pageCount, textOf } from './support/pdf.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';

/** A ticket as its holder, the event's organizer and admins see it: JSON, QR image and PDF. */

let t: TestApp;
let organizer: SignedIn;
let otherOrganizer: SignedIn;
let buyer: SignedIn;
let otherUser: SignedIn;
let admin: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  [organizer, otherOrganizer, buyer, otherUser, admin] = await Promise.all([
    t.signUp('organizer'),
    t.signUp('organizer'),
    t.signUp(),
    t.signUp(),
    t.signUp('admin'),
  ]);
});
afterAll(async () => {
  await t?.close();
});

const get = (who: SignedIn, url: string) => t.inject({ method: 'GET', url, headers: who.auth });

describe('GET /api/v1/tickets/:id', () => {
  it('shows a reserved ticket with its seat to the holder, the organizer and an admin', async () => {
    const { eventId, booking } = await bookedEvent(t, organizer, buyer, {
      seating: 'reserved',
      tickets: 2,
    });
    const ticket = booking.tickets[1]!;
    for (const who of [buyer, organizer, admin]) {
      const response = await get(who, `/api/v1/tickets/${ticket.id}`);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.json()).toEqual({
        id: ticket.id,
        bookingId: booking.id,
        eventId,
        seat: { section: 'Stalls', row: 'A', number: expect.any(Number) },
        code: ticket.code,
        status: 'valid',
        checkedInAt: null,
      });
    }
    // The two tickets are for the first two seats of row A.
    const numbers = await Promise.all(
      booking.tickets.map(async (x) => {
        const response = await get(buyer, `/api/v1/tickets/${x.id}`);
        return response.json<{ seat: { number: number } }>().seat.number;
      }),
    );
    expect(numbers.sort()).toEqual([1, 2]);
  });

  it('leaves the seat out for general admission', async () => {
    const { booking } = await bookedEvent(t, organizer, buyer);
    const response = await get(buyer, `/api/v1/tickets/${booking.tickets[0]!.id}`);
    expect(response.json()).not.toHaveProperty('seat');
  });

  it('hides a ticket from another user (404) and refuses another organizer (403)', async () => {
    const { booking } = await bookedEvent(t, organizer, buyer);
    const url = `/api/v1/tickets/${booking.tickets[0]!.id}`;
    expectProblem(await get(otherUser, url), 404, 'NOT_FOUND');
    expectProblem(await get(otherOrganizer, url), 403, 'FORBIDDEN');
    expectProblem(await get(otherUser, `${url}/qr.svg`), 404, 'NOT_FOUND');
    expectProblem(await get(otherOrganizer, `${url}/qr.svg`), 403, 'FORBIDDEN');
  });

  it('the holder of another booking of the same event sees only their own tickets', async () => {
    const { eventId, booking } = await bookedEvent(t, organizer, buyer);
    const mine = await holdAndBook(t, otherUser, eventId, { quantity: 1 });
    expect((await get(otherUser, `/api/v1/tickets/${mine.tickets[0]!.id}`)).statusCode).toBe(200);
    expectProblem(
      await get(otherUser, `/api/v1/tickets/${booking.tickets[0]!.id}`),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await get(otherUser, `/api/v1/bookings/${booking.id}/tickets.pdf`),
      404,
      'NOT_FOUND',
    );
  });

  it('answers 404 for an unknown ticket and 400 for an id that is not a UUID', async () => {
    expectProblem(
      await get(admin, '/api/v1/tickets/9d6b8a52-0f38-4a4c-9a52-1e1e1e1e1e1e'),
      404,
      'NOT_FOUND',
    );
    expectProblem(await get(admin, '/api/v1/tickets/nope'), 400, 'VALIDATION_FAILED');
  });
});

describe('ticket codes', () => {
  it('are 128 random bits (22 base64url characters), all different', async () => {
    const { codes } = await bookedEvent(t, organizer, buyer, { tickets: 50 });
    for (const code of codes) expect(code).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(codes).size).toBe(50);
    // Every character position varies across the codes: nothing sequential or shared.
    const positionsThatVary = Array.from(
      { length: 21 },
      (_, i) => new Set(codes.map((c) => c[i])).size > 1,
    );
    expect(positionsThatVary.every(Boolean)).toBe(true);
  });
});

describe('GET /api/v1/tickets/:id/qr.svg', () => {
  it('is an SVG image of the code, not cached', async () => {
    const { booking } = await bookedEvent(t, organizer, buyer);
    const response = await get(buyer, `/api/v1/tickets/${booking.tickets[0]!.id}/qr.svg`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(response.body).toMatch(/<path[^>]* d="M/);
    // The code is in the image, not in its text.
    expect(response.body).not.toContain(booking.tickets[0]!.code);
  });
});

describe('GET /api/v1/bookings/:id/tickets.pdf', () => {
  it('has one page per ticket with event, venue, seat, holder and code', async () => {
    const { booking } = await bookedEvent(t, organizer, buyer, {
      seating: 'reserved',
      tickets: 3,
      name: 'Printed Gala',
    });
    const response = await get(buyer, `/api/v1/bookings/${booking.id}/tickets.pdf`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="tickets-${booking.id}.pdf"`,
    );
    const pdf = response.rawPayload;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1')).toContain('%%EOF');
    expect(pageCount(pdf)).toBe(3);
    const text = textOf(pdf).join('\n');
    expect(text.match(/Printed Gala/g)).toHaveLength(3);
    expect(text.match(/Test user/g)).toHaveLength(3);
    expect(text).toContain('Test Hall, 1 Test Street, Testville');
    for (const n of [1, 2, 3]) expect(text).toContain(`Stalls, row A, seat ${n}`);
    for (const ticket of booking.tickets) expect(text).toContain(ticket.code);
  });

  it('prints general admission, for the organizer and an admin too', async () => {
    const { booking } = await bookedEvent(t, organizer, buyer, { tickets: 2 });
    for (const who of [organizer, admin]) {
      const response = await get(who, `/api/v1/bookings/${booking.id}/tickets.pdf`);
      expect(response.statusCode).toBe(200);
      expect(pageCount(response.rawPayload)).toBe(2);
      expect(textOf(response.rawPayload).join('\n')).toContain('General admission');
    }
    expectProblem(
      await get(otherOrganizer, `/api/v1/bookings/${booking.id}/tickets.pdf`),
      403,
      'FORBIDDEN',
    );
  });

  it('has nothing to print for a cancelled booking (409), nor for an unknown one (404)', async () => {
    const { booking } = await bookedEvent(t, organizer, buyer);
    await t.inject({
      method: 'POST',
      url: `/api/v1/bookings/${booking.id}/cancel`,
      headers: buyer.auth,
    });
    expectProblem(
      await get(buyer, `/api/v1/bookings/${booking.id}/tickets.pdf`),
      409,
      'INVALID_STATE',
    );
    expectProblem(
      await get(admin, '/api/v1/bookings/9d6b8a52-0f38-4a4c-9a52-1e1e1e1e1e1e/tickets.pdf'),
      404,
      'NOT_FOUND',
    );
  });

  it('marks a checked-in ticket as such', async () => {
    const event = await createEvent(t, organizer, { name: 'Marked' });
    const booking = await holdAndBook(t, buyer, event.id, { quantity: 1 });
    expect((await checkIns.scan(t, organizer, event.id, booking.tickets[0]!.code)).statusCode).toBe(
      200,
    );
    const response = await get(buyer, `/api/v1/bookings/${booking.id}/tickets.pdf`);
    expect(textOf(response.rawPayload).join('\n')).toContain('checked in');
  });
});
