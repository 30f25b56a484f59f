import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEvent, createVenue } from './support/fixtures.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';

// The in-process LRU keeps entries for a minute here, far longer than any test runs: a read
// that sees a change can only do so because the write invalidated the cached copy, never
// because the entry happened to expire.
const LONG_LOCAL_TTL = { LOCAL_CACHE_TTL_MS: '60000' };

interface EventJson {
  id: string;
  name: string;
  status: string;
  capacity: number;
  available: number;
}

interface SeatMapJson {
  sections: Array<{ name: string; rows: Array<{ seats: Array<{ priceCents: number }> }> }>;
}

type Auth = { authorization: string } | undefined;

/** Reads of the catalog through one app instance (A, B, or the Redis-less one). */
function catalog(app: FastifyInstance) {
  const get = async (url: string, auth?: Auth) => {
    const response = await app.inject({ method: 'GET', url: `/api/v1${url}`, headers: auth ?? {} });
    expect(response.statusCode, response.body).toBe(200);
    return response;
  };
  return {
    event: async (id: string, auth?: Auth) => (await get(`/events/${id}`, auth)).json<EventJson>(),
    list: async (query: Record<string, string>) =>
      (await get(`/events?${new URLSearchParams(query).toString()}`)).json<{
        items: EventJson[];
        nextCursor: string | null;
      }>(),
    names: async (query: Record<string, string>) =>
      (await get(`/events?${new URLSearchParams(query).toString()}`))
        .json<{ items: EventJson[] }>()
        .items.map((e) => e.name),
    prices: async (id: string) =>
      (await get(`/events/${id}/seats`))
        .json<SeatMapJson>()
        .sections.map((s) => s.rows.flatMap((r) => r.seats.map((seat) => seat.priceCents))),
  };
}

