import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, createVenue, inDays } from '../../../test/support/fixtures.js';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/support/test-app.js';

let t: TestApp;
let organizer: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  organizer = await t.signUp('organizer');
});
afterAll(async () => {
  await t?.close();
});

interface EventJson {
  id: string;
  organizerId: string;
  venueId: string | null;
  name: string;
  description: string;
  city: string | null;
  startsAt: string;
  endsAt: string;
  seating: 'reserved' | 'general';
  priceCents: number;
  currency: string;
  sectionPrices: Record<string, number>;
  maxTicketsPerUser: number;
  status: 'draft' | 'published' | 'cancelled';
  capacity: number;
  available: number;
  held: number;
  sold: number;
  updatedAt: string;
  publishedAt: string | null;
  cancelledAt: string | null;
}

interface SeatMapJson {
  eventId: string;
  seating: 'reserved' | 'general';
  sections: Array<{
    name: string;
    rows: Array<{
      label: string;
      seats: Array<{ id: string; number: number; status: string; priceCents: number }>;
    }>;
  }>;
}

/** A word no other test uses, for `q` filters and names (tests share one database). */
const uniqueTag = () => `tag${randomUUID().replace(/-/g, '').slice(0, 16)}`;

type Auth = { authorization: string } | undefined;

const request = (method: InjectOptions['method'], url: string, auth?: Auth, payload?: unknown) =>
  t.inject({
    method,
    url: `/api/v1${url}`,
    headers: auth ?? {},
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

const getEvent = (id: string, auth?: Auth) => request('GET', `/events/${id}`, auth);
const getSeats = (id: string, auth?: Auth) => request('GET', `/events/${id}/seats`, auth);
// `auth` is explicit everywhere (no default), so `undefined` really means "no token".
const patchEvent = (id: string, payload: unknown, auth: Auth) =>
  request('PATCH', `/events/${id}`, auth, payload);
const publish = (id: string, auth: Auth) => request('POST', `/events/${id}/publish`, auth);
const cancel = (id: string, auth: Auth) => request('POST', `/events/${id}/cancel`, auth);

const listEvents = (query: Record<string, string>, auth?: Auth) =>
  request('GET', `/events?${new URLSearchParams(query).toString()}`, auth);

/** Follows nextCursor to the end; returns every item and the size of each page. */
async function listAll(query: Record<string, string>, auth?: Auth) {
  const items: EventJson[] = [];
  const pageSizes: number[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const response = await listEvents({ ...query, ...(cursor ? { cursor } : {}) }, auth);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<{ items: EventJson[]; nextCursor: string | null }>();
    items.push(...body.items);
    pageSizes.push(body.items.length);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return { items, pageSizes };
}

const names = (items: EventJson[]) => items.map((e) => e.name);

/** A valid general-admission body; `overrides` replace or add fields. */
function eventBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const startsAt = inDays(30);
  return {
    name: `Concert ${uniqueTag()}`,
    description: 'A night of music',
    startsAt,
    endsAt: new Date(new Date(startsAt).getTime() + 2 * 3_600_000).toISOString(),
    seating: 'general',
    capacity: 100,
    priceCents: 2500,
    currency: 'EUR',
    ...overrides,
  };
}

async function eventsNamed(name: string): Promise<number> {
  const rows = await t.deps.database.db
    .selectFrom('events')
    .select('id')
    .where('name', '=', name)
    .execute();
  return rows.length;
}

async function eventRow(id: string) {
  return t.deps.database.db
    .selectFrom('events_with_inventory')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

describe('POST /api/v1/events', () => {
  it('creates a reserved event as a draft with the venue’s capacity and city', async () => {
    const city = `Venuetown ${uniqueTag()}`;
    const venue = await createVenue(t, organizer, { rows: 3, seatsPerRow: 4, city });
    const body = eventBody({ seating: 'reserved', capacity: undefined, venueId: venue.id });
    delete body.capacity;
    const response = await request('POST', '/events', organizer.auth, body);
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({
      organizerId: organizer.id,
      venueId: venue.id,
      name: body.name,
      description: 'A night of music',
      city,
      seating: 'reserved',
      status: 'draft',
      priceCents: 2500,
      currency: 'EUR',
      sectionPrices: {},
      maxTicketsPerUser: 10,
      capacity: 24,
      available: 24,
      held: 0,
      sold: 0,
      publishedAt: null,
      cancelledAt: null,
      salesStartAt: null,
      salesEndAt: null,
    });
    expect(response.json().startsAt).toBe(body.startsAt);
  });

  it('creates a general-admission event without a venue, with the capacity given', async () => {
    const body = eventBody({ capacity: 150, description: undefined });
    delete body.description;
    const response = await request('POST', '/events', organizer.auth, body);
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({
      venueId: null,
      city: null,
      description: '',
      seating: 'general',
      capacity: 150,
      available: 150,
      held: 0,
      sold: 0,
      status: 'draft',
    });
  });

  it('takes the capacity given, not the venue’s, for general admission at a venue', async () => {
    const venue = await createVenue(t, organizer, { city: 'Gatown' });
    const response = await request(
      'POST',
      '/events',
      organizer.auth,
      eventBody({ venueId: venue.id, capacity: 500 }),
    );
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ city: 'Gatown', capacity: 500, available: 500 });
  });

  it('answers 401 without a token and 403 for a plain user, creating nothing', async () => {
    const user = await t.signUp('user');
    const body = eventBody();
    const anonymous = await request('POST', '/events', undefined, body);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('UNAUTHENTICATED');
    const plain = await request('POST', '/events', user.auth, body);
    expect(plain.statusCode).toBe(403);
    expect(plain.json().code).toBe('FORBIDDEN');
    expect(await eventsNamed(body.name as string)).toBe(0);
  });
});

describe('POST /api/v1/events validation', () => {
  let venueId: string;
  beforeAll(async () => {
    venueId = (await createVenue(t, organizer)).id;
  });
  const start = inDays(20);
  const hoursAfterStart = (h: number) =>
    new Date(new Date(start).getTime() + h * 3_600_000).toISOString();

  const cases: Array<{ why: string; change: () => Record<string, unknown>; field: string }> = [
    { why: 'a negative price', change: () => ({ priceCents: -1 }), field: 'priceCents' },
    {
      why: 'a price given as a string',
      change: () => ({ priceCents: '100' }),
      field: 'priceCents',
    },
    { why: 'a huge price', change: () => ({ priceCents: 1e15 }), field: 'priceCents' },
    { why: 'a fractional price', change: () => ({ priceCents: 10.5 }), field: 'priceCents' },
    { why: 'a capacity of 0', change: () => ({ capacity: 0 }), field: 'capacity' },
    { why: 'a negative capacity', change: () => ({ capacity: -10 }), field: 'capacity' },
    { why: 'a huge capacity', change: () => ({ capacity: 2 ** 40 }), field: 'capacity' },
    { why: 'a capacity given as a string', change: () => ({ capacity: '100' }), field: 'capacity' },
    {
      why: 'a per-user limit over 100',
      change: () => ({ maxTicketsPerUser: 101 }),
      field: 'maxTicketsPerUser',
    },
    { why: 'a lowercase currency', change: () => ({ currency: 'eur' }), field: 'currency' },
    { why: 'a four-letter currency', change: () => ({ currency: 'EURO' }), field: 'currency' },
    { why: 'an unknown seating', change: () => ({ seating: 'vip' }), field: 'seating' },
    { why: 'an empty name', change: () => ({ name: '' }), field: 'name' },
    {
      why: 'a time that is not ISO-8601',
      change: () => ({ startsAt: 'tomorrow' }),
      field: 'startsAt',
    },
    {
      why: 'a start in the past',
      change: () => ({ startsAt: inDays(-1), endsAt: inDays(1) }),
      field: 'startsAt',
    },
    {
      why: 'an end before the start',
      change: () => ({ startsAt: start, endsAt: hoursAfterStart(-1) }),
      field: 'endsAt',
    },
    {
      why: 'an end equal to the start',
      change: () => ({ startsAt: start, endsAt: start }),
      field: 'endsAt',
    },
    {
      why: 'sales ending after the event ends',
      change: () => ({
        startsAt: start,
        endsAt: hoursAfterStart(2),
        salesEndAt: hoursAfterStart(3),
      }),
      field: 'salesEndAt',
    },
    {
      why: 'sales ending before they start',
      change: () => ({ salesStartAt: inDays(5), salesEndAt: inDays(4) }),
      field: 'salesEndAt',
    },
    {
      why: 'a client-chosen status (unknown field)',
      change: () => ({ status: 'published' }),
      field: 'status',
    },
    {
      why: 'client-chosen counters (unknown field)',
      change: () => ({ sold: 0, available: 1_000_000 }),
      field: 'sold',
    },
    {
      why: 'reserved seating without a venue',
      change: () => ({ seating: 'reserved', capacity: undefined }),
      field: 'venueId',
    },
    {
      why: 'reserved seating with a capacity',
      change: () => ({ seating: 'reserved', venueId, capacity: 10 }),
      field: 'capacity',
    },
    {
      why: 'general admission without a capacity',
      change: () => ({ capacity: undefined }),
      field: 'capacity',
    },
    {
      why: 'section prices on general admission',
      change: () => ({ sectionPrices: { Stalls: 1000 } }),
      field: 'sectionPrices',
    },
    {
      why: 'a price for a section the venue does not have',
      change: () => ({
        seating: 'reserved',
        venueId,
        capacity: undefined,
        sectionPrices: { Stalls: 1000, Rooftop: 500 },
      }),
      field: 'sectionPrices.Rooftop',
    },
    {
      why: 'a negative section price',
      change: () => ({
        seating: 'reserved',
        venueId,
        capacity: undefined,
        sectionPrices: { Stalls: -1 },
      }),
      field: 'sectionPrices.Stalls',
    },
    {
      why: 'a venue that does not exist',
      change: () => ({ venueId: randomUUID() }),
      field: 'venueId',
    },
    { why: 'a venue id that is not a UUID', change: () => ({ venueId: '42' }), field: 'venueId' },
  ];

  for (const { why, change, field } of cases) {
    it(`answers 400 VALIDATION_FAILED for ${why} and creates nothing`, async () => {
      const body = eventBody(change());
      for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
      const response = await request('POST', '/events', organizer.auth, body);
      expect(response.statusCode, response.body).toBe(400);
      const problem = response.json();
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
      if (typeof body.name === 'string' && body.name !== '') {
        expect(await eventsNamed(body.name)).toBe(0);
      }
    });
  }
});

describe('POST /api/v1/events/:id/publish', () => {
  it('publishes a draft, materializing one available seat per venue seat', async () => {
    const venue = await createVenue(t, organizer, { rows: 3, seatsPerRow: 4 });
    const draft = await createEvent(t, organizer, {
      seating: 'reserved',
      venueId: venue.id,
      publish: false,
    });
    expect(draft.status).toBe('draft');
    const response = await publish(draft.id, organizer.auth);
    expect(response.statusCode).toBe(200);
    const event = response.json<EventJson>();
    expect(event.status).toBe('published');
    expect(new Date(event.publishedAt!).getTime()).not.toBeNaN();
    const seats = await t.deps.database.db
      .selectFrom('event_seats')
      .select(['status'])
      .where('event_id', '=', draft.id)
      .execute();
    expect(seats).toHaveLength(24);
    expect(seats.every((s) => s.status === 'available')).toBe(true);
  });

  it('answers 409 INVALID_STATE when publishing twice, and creates no second set of seats', async () => {
    const venue = await createVenue(t, organizer);
    const event = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id });
    const again = await publish(event.id, organizer.auth);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('INVALID_STATE');
    const seats = await t.deps.database.db
      .selectFrom('event_seats')
      .select('id')
      .where('event_id', '=', event.id)
      .execute();
    expect(seats).toHaveLength(venue.capacity);
  });

  it('answers 409 INVALID_STATE for a cancelled draft', async () => {
    const draft = await createEvent(t, organizer, { publish: false });
    expect((await cancel(draft.id, organizer.auth)).statusCode).toBe(200);
    const response = await publish(draft.id, organizer.auth);
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('INVALID_STATE');
  });

  it('answers 409 INVALID_STATE for a draft whose start has passed', async () => {
    const draft = await createEvent(t, organizer, { publish: false });
    await t.deps.database.db
      .updateTable('events')
      .set({
        starts_at: new Date(Date.now() - 3_600_000),
        ends_at: new Date(Date.now() + 3_600_000),
      })
      .where('id', '=', draft.id)
      .execute();
    const response = await publish(draft.id, organizer.auth);
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('INVALID_STATE');
    expect((await eventRow(draft.id)).status).toBe('draft');
  });

  it('does not let another organizer publish a draft (404), nor a plain user (403)', async () => {
    const draft = await createEvent(t, organizer, { publish: false });
    const other = await t.signUp('organizer');
    const user = await t.signUp('user');
    const byOther = await publish(draft.id, other.auth);
    expect(byOther.statusCode).toBe(404);
    expect(byOther.json().code).toBe('NOT_FOUND');
    expect((await publish(draft.id, user.auth)).statusCode).toBe(403);
    expect((await publish(draft.id, undefined)).statusCode).toBe(401);
    expect((await eventRow(draft.id)).status).toBe('draft');
  });
});

