import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

interface VenueBody {
  name: string;
  address: string;
  city: string;
  timezone: string;
  sections: Array<{ name: string; rows: Array<{ label: string; seats: number }> }>;
}

/** A valid venue body with a name of its own, so a test can look for exactly its venue. */
function venueBody(overrides: Record<string, unknown> = {}): VenueBody & Record<string, unknown> {
  return {
    name: `Hall ${randomUUID()}`,
    address: '1 Harbour Road',
    city: 'Hamburg',
    timezone: 'Europe/Berlin',
    sections: [
      {
        name: 'Floor',
        rows: [
          { label: 'A', seats: 10 },
          { label: 'B', seats: 12 },
        ],
      },
      { name: 'Balcony', rows: [{ label: 'AA', seats: 8 }] },
    ],
    ...overrides,
  };
}

const postVenue = (payload: unknown, auth: Record<string, string> = organizer.auth) =>
  t.inject({ method: 'POST', url: '/api/v1/venues', headers: auth, payload: payload as object });

/** How many venues the database holds with this name (validation must leave none behind). */
async function venuesNamed(name: string): Promise<number> {
  const rows = await t.deps.database.db
    .selectFrom('venues')
    .select('id')
    .where('name', '=', name)
    .execute();
  return rows.length;
}

describe('POST /api/v1/venues', () => {
  it('creates the venue with its layout and a capacity that is the sum of all seats', async () => {
    const body = venueBody();
    const response = await postVenue(body);
    expect(response.statusCode).toBe(201);
    const venue = response.json();
    expect(venue).toMatchObject({
      ownerId: organizer.id,
      name: body.name,
      address: '1 Harbour Road',
      city: 'Hamburg',
      timezone: 'Europe/Berlin',
      capacity: 30,
      sections: body.sections,
    });
    expect(venue.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(venue.createdAt).getTime()).not.toBeNaN();
  });

  it('lets an admin create a venue too', async () => {
    const admin = await t.signUp('admin');
    const response = await postVenue(venueBody(), admin.auth);
    expect(response.statusCode).toBe(201);
    expect(response.json().ownerId).toBe(admin.id);
  });

  it('stores strings that look like SQL verbatim', async () => {
    const name = `'; DROP TABLE venues; -- ${randomUUID()}`;
    const response = await postVenue(
      venueBody({ name, address: '%_\\ Robert"); DELETE FROM users; --' }),
    );
    expect(response.statusCode).toBe(201);
    const detail = await t.inject({
      method: 'GET',
      url: `/api/v1/venues/${response.json().id}`,
      headers: organizer.auth,
    });
    expect(detail.json()).toMatchObject({ name, address: '%_\\ Robert"); DELETE FROM users; --' });
  });

  it('answers 401 UNAUTHENTICATED without a token and creates nothing', async () => {
    const body = venueBody();
    const response = await postVenue(body, {});
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('UNAUTHENTICATED');
    expect(await venuesNamed(body.name)).toBe(0);
  });

  it('answers 403 FORBIDDEN for a plain user and creates nothing', async () => {
    const user = await t.signUp('user');
    const body = venueBody();
    const response = await postVenue(body, user.auth);
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('FORBIDDEN');
    expect(await venuesNamed(body.name)).toBe(0);
  });
});