async function write(
  app: FastifyInstance,
  method: 'PATCH' | 'POST',
  url: string,
  auth: Auth,
  payload?: object,
) {
  const response = await app.inject({
    method,
    url: `/api/v1${url}`,
    headers: auth ?? {},
    ...(payload ? { payload } : {}),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response;
}

const uniqueTag = () => `cache${randomUUID().replace(/-/g, '').slice(0, 16)}`;

/**
 * The shared checks: whatever `reader` has cached of an event, its list and its seat map is
 * dropped when `writer` changes the event. `reader` and `writer` may be the same instance.
 */
async function expectWritesToRefreshReads(
  t: TestApp,
  organizer: SignedIn,
  writer: FastifyInstance,
  reader: FastifyInstance,
  eventually: (check: () => Promise<void>) => Promise<void>,
) {
  const tag = uniqueTag();
  const venue = await createVenue(t, organizer, { rows: 1, seatsPerRow: 2 });
  const event = await createEvent(t, organizer, {
    name: `${tag} original`,
    seating: 'reserved',
    venueId: venue.id,
  });
  const read = catalog(reader);
  // Read everything twice: the second read is answered from the reader's cache.
  for (let i = 0; i < 2; i++) {
    expect((await read.event(event.id)).name).toBe(`${tag} original`);
    expect(await read.names({ q: tag })).toEqual([`${tag} original`]);
    expect(await read.prices(event.id)).toEqual([
      [2500, 2500],
      [2500, 2500],
    ]);
  }

  await write(writer, 'PATCH', `/events/${event.id}`, organizer.auth, {
    name: `${tag} renamed`,
    priceCents: 1800,
  });

  await eventually(async () => {
    expect((await read.event(event.id)).name).toBe(`${tag} renamed`);
    expect(await read.names({ q: tag })).toEqual([`${tag} renamed`]);
    expect(await read.prices(event.id)).toEqual([
      [1800, 1800],
      [1800, 1800],
    ]);
  });

  // Publishing and cancelling change what the listing holds, not just one item in it.
  const draft = await createEvent(t, organizer, { name: `${tag} second`, publish: false });
  expect(await read.names({ q: tag })).toEqual([`${tag} renamed`]);
  // The reader caches the draft (its owner sees it; the public gets a 404).
  expect((await read.event(draft.id, organizer.auth)).status).toBe('draft');
  const hidden = await reader.inject({ method: 'GET', url: `/api/v1/events/${draft.id}` });
  expect(hidden.statusCode).toBe(404);
  await write(writer, 'POST', `/events/${draft.id}/publish`, organizer.auth);
  await eventually(async () => {
    expect((await read.names({ q: tag })).sort()).toEqual([`${tag} renamed`, `${tag} second`]);
    expect((await read.event(draft.id)).status).toBe('published');
  });
  await write(writer, 'POST', `/events/${event.id}/cancel`, organizer.auth);
  await eventually(async () => {
    expect(await read.names({ q: tag })).toEqual([`${tag} second`]);
    expect((await read.event(event.id)).status).toBe('cancelled');
  });
}

const immediately = (check: () => Promise<void>) => check();

// Another instance learns of a write by a broadcast, which arrives asynchronously; give it
// two seconds (a missed broadcast would leave the entry stale for the whole minute).
const soon = (check: () => Promise<void>) =>
  vi.waitFor(check, { timeout: 2000, interval: 25 }).then(() => undefined);

let t: TestApp;
let organizer: SignedIn;
beforeAll(async () => {
  t = await createTestApp(LONG_LOCAL_TTL);
  organizer = await t.signUp('organizer');
});
afterAll(async () => {
  await t?.close();
});

describe('catalog cache on one instance', () => {
  it('answers a repeated read from the cache until a write through the API drops it', async () => {
    const event = await createEvent(t, organizer, { name: 'Cached name' });
    const read = catalog(t.app);
    expect((await read.event(event.id)).name).toBe('Cached name');
    // A change behind the service's back is not seen: the answer comes from the cache.
    await t.deps.database.db
      .updateTable('events')
      .set({ name: 'Changed behind the cache' })
      .where('id', '=', event.id)
      .execute();
    expect((await read.event(event.id)).name).toBe('Cached name');
    // A write through the API drops the entry, so the next read reloads the row.
    await write(t.app, 'PATCH', `/events/${event.id}`, organizer.auth, { description: 'new' });
    expect((await read.event(event.id)).name).toBe('Changed behind the cache');
  });

  it('shows a rename, a repricing, a publication and a cancellation on the next read', async () => {
    await expectWritesToRefreshReads(t, organizer, t.app, t.app, immediately);
  });

  it('shows a capacity change in the availability counts at once', async () => {
    const event = await createEvent(t, organizer, { capacity: 100 });
    const read = catalog(t.app);
    expect(await read.event(event.id)).toMatchObject({ capacity: 100, available: 100 });
    await write(t.app, 'PATCH', `/events/${event.id}`, organizer.auth, { capacity: 40 });
    expect(await read.event(event.id)).toMatchObject({ capacity: 40, available: 40 });
  });

  it('drops every cached page of a listing, not only the first', async () => {
    const tag = uniqueTag();
    const events = [];
    for (let i = 0; i < 3; i++) {
      events.push(await createEvent(t, organizer, { name: `${tag} ${i}` }));
    }
    const read = catalog(t.app);
    const first = await read.list({ q: tag, limit: '2' });
    const cursor = first.nextCursor!;
    expect(cursor).toBeTruthy();
    const secondPage = { q: tag, limit: '2', cursor };
    expect((await read.list(secondPage)).items.map((e) => e.id)).toHaveLength(1);
    const last = (await read.list(secondPage)).items[0]!;
    await write(t.app, 'PATCH', `/events/${last.id}`, organizer.auth, { name: `${tag} last` });
    expect((await read.list(secondPage)).items.map((e) => e.name)).toEqual([`${tag} last`]);
  });

  it('shows a draft to the public as soon as it is published, after its owner read it', async () => {
    const draft = await createEvent(t, organizer, { publish: false });
    const read = catalog(t.app);
    expect((await read.event(draft.id, organizer.auth)).status).toBe('draft');
    const anonymous = await t.inject({ method: 'GET', url: `/api/v1/events/${draft.id}` });
    expect(anonymous.statusCode).toBe(404);
    await write(t.app, 'POST', `/events/${draft.id}/publish`, organizer.auth);
    expect((await read.event(draft.id)).status).toBe('published');
  });
});

describe('catalog cache across instances', () => {
  // A second instance needs a database both can reach (PGlite in memory belongs to one
  // connection) and Redis to carry the invalidations; without them, one instance is the
  // whole deployment, so the same checks run on it alone.
  const multiInstance = () => Boolean(t.testDb.url && t.deps.config.redisUrl);

  it('shows on instance B what was written through instance A', async () => {
    if (!multiInstance()) {
      await expectWritesToRefreshReads(t, organizer, t.app, t.app, immediately);
      return;
    }
    const other = await t.anotherInstance();
    await expectWritesToRefreshReads(t, organizer, t.app, other.app, soon);
  });

  it('shows on instance A what was written through instance B', async () => {
    if (!multiInstance()) {
      await expectWritesToRefreshReads(t, organizer, t.app, t.app, immediately);
      return;
    }
    const other = await t.anotherInstance();
    await expectWritesToRefreshReads(t, organizer, other.app, t.app, soon);
  });

  it('reloads on instance B an entry B had cached, once A writes the event', async () => {
    const event = await createEvent(t, organizer, { name: 'Before' });
    const reader = multiInstance() ? (await t.anotherInstance()).app : t.app;
    const read = catalog(reader);
    expect((await read.event(event.id)).name).toBe('Before');
    // A change behind the service's back: B keeps answering from its cache.
    await t.deps.database.db
      .updateTable('events')
      .set({ name: 'Behind the cache' })
      .where('id', '=', event.id)
      .execute();
    expect((await read.event(event.id)).name).toBe('Before');
    // A write through A (to another field) drops B's copy, so B reloads the whole row.
    await write(t.app, 'PATCH', `/events/${event.id}`, organizer.auth, { description: 'new' });
    await (multiInstance() ? soon : immediately)(async () => {
      expect(await read.event(event.id)).toMatchObject({ name: 'Behind the cache' });
    });
  });
});

describe('catalog cache without Redis (the local LRU alone)', () => {
  let lru: TestApp;
  let owner: SignedIn;
  beforeAll(async () => {
    // The embedded run has no Redis already; with Redis configured, start an app without it
    // (an empty REDIS_URL means none, even when the environment names one).
    lru = t.deps.config.redisUrl ? await createTestApp({ ...LONG_LOCAL_TTL, REDIS_URL: '' }) : t;
    owner = await lru.signUp('organizer');
  });
  afterAll(async () => {
    if (lru !== t) await lru?.close();
  });

  it('runs without Redis', () => {
    expect(lru.deps.config.redisUrl).toBeUndefined();
  });

  it('caches reads in the LRU and drops them on every write', async () => {
    const event = await createEvent(lru, owner, { name: 'LRU name' });
    const read = catalog(lru.app);
    expect((await read.event(event.id)).name).toBe('LRU name');
    await lru.deps.database.db
      .updateTable('events')
      .set({ name: 'Behind the LRU' })
      .where('id', '=', event.id)
      .execute();
    expect((await read.event(event.id)).name).toBe('LRU name');
    await write(lru.app, 'PATCH', `/events/${event.id}`, owner.auth, { priceCents: 10 });
    expect((await read.event(event.id)).name).toBe('Behind the LRU');
  });

  it('shows a rename, a repricing, a publication and a cancellation on the next read', async () => {
    await expectWritesToRefreshReads(lru, owner, lru.app, lru.app, immediately);
  });
});