describe('GET /api/v1/events/:id/seats', () => {
  it('lists every seat of the venue, available, at its section’s price', async () => {
    const venue = await createVenue(t, organizer, { rows: 3, seatsPerRow: 4 });
    const event = await createEvent(t, organizer, {
      seating: 'reserved',
      venueId: venue.id,
      extra: { priceCents: 2500, sectionPrices: { Circle: 4200 } },
    });
    const response = await getSeats(event.id);
    expect(response.statusCode).toBe(200);
    const map = response.json<SeatMapJson>();
    expect(map.eventId).toBe(event.id);
    expect(map.seating).toBe('reserved');
    expect(map.sections.map((s) => s.name)).toEqual(['Stalls', 'Circle']);
    const seats = map.sections.flatMap((s) => s.rows.flatMap((r) => r.seats));
    expect(seats).toHaveLength(venue.capacity);
    expect(venue.capacity).toBe(24);
    expect(new Set(seats.map((s) => s.id)).size).toBe(24);
    for (const section of map.sections) {
      expect(section.rows.map((r) => r.label)).toEqual(['A', 'B', 'C']);
      for (const row of section.rows) {
        expect(row.seats.map((s) => s.number)).toEqual([1, 2, 3, 4]);
        for (const seat of row.seats) {
          expect(seat.status).toBe('available');
          expect(seat.priceCents).toBe(section.name === 'Circle' ? 4200 : 2500);
        }
      }
    }
  });

  it('has no seats for general admission', async () => {
    const event = await createEvent(t, organizer, { seating: 'general', capacity: 40 });
    const response = await getSeats(event.id);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ eventId: event.id, seating: 'general', sections: [] });
  });

  it('hides a draft’s seat map from anonymous callers and other organizers', async () => {
    const venue = await createVenue(t, organizer);
    const draft = await createEvent(t, organizer, {
      seating: 'reserved',
      venueId: venue.id,
      publish: false,
    });
    const other = await t.signUp('organizer');
    expect((await getSeats(draft.id, organizer.auth)).statusCode).toBe(200);
    expect((await getSeats(draft.id)).statusCode).toBe(404);
    expect((await getSeats(draft.id, other.auth)).statusCode).toBe(404);
  });

  it('answers 404 for an unknown event and 400 for an id that is not a UUID', async () => {
    const unknown = await getSeats(randomUUID());
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('NOT_FOUND');
    const malformed = await getSeats('1 OR 1=1');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('VALIDATION_FAILED');
  });
});

