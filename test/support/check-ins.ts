import type { LightMyRequestResponse } from 'fastify';
import type { Injector } from './api.js';
import { holdAndBook, seatIdsOf, type Booked } from './bookings.js';
import { createEvent, createVenue } from './fixtures.js';
import type { SignedIn, TestApp } from './test-app.js';

/** A published event of `organizer` and one booking of `buyer` on it with `tickets` tickets. */
export async function bookedEvent(
  t: TestApp,
  organizer: SignedIn,
  buyer: SignedIn,
  options: { seating?: 'reserved' | 'general'; tickets?: number; name?: string } = {},
): Promise<{ eventId: string; booking: Booked; codes: string[] }> {
  const tickets = options.tickets ?? 1;
  const name = options.name ?? 'Check-in Night';
  if (options.seating === 'reserved') {
    const venue = await createVenue(t, organizer);
    const event = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id, name });
    const seatIds = (await seatIdsOf(t, event.id)).slice(0, tickets);
    const booking = await holdAndBook(t, buyer, event.id, { seatIds });
    return { eventId: event.id, booking, codes: booking.tickets.map((x) => x.code) };
  }
  const event = await createEvent(t, organizer, {
    capacity: Math.max(10, tickets),
    name,
    extra: { maxTicketsPerUser: Math.min(100, Math.max(10, tickets)) },
  });
  const booking = await holdAndBook(t, buyer, event.id, { quantity: tickets });
  return { eventId: event.id, booking, codes: booking.tickets.map((x) => x.code) };
}

/** The test kit's requests of the check-in routes. */
export const checkIns = {
  scan: (
    to: Injector,
    who: SignedIn,
    eventId: string,
    code: string,
  ): Promise<LightMyRequestResponse> =>
    to.inject({
      method: 'POST',
      url: `/api/v1/events/${eventId}/check-ins`,
      headers: who.auth,
      payload: { code },
    }),

  grant: (to: Injector, who: SignedIn, eventId: string, userId: string) =>
    to.inject({
      method: 'POST',
      url: `/api/v1/events/${eventId}/scanners`,
      headers: who.auth,
      payload: { userId },
    }),

  revoke: (to: Injector, who: SignedIn, eventId: string, userId: string) =>
    to.inject({
      method: 'DELETE',
      url: `/api/v1/events/${eventId}/scanners/${userId}`,
      headers: who.auth,
    }),

  manifest: (to: Injector, who: SignedIn, eventId: string) =>
    to.inject({
      method: 'GET',
      url: `/api/v1/events/${eventId}/check-ins/manifest`,
      headers: who.auth,
    }),

  sync: (
    to: Injector,
    who: SignedIn,
    eventId: string,
    scans: Array<{ code: string; scannedAt: string; deviceId: string }>,
  ) =>
    to.inject({
      method: 'POST',
      url: `/api/v1/events/${eventId}/check-ins/sync`,
      headers: who.auth,
      payload: { scans },
    }),
};