describe('POST /api/v1/venues validation', () => {
  const floor = (rows: unknown[]) => [{ name: 'Floor', rows }];
  const cases: Array<{ why: string; change: Record<string, unknown>; field: string }> = [
    { why: 'an unknown top-level field', change: { capacity: 5 }, field: 'capacity' },
    {
      why: 'an unknown field in a row',
      change: { sections: floor([{ label: 'A', seats: 5, priceCents: 100 }]) },
      field: 'sections.0.rows.0.priceCents',
    },
    { why: 'an unknown time zone', change: { timezone: 'Mars/Olympus_Mons' }, field: 'timezone' },
    {
      why: 'two sections with the same name',
      change: {
        sections: [
          { name: 'Floor', rows: [{ label: 'A', seats: 5 }] },
          { name: 'Floor', rows: [{ label: 'B', seats: 5 }] },
        ],
      },
      field: 'sections.1.name',
    },
    {
      why: 'two rows with the same label in one section',
      change: {
        sections: floor([
          { label: 'A', seats: 5 },
          { label: 'B', seats: 5 },
          { label: 'A', seats: 5 },
        ]),
      },
      field: 'sections.0.rows.2.label',
    },
    {
      why: 'a row of 0 seats',
      change: { sections: floor([{ label: 'A', seats: 0 }]) },
      field: 'sections.0.rows.0.seats',
    },
    {
      why: 'a row of negative seats',
      change: { sections: floor([{ label: 'A', seats: -5 }]) },
      field: 'sections.0.rows.0.seats',
    },
    {
      why: 'a row of a huge number of seats',
      change: { sections: floor([{ label: 'A', seats: 1_000_000_000 }]) },
      field: 'sections.0.rows.0.seats',
    },
    {
      why: 'a fractional seat count',
      change: { sections: floor([{ label: 'A', seats: 2.5 }]) },
      field: 'sections.0.rows.0.seats',
    },
    {
      why: 'a seat count given as a string',
      change: { sections: floor([{ label: 'A', seats: '10' }]) },
      field: 'sections.0.rows.0.seats',
    },
    {
      why: 'more than 100 000 seats in total',
      change: {
        sections: floor(Array.from({ length: 101 }, (_, i) => ({ label: `R${i}`, seats: 1000 }))),
      },
      field: 'sections',
    },
    { why: 'no sections', change: { sections: [] }, field: 'sections' },
    { why: 'a section without rows', change: { sections: floor([]) }, field: 'sections.0.rows' },
    { why: 'an empty city', change: { city: '' }, field: 'city' },
  ];

  for (const { why, change, field } of cases) {
    it(`answers 400 VALIDATION_FAILED for ${why} and creates nothing`, async () => {
      const body = venueBody(change);
      const response = await postVenue(body);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      const problem = response.json();
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await venuesNamed(body.name)).toBe(0);
    });
  }

  it('answers 400 when a required field is missing', async () => {
    const body: Record<string, unknown> = venueBody();
    delete body.timezone;
    const response = await postVenue(body);
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toContainEqual({ field: 'timezone', message: 'is required' });
    expect(await venuesNamed(body.name as string)).toBe(0);
  });

  it('accepts a row of exactly 1000 seats and 100 000 seats in total', async () => {
    const body = venueBody({
      sections: floor(Array.from({ length: 100 }, (_, i) => ({ label: `R${i}`, seats: 1000 }))),
    });
    const response = await postVenue(body);
    expect(response.statusCode).toBe(201);
    expect(response.json().capacity).toBe(100_000);
  });
});