describe('GET /api/v1/events/:id', () => {
  it('shows a published event to anyone, with its availability counts', async () => {
    const event = await createEvent(t, organizer, { capacity: 75 });
    const response = await getEvent(event.id);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      id: event.id,
      status: 'published',
      capacity: 75,
      available: 75,
      held: 0,
      sold: 0,
    });
  });

  it('shows a draft only to its organizer and admins (404 for anyone else)', async () => {
    const draft = await createEvent(t, organizer, { publish: false });
    const other = await t.signUp('organizer');
    const user = await t.signUp('user');
    const admin = await t.signUp('admin');
    // Anonymous first, then the owner (which fills the cache), then the others again.
    expect((await getEvent(draft.id)).statusCode).toBe(404);
    const own = await getEvent(draft.id, organizer.auth);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ id: draft.id, status: 'draft' });
    const anonymous = await getEvent(draft.id);
    expect(anonymous.statusCode).toBe(404);
    expect(anonymous.json().code).toBe('NOT_FOUND');
    expect((await getEvent(draft.id, other.auth)).statusCode).toBe(404);
    expect((await getEvent(draft.id, user.auth)).statusCode).toBe(404);
    expect((await getEvent(draft.id, admin.auth)).statusCode).toBe(200);
  });

  it('answers 404 for an unknown id, 400 for a malformed one and 401 for a bad token', async () => {
    expect((await getEvent(randomUUID())).statusCode).toBe(404);
    const malformed = await getEvent('abc');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('VALIDATION_FAILED');
    const event = await createEvent(t, organizer);
    const badToken = await getEvent(event.id, { authorization: 'Bearer not.a.token' });
    expect(badToken.statusCode).toBe(401);
  });
});

