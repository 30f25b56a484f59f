import type { TestApp, SignedIn } from './test-app.js';

const DAY_MS = 86_400_000;

export const inDays = (days: number, hours = 0) =>
  new Date(Date.now() + days * DAY_MS + hours * 3_600_000).toISOString();

/** A section's rows: `rows` rows labelled A, B, ... of `seatsPerRow` seats each. */
export const seatRows = (rows: number, seatsPerRow: number) =>
  Array.from({ length: rows }, (_, i) => ({
    label: String.fromCharCode(65 + i),
    seats: seatsPerRow,
  }));

/** The body of POST /venues for a one-section venue of `rows` x `seatsPerRow` seats. */
export const oneSectionVenue = (
  names: { name: string; address: string; city: string; section: string },
  rows: number,
  seatsPerRow: number,
) => ({
  name: names.name,
  address: names.address,
  city: names.city,
  timezone: 'Europe/Berlin',
  sections: [{ name: names.section, rows: seatRows(rows, seatsPerRow) }],
});

/** Creates a small venue through the API: two sections, `rows` rows of `seatsPerRow` each. */
export async function createVenue(
  t: TestApp,
  organizer: SignedIn,
  layout: { rows?: number; seatsPerRow?: number; city?: string } = {},
): Promise<{ id: string; capacity: number }> {
  const rows = seatRows(layout.rows ?? 2, layout.seatsPerRow ?? 5);
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/venues',
    headers: organizer.auth,
    payload: {
      name: 'Test Hall',
      address: '1 Test Street',
      city: layout.city ?? 'Testville',
      timezone: 'Europe/Berlin',
      sections: [
        { name: 'Stalls', rows },
        { name: 'Circle', rows },
      ],
    },
  });
  if (response.statusCode !== 201) throw new Error(`venue: ${response.body}`);
  return response.json();
}

export interface EventOptions {
  seating?: 'reserved' | 'general';
  venueId?: string;
  capacity?: number;
  name?: string;
  description?: string;
  startsAt?: string;
  publish?: boolean;
  extra?: Record<string, unknown>;
}

/** Creates (and by default publishes) an event through the API. */
export async function createEvent(
  t: TestApp,
  organizer: SignedIn,
  options: EventOptions = {},
): Promise<Record<string, unknown> & { id: string }> {
  const seating = options.seating ?? 'general';
  const startsAt = options.startsAt ?? inDays(10);
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/events',
    headers: organizer.auth,
    payload: {
      name: options.name ?? 'Test Event',
      description: options.description ?? 'An event made by a test',
      startsAt,
      endsAt: new Date(new Date(startsAt).getTime() + 3 * 3_600_000).toISOString(),
      seating,
      ...(seating === 'general' ? { capacity: options.capacity ?? 100 } : {}),
      ...(options.venueId ? { venueId: options.venueId } : {}),
      priceCents: 2500,
      currency: 'EUR',
      ...options.extra,
    },
  });
  if (response.statusCode !== 201) throw new Error(`event: ${response.body}`);
  const event = response.json<{ id: string }>();
  if (options.publish === false) return event;
  const published = await t.inject({
    method: 'POST',
    url: `/api/v1/events/${event.id}/publish`,
    headers: organizer.auth,
  });
  if (published.statusCode !== 200) throw new Error(`publish: ${published.body}`);
  return published.json();
}