describe('GET /api/v1/venues/:id', () => {
  it('shows the sections and rows in the order they were given, with the seat count', async () => {
    const body = venueBody({
      sections: [
        {
          name: 'Stalls',
          rows: [
            { label: 'C', seats: 3 },
            { label: 'A', seats: 4 },
            { label: 'B', seats: 5 },
          ],
        },
        { name: 'Box', rows: [{ label: '1', seats: 2 }] },
        { name: 'Aisle', rows: [{ label: 'Z', seats: 1 }] },
      ],
    });
    const created = (await postVenue(body)).json();
    const response = await t.inject({
      method: 'GET',
      url: `/api/v1/venues/${created.id}`,
      headers: organizer.auth,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: created.id,
      ownerId: organizer.id,
      name: body.name,
      address: body.address,
      city: body.city,
      timezone: body.timezone,
      capacity: 15,
      createdAt: created.createdAt,
      sections: body.sections,
    });
  });

  it('answers 404 NOT_FOUND for an id that does not exist', async () => {
    const response = await t.inject({
      method: 'GET',
      url: `/api/v1/venues/${randomUUID()}`,
      headers: organizer.auth,
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('NOT_FOUND');
  });

  it('answers 400 VALIDATION_FAILED for an id that is not a UUID', async () => {
    const response = await t.inject({
      method: 'GET',
      url: "/api/v1/venues/not-a-uuid' OR '1'='1",
      headers: organizer.auth,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('VALIDATION_FAILED');
  });

  it('answers 401 without a token and 403 for a plain user', async () => {
    const created = (await postVenue(venueBody())).json();
    const user = await t.signUp('user');
    const anonymous = await t.inject({ method: 'GET', url: `/api/v1/venues/${created.id}` });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('UNAUTHENTICATED');
    const plain = await t.inject({
      method: 'GET',
      url: `/api/v1/venues/${created.id}`,
      headers: user.auth,
    });
    expect(plain.statusCode).toBe(403);
    expect(plain.json().code).toBe('FORBIDDEN');
  });
});

describe('GET /api/v1/venues', () => {
  const list = (query: string) =>
    t.inject({ method: 'GET', url: `/api/v1/venues?${query}`, headers: organizer.auth });

  it('walks every venue of a city exactly once with cursor pagination', async () => {
    const city = `Pageville ${randomUUID()}`;
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await postVenue(venueBody({ city }));
      expect(response.statusCode).toBe(201);
      created.push(response.json().id);
    }
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const query = new URLSearchParams({ city, limit: '3', ...(cursor ? { cursor } : {}) });
      const response = await list(query.toString());
      expect(response.statusCode).toBe(200);
      const body = response.json<{
        items: Array<{ id: string; city: string }>;
        nextCursor: string | null;
      }>();
      pageSizes.push(body.items.length);
      for (const item of body.items) {
        expect(item.city).toBe(city);
        seen.push(item.id);
      }
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    // Listed oldest first, so in the order they were created; none repeated, none skipped.
    expect(seen).toEqual(created);
    expect(new Set(seen).size).toBe(7);
    expect(pageSizes).toEqual([3, 3, 1]);
  });

  it('shows the capacity of each venue in the list', async () => {
    const city = `Capacityville ${randomUUID()}`;
    await postVenue(venueBody({ city }));
    const response = await list(new URLSearchParams({ city }).toString());
    expect(response.json().items).toHaveLength(1);
    expect(response.json().items[0]).toMatchObject({ city, capacity: 30 });
    expect(response.json().nextCursor).toBeNull();
  });

  it('lists with owner=me only the caller’s own venues, all of them across pages', async () => {
    const city = `Ownerville ${randomUUID()}`;
    const other = await t.signUp('organizer');
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) mine.push((await postVenue(venueBody({ city }))).json().id);
    const theirs = (await postVenue(venueBody({ city }), other.auth)).json().id;

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const query = new URLSearchParams({ city, owner: 'me', limit: '2' });
      if (cursor) query.set('cursor', cursor);
      const response = await list(query.toString());
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json<{ items: Array<{ id: string; ownerId: string }> }>();
      for (const item of body.items) expect(item.ownerId).toBe(organizer.id);
      seen.push(...body.items.map((v) => v.id));
      cursor = response.json().nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(mine);
    const theirList = await t.inject({
      method: 'GET',
      url: `/api/v1/venues?${new URLSearchParams({ city, owner: 'me' })}`,
      headers: other.auth,
    });
    expect(theirList.json().items.map((v: { id: string }) => v.id)).toEqual([theirs]);
    // Without the filter every organizer still sees every venue.
    const all = await list(new URLSearchParams({ city }).toString());
    expect(all.json().items).toHaveLength(4);
  });

  it('answers 400 for a limit out of range, an unknown parameter or a forged cursor', async () => {
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'sort=name',
      'owner=someone',
      'cursor=not-a-cursor',
      `cursor=${Buffer.from('{"createdAt":"yesterday","id":"x"}').toString('base64url')}`,
    ]) {
      const response = await list(query);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().code, query).toBe('VALIDATION_FAILED');
    }
  });

  it('answers 401 without a token and 403 for a plain user', async () => {
    const user = await t.signUp('user');
    expect((await t.inject({ method: 'GET', url: '/api/v1/venues' })).statusCode).toBe(401);
    const plain = await t.inject({ method: 'GET', url: '/api/v1/venues', headers: user.auth });
    expect(plain.statusCode).toBe(403);
  });
});