describe('GET /api/v1/events', () => {
  it('lists a published event with its counts, but not drafts', async () => {
    const tag = uniqueTag();
    const venue = await createVenue(t, organizer, { rows: 2, seatsPerRow: 3 });
    const published = await createEvent(t, organizer, {
      name: `${tag} published`,
      seating: 'reserved',
      venueId: venue.id,
    });
    await createEvent(t, organizer, { name: `${tag} draft`, publish: false });
    const response = await listEvents({ q: tag });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.nextCursor).toBeNull();
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({
      id: published.id,
      status: 'published',
      seating: 'reserved',
      capacity: 12,
      available: 12,
      held: 0,
      sold: 0,
    });
  });

  it('drops a cancelled event from the default listing and shows it under status=cancelled', async () => {
    const tag = uniqueTag();
    const event = await createEvent(t, organizer, { name: `${tag} soon cancelled` });
    expect(names((await listAll({ q: tag })).items)).toEqual([`${tag} soon cancelled`]);
    await cancel(event.id, organizer.auth);
    expect((await listAll({ q: tag })).items).toEqual([]);
    const cancelled = await listAll({ q: tag, status: 'cancelled' });
    expect(cancelled.items.map((e) => [e.id, e.status])).toEqual([[event.id, 'cancelled']]);
  });

  it('lists drafts only to organizers (their own) and admins', async () => {
    const tag = uniqueTag();
    const other = await t.signUp('organizer');
    const admin = await t.signUp('admin');
    const user = await t.signUp('user');
    await createEvent(t, organizer, { name: `${tag} mine`, publish: false });
    await createEvent(t, other, { name: `${tag} theirs`, publish: false });
    await createEvent(t, organizer, { name: `${tag} public` });

    const anonymous = await listEvents({ q: tag, status: 'draft' });
    expect([401, 403]).toContain(anonymous.statusCode);
    const plain = await listEvents({ q: tag, status: 'draft' }, user.auth);
    expect(plain.statusCode).toBe(403);
    expect(plain.json().code).toBe('FORBIDDEN');

    const mine = await listAll({ q: tag, status: 'draft' }, organizer.auth);
    expect(names(mine.items)).toEqual([`${tag} mine`]);
    const theirs = await listAll({ q: tag, status: 'draft' }, other.auth);
    expect(names(theirs.items)).toEqual([`${tag} theirs`]);
    const all = await listAll({ q: tag, status: 'draft' }, admin.auth);
    expect(names(all.items).sort()).toEqual([`${tag} mine`, `${tag} theirs`]);
  });

  it('lists organizer=me: the caller’s own events of every status, nobody else’s', async () => {
    const tag = uniqueTag();
    const other = await t.signUp('organizer');
    const admin = await t.signUp('admin');
    const user = await t.signUp('user');
    const draft = await createEvent(t, organizer, {
      name: `${tag} my draft`,
      startsAt: inDays(20),
      publish: false,
    });
    const published = await createEvent(t, organizer, {
      name: `${tag} my published`,
      startsAt: inDays(21),
    });
    const cancelled = await createEvent(t, organizer, {
      name: `${tag} my cancelled`,
      startsAt: inDays(22),
    });
    expect((await cancel(cancelled.id, organizer.auth)).statusCode).toBe(200);
    await createEvent(t, other, { name: `${tag} their draft`, publish: false });
    await createEvent(t, other, { name: `${tag} their published` });
    await createEvent(t, admin, { name: `${tag} admin draft`, publish: false });

    const mine = await listAll({ q: tag, organizer: 'me', limit: '2' }, organizer.auth);
    expect(mine.items.map((e) => [e.id, e.status])).toEqual([
      [draft.id, 'draft'],
      [published.id, 'published'],
      [cancelled.id, 'cancelled'],
    ]);
    expect(mine.pageSizes).toEqual([2, 1]);
    const myDrafts = await listAll({ q: tag, organizer: 'me', status: 'draft' }, organizer.auth);
    expect(names(myDrafts.items)).toEqual([`${tag} my draft`]);
    const theirs = await listAll({ q: tag, organizer: 'me' }, other.auth);
    expect(names(theirs.items)).toEqual([`${tag} their draft`, `${tag} their published`]);
    // "me" is the admin too: their own events, not everyone's drafts.
    const admins = await listAll({ q: tag, organizer: 'me' }, admin.auth);
    expect(names(admins.items)).toEqual([`${tag} admin draft`]);

    const anonymous = await listEvents({ q: tag, organizer: 'me' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('UNAUTHENTICATED');
    const plain = await listEvents({ q: tag, organizer: 'me' }, user.auth);
    expect(plain.statusCode).toBe(403);
    expect(plain.json().code).toBe('FORBIDDEN');
    expect((await listEvents({ organizer: 'someone' }, organizer.auth)).statusCode).toBe(400);
    // The public listing still shows no draft.
    expect(names((await listAll({ q: tag })).items).sort()).toEqual([
      `${tag} my published`,
      `${tag} their published`,
    ]);
  });

  it('visits each of 25 events exactly once in startsAt order, 10 per page', async () => {
    const tag = uniqueTag();
    const base = Date.now() + 40 * 86_400_000;
    const created: EventJson[] = [];
    // Some events share a start time, so the order must also break ties (by id).
    for (let i = 0; i < 25; i++) {
      const startsAt = new Date(base + ((i * 7) % 9) * 3_600_000).toISOString();
      created.push(
        (await createEvent(t, organizer, {
          name: `${tag} #${i}`,
          startsAt,
        })) as unknown as EventJson,
      );
    }
    const { items, pageSizes } = await listAll({ q: tag, limit: '10' });
    expect(pageSizes).toEqual([10, 10, 5]);
    expect(new Set(items.map((e) => e.id)).size).toBe(25);
    expect(items.map((e) => e.id).sort()).toEqual(created.map((e) => e.id).sort());
    const expected = [...created].sort(
      (a, b) => a.startsAt.localeCompare(b.startsAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    expect(items.map((e) => e.id)).toEqual(expected.map((e) => e.id));
  });

  it('visits each event exactly once even when start times carry microseconds', async () => {
    const tag = uniqueTag();
    const day = new Date(Date.now() + 50 * 86_400_000).toISOString().slice(0, 10);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const startsAt = `${day}T1${i}:00:00.123456Z`;
      const response = await request(
        'POST',
        '/events',
        organizer.auth,
        eventBody({ name: `${tag} #${i}`, startsAt, endsAt: `${day}T20:00:00Z` }),
      );
      expect(response.statusCode, response.body).toBe(201);
      ids.push(response.json().id);
      expect((await publish(response.json().id, organizer.auth)).statusCode).toBe(200);
    }
    const { items } = await listAll({ q: tag, limit: '2' });
    expect(items.map((e) => e.id)).toEqual(ids);
  });

  it('filters by city, ignoring case', async () => {
    const tag = uniqueTag();
    const city = `Cityburg ${tag}`;
    const here = await createVenue(t, organizer, { city });
    const elsewhere = await createVenue(t, organizer, { city: `Elsewhere ${tag}` });
    await createEvent(t, organizer, { name: `${tag} here`, venueId: here.id });
    await createEvent(t, organizer, { name: `${tag} elsewhere`, venueId: elsewhere.id });
    await createEvent(t, organizer, { name: `${tag} nowhere` });
    expect(names((await listAll({ city })).items)).toEqual([`${tag} here`]);
    expect(names((await listAll({ city: city.toUpperCase() })).items)).toEqual([`${tag} here`]);
  });

  it('filters by from (inclusive) and to (exclusive) on startsAt', async () => {
    const tag = uniqueTag();
    const at = (day: number) => new Date(Date.parse('2031-03-01T18:00:00Z') + day * 86_400_000);
    for (const day of [0, 1, 2]) {
      await createEvent(t, organizer, {
        name: `${tag} day ${day}`,
        startsAt: at(day).toISOString(),
      });
    }
    const list = async (query: Record<string, string>) =>
      names((await listAll({ q: tag, ...query })).items);
    expect(await list({ from: at(1).toISOString() })).toEqual([`${tag} day 1`, `${tag} day 2`]);
    expect(await list({ to: at(1).toISOString() })).toEqual([`${tag} day 0`]);
    expect(await list({ from: at(1).toISOString(), to: at(2).toISOString() })).toEqual([
      `${tag} day 1`,
    ]);
    expect(await list({ from: at(3).toISOString() })).toEqual([]);
  });

  it('matches q in the name or the description, ignoring case', async () => {
    const tag = uniqueTag();
    await createEvent(t, organizer, { name: `${tag.toUpperCase()} in name` });
    await createEvent(t, organizer, { name: 'Other', description: `about ${tag} here` });
    await createEvent(t, organizer, { name: `${tag.slice(0, -1)} almost` });
    const found = (await listAll({ q: tag })).items;
    expect(names(found).sort()).toEqual(['Other', `${tag.toUpperCase()} in name`].sort());
  });

  it('stores SQL-looking names verbatim and matches them literally in q', async () => {
    const tag = uniqueTag();
    const injection = `${tag} '; DROP TABLE events; --`;
    const wild = `${tag} 50%_\\ off`;
    const decoys = [`${tag} 50xy\\ off`, `${tag} 50ab off`, `${tag} 50_ off`];
    for (const name of [injection, wild, ...decoys]) {
      const event = await createEvent(t, organizer, { name, description: name });
      expect(event.name).toBe(name);
      expect((await getEvent(event.id)).json().name).toBe(name);
    }
    const search = async (q: string) => {
      const response = await listEvents({ q });
      expect(response.statusCode, response.body).toBe(200);
      return names(response.json().items).sort();
    };
    expect(await search(`${tag} '; DROP TABLE events; --`)).toEqual([injection]);
    expect(await search(`${tag} 50%_\\`)).toEqual([wild]);
    expect(await search(`${tag} 50%`)).toEqual([wild]);
    expect(await search(`${tag} 50_`)).toEqual([`${tag} 50_ off`]);
    expect(await search(`${tag} 50xy\\`)).toEqual([`${tag} 50xy\\ off`]);
    expect(await search(`${tag} 50\\`)).toEqual([]);
    expect(await search(`%_\\`)).toContain(wild);
    expect(await search(`'`)).toContain(injection);
    // The table is still there.
    expect((await listAll({ q: tag })).items).toHaveLength(5);
  });

  it('answers 400 for bad query parameters', async () => {
    const queries: Array<Record<string, string>> = [
      { limit: '0' },
      { limit: '101' },
      { from: 'yesterday' },
      { status: 'archived' },
      { sort: 'name' },
      { cursor: 'garbage' },
      { cursor: Buffer.from('{"startsAt":"nope","id":"x"}').toString('base64url') },
      { q: 'x'.repeat(201) },
    ];
    for (const query of queries) {
      const response = await listEvents(query);
      expect(response.statusCode, JSON.stringify(query)).toBe(400);
      expect(response.json().code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('PATCH /api/v1/events/:id', () => {
  it('updates the given fields and leaves the others', async () => {
    const event = await createEvent(t, organizer, { capacity: 60 });
    const response = await patchEvent(
      event.id,
      {
        name: 'Renamed',
        description: 'New words',
        priceCents: 3100,
        maxTicketsPerUser: 4,
        salesEndAt: new Date(new Date(event.startsAt as string).getTime()).toISOString(),
      },
      organizer.auth,
    );
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      name: 'Renamed',
      description: 'New words',
      priceCents: 3100,
      maxTicketsPerUser: 4,
      capacity: 60,
      currency: 'EUR',
      startsAt: event.startsAt,
      status: 'published',
    });
    expect(Date.parse(response.json().updatedAt)).toBeGreaterThan(
      Date.parse(event.updatedAt as string),
    );
    expect((await getEvent(event.id)).json()).toMatchObject({ name: 'Renamed', priceCents: 3100 });
  });

  it('reprices the available seats when section prices change', async () => {
    const venue = await createVenue(t, organizer, { rows: 1, seatsPerRow: 2 });
    const event = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id });
    const response = await patchEvent(
      event.id,
      {
        priceCents: 1000,
        sectionPrices: { Stalls: 9000 },
      },
      organizer.auth,
    );
    expect(response.statusCode, response.body).toBe(200);
    const map = (await getSeats(event.id)).json<SeatMapJson>();
    const prices = map.sections.map((s) => [s.name, s.rows[0]!.seats.map((x) => x.priceCents)]);
    expect(prices).toEqual([
      ['Stalls', [9000, 9000]],
      ['Circle', [1000, 1000]],
    ]);
  });

  it('moves a general event’s capacity change into available', async () => {
    const event = await createEvent(t, organizer, { capacity: 100 });
    const raised = await patchEvent(event.id, { capacity: 150 }, organizer.auth);
    expect(raised.statusCode).toBe(200);
    expect(raised.json()).toMatchObject({ capacity: 150, available: 150, held: 0, sold: 0 });
    const lowered = await patchEvent(event.id, { capacity: 30 }, organizer.auth);
    expect(lowered.json()).toMatchObject({ capacity: 30, available: 30 });
  });

  it('answers 409 CAPACITY_CONFLICT when capacity would drop below held + sold', async () => {
    const event = await createEvent(t, organizer, { capacity: 100 });
    // 5 held and 5 sold, put into one of its stock buckets directly.
    await t.deps.database.db
      .updateTable('event_stock')
      .set((eb) => ({ held: 5, sold: 5, available: eb('available', '-', 10) }))
      .where('event_id', '=', event.id)
      .where('bucket', '=', 0)
      .execute();
    const tooLow = await patchEvent(event.id, { capacity: 9 }, organizer.auth);
    expect(tooLow.statusCode).toBe(409);
    expect(tooLow.json().code).toBe('CAPACITY_CONFLICT');
    expect(await eventRow(event.id)).toMatchObject({ capacity: 100, available: 90 });
    // A refused change applies nothing, not even the other fields sent with it.
    const mixed = await patchEvent(
      event.id,
      { capacity: 1, name: 'Should not stick' },
      organizer.auth,
    );
    expect(mixed.statusCode).toBe(409);
    expect((await eventRow(event.id)).name).toBe('Test Event');

    const exact = await patchEvent(event.id, { capacity: 10 }, organizer.auth);
    expect(exact.statusCode).toBe(200);
    expect(exact.json()).toMatchObject({ capacity: 10, available: 0, held: 5, sold: 5 });
    expect((await getEvent(event.id)).json()).toMatchObject({ capacity: 10, available: 0 });
  });

  it('answers 400 for a capacity change on reserved seating', async () => {
    const venue = await createVenue(t, organizer);
    const event = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id });
    const response = await patchEvent(event.id, { capacity: 5 }, organizer.auth);
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('capacity');
    expect((await eventRow(event.id)).capacity).toBe(venue.capacity);
  });

  it('answers 400 for section prices on general admission or unknown sections', async () => {
    const general = await createEvent(t, organizer);
    expect(
      (await patchEvent(general.id, { sectionPrices: { Stalls: 1 } }, organizer.auth)).statusCode,
    ).toBe(400);
    const venue = await createVenue(t, organizer);
    const reserved = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id });
    const unknown = await patchEvent(reserved.id, { sectionPrices: { Pit: 1 } }, organizer.auth);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].field).toBe('sectionPrices.Pit');
  });

  it('answers 400 when the end would come before the start', async () => {
    const event = await createEvent(t, organizer, { startsAt: inDays(10) });
    const endsEarly = await patchEvent(event.id, { endsAt: inDays(9) }, organizer.auth);
    expect(endsEarly.statusCode).toBe(400);
    expect(endsEarly.json().errors[0].field).toBe('endsAt');
    const startsLate = await patchEvent(event.id, { startsAt: inDays(11) }, organizer.auth);
    expect(startsLate.statusCode).toBe(400);
    const both = await patchEvent(
      event.id,
      { startsAt: inDays(12), endsAt: inDays(12, 3) },
      organizer.auth,
    );
    expect(both.statusCode).toBe(200);
    expect((await eventRow(event.id)).starts_at.toISOString()).toBe(both.json().startsAt);
  });

  it('answers 400 when the start would move into the past', async () => {
    const event = await createEvent(t, organizer, { startsAt: inDays(10) });
    const response = await patchEvent(
      event.id,
      { startsAt: inDays(-2), endsAt: inDays(-2, 3) },
      organizer.auth,
    );
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().code).toBe('VALIDATION_FAILED');
    expect((await eventRow(event.id)).starts_at.toISOString()).toBe(event.startsAt);
  });

  it('answers 400 for an empty body, unknown fields and wrong types, changing nothing', async () => {
    const event = await createEvent(t, organizer, { name: 'Untouched' });
    for (const payload of [
      {},
      { status: 'draft' },
      { sold: 100 },
      { organizerId: organizer.id },
      { priceCents: '100' },
      { priceCents: -5 },
      { priceCents: 1e12 },
      { capacity: 2 ** 40 },
      { name: 42 },
      { name: '' },
      { currency: 'usd' },
      { startsAt: 'next week' },
    ]) {
      const response = await patchEvent(event.id, payload, organizer.auth);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().code).toBe('VALIDATION_FAILED');
    }
    expect(await eventRow(event.id)).toMatchObject({
      name: 'Untouched',
      status: 'published',
      price_cents: 2500,
      capacity: 100,
      sold: 0,
      organizer_id: organizer.id,
    });
  });

  it('lets an admin edit anyone’s event', async () => {
    const admin = await t.signUp('admin');
    const draft = await createEvent(t, organizer, { publish: false });
    const response = await patchEvent(draft.id, { name: 'Fixed by admin' }, admin.auth);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ name: 'Fixed by admin', organizerId: organizer.id });
    expect((await publish(draft.id, admin.auth)).statusCode).toBe(200);
  });

  it('answers 404 for another organizer’s draft and 403 for their published event', async () => {
    const other = await t.signUp('organizer');
    const draft = await createEvent(t, organizer, { publish: false, name: 'Mine' });
    const published = await createEvent(t, organizer, { name: 'Mine too' });
    expect((await patchEvent(draft.id, { name: 'Theirs' }, other.auth)).statusCode).toBe(404);
    expect((await patchEvent(published.id, { name: 'Theirs' }, other.auth)).statusCode).toBe(403);
    expect((await eventRow(draft.id)).name).toBe('Mine');
    expect((await eventRow(published.id)).name).toBe('Mine too');
    expect((await patchEvent(randomUUID(), { name: 'Ghost' }, organizer.auth)).statusCode).toBe(
      404,
    );
  });
});

describe('POST /api/v1/events/:id/cancel', () => {
  it('is harmless twice, and a cancelled event can no longer be changed', async () => {
    const event = await createEvent(t, organizer);
    const first = await cancel(event.id, organizer.auth);
    expect(first.statusCode).toBe(200);
    expect(first.json().status).toBe('cancelled');
    const second = await cancel(event.id, organizer.auth);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({
      status: 'cancelled',
      cancelledAt: first.json().cancelledAt,
    });
    const patch = await patchEvent(event.id, { name: 'Back from the dead' }, organizer.auth);
    expect(patch.statusCode).toBe(409);
    expect(patch.json().code).toBe('INVALID_STATE');
    const republish = await publish(event.id, organizer.auth);
    expect(republish.statusCode).toBe(409);
    const shown = await getEvent(event.id);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ status: 'cancelled', name: 'Test Event' });
  });

  it('answers 403 for another organizer and 401 without a token', async () => {
    const event = await createEvent(t, organizer);
    const other = await t.signUp('organizer');
    expect((await cancel(event.id, other.auth)).statusCode).toBe(403);
    expect((await cancel(event.id, undefined)).statusCode).toBe(401);
    expect((await eventRow(event.id)).status).toBe('published');
  });
});
