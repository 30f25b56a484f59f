import { sql, type Kysely } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import type { DB } from '../../src/platform/database/schema.js';
import { createTestAppWithOrganizer, type SignedIn, type TestApp } from './test-app.js';
import { api, type HoldBody } from './api.js';
import { createEvent, oneSectionVenue } from './fixtures.js';

/**
 * What "never oversell" means, read straight from the tables after a load test. The same
 * function judges the real hold path (hold-concurrency*.test.ts) and a deliberately naive one
 * (naive-hold.test.ts), which shows it really catches an oversell.
 */
export type ViolationKind =
  | 'seat-in-two-live-holds'
  | 'held-seat-without-live-hold'
  | 'live-hold-seat-not-held-by-it'
  | 'hold-quantity-mismatch'
  | 'counters-unbalanced'
  | 'oversold'
  | 'held-counter-mismatch'
  | 'seat-counter-mismatch'
  | 'bucket-mismatch';

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

export interface InventoryReport {
  seating: string;
  capacity: number;
  available: number;
  held: number;
  sold: number;
  liveHolds: number;
  liveHoldQuantity: number;
  /** Seat rows by status (reserved seating only). */
  seats: { available: number; held: number; sold: number; total: number } | null;
  violations: Violation[];
}

const sample = (rows: unknown[]) =>
  `${rows.length} row(s), e.g. ${JSON.stringify(rows.slice(0, 3))}`;

export async function checkHoldInvariants(
  db: Kysely<DB>,
  eventId: string,
): Promise<InventoryReport> {
  const violations: Violation[] = [];
  const flag = (kind: ViolationKind, rows: unknown[]) => {
    if (rows.length > 0) violations.push({ kind, detail: sample(rows) });
  };
  const event = (
    await sql<{ seating: string; capacity: number; available: number; held: number; sold: number }>`
      SELECT seating, capacity, available, held, sold FROM events_with_inventory
      WHERE id = ${eventId}`.execute(db)
  ).rows[0];
  if (!event) throw new Error(`no event ${eventId}`);
  const live = (
    await sql<{ n: number; q: number }>`
      SELECT COUNT(*)::int AS n, COALESCE(SUM(quantity), 0)::int AS q
      FROM holds WHERE event_id = ${eventId} AND status = 'active'`.execute(db)
  ).rows[0] ?? { n: 0, q: 0 };

  // A seat of this event listed by more than one live hold: sold twice.
  flag(
    'seat-in-two-live-holds',
    (
      await sql`
        SELECT hs.seat_id, string_agg(h.id::text, ',') AS holds
        FROM hold_seats hs
        JOIN holds h ON h.id = hs.hold_id
        JOIN event_seats s ON s.id = hs.seat_id
        WHERE s.event_id = ${eventId} AND h.status = 'active'
        GROUP BY hs.seat_id HAVING COUNT(*) > 1`.execute(db)
    ).rows,
  );
  flag(
    'held-seat-without-live-hold',
    (
      await sql`
        SELECT s.id, s.hold_id, h.status AS hold_status
        FROM event_seats s LEFT JOIN holds h ON h.id = s.hold_id
        WHERE s.event_id = ${eventId} AND s.status = 'held'
          AND (h.id IS NULL OR h.status <> 'active' OR h.event_id <> s.event_id)`.execute(db)
    ).rows,
  );
  flag(
    'live-hold-seat-not-held-by-it',
    (
      await sql`
        SELECT hs.hold_id, hs.seat_id, s.status, s.hold_id AS seat_hold_id
        FROM hold_seats hs
        JOIN holds h ON h.id = hs.hold_id
        JOIN event_seats s ON s.id = hs.seat_id
        WHERE h.event_id = ${eventId} AND h.status = 'active'
          AND (s.status <> 'held' OR s.hold_id IS DISTINCT FROM hs.hold_id)`.execute(db)
    ).rows,
  );
  const seatsPerTicket = event.seating === 'reserved' ? 1 : 0;
  flag(
    'hold-quantity-mismatch',
    (
      await sql`
        SELECT h.id, h.quantity, COUNT(hs.seat_id)::int AS seats
        FROM holds h LEFT JOIN hold_seats hs ON hs.hold_id = h.id
        WHERE h.event_id = ${eventId} AND h.status = 'active'
        GROUP BY h.id, h.quantity
        HAVING COUNT(hs.seat_id) <> h.quantity * ${seatsPerTicket}::int`.execute(db)
    ).rows,
  );

  const { capacity, available, held, sold } = event;
  if (available + held + sold !== capacity || available < 0 || held < 0 || sold < 0) {
    flag('counters-unbalanced', [{ capacity, available, held, sold }]);
  }
  if (live.q + sold > capacity) {
    flag('oversold', [{ capacity, liveHoldQuantity: live.q, sold }]);
  }
  if (held !== live.q) flag('held-counter-mismatch', [{ held, liveHoldQuantity: live.q }]);

  // Each stock bucket holds exactly what its live holds took (and the buckets add up to
  // the capacity; their own CHECKs keep each balanced).
  flag(
    'bucket-mismatch',
    (
      await sql`
        SELECT s.bucket, s.held, coalesce(h.q, 0)::int AS live_hold_quantity,
               sum(s.capacity) OVER () AS buckets_capacity
        FROM event_stock s
        LEFT JOIN (SELECT bucket, sum(quantity) AS q FROM holds
                   WHERE event_id = ${eventId} AND status = 'active' GROUP BY bucket) h
          ON h.bucket = s.bucket
        WHERE s.event_id = ${eventId}`.execute(db)
    ).rows.filter(
      (row) =>
        (row as { held: number }).held !==
          (row as { live_hold_quantity: number }).live_hold_quantity ||
        Number((row as { buckets_capacity: string }).buckets_capacity) !== capacity,
    ),
  );

  let seats: InventoryReport['seats'] = null;
  if (event.seating === 'reserved') {
    const byStatus = (
      await sql<{ status: string; n: number }>`
        SELECT status, COUNT(*)::int AS n FROM event_seats WHERE event_id = ${eventId}
        GROUP BY status`.execute(db)
    ).rows;
    const count = (status: string) => byStatus.find((r) => r.status === status)?.n ?? 0;
    seats = { available: count('available'), held: count('held'), sold: count('sold'), total: 0 };
    seats.total = seats.available + seats.held + seats.sold;
    if (
      seats.available !== available ||
      seats.held !== held ||
      seats.sold !== sold ||
      seats.total !== capacity
    ) {
      flag('seat-counter-mismatch', [{ seats, counters: { capacity, available, held, sold } }]);
    }
  }

  return {
    seating: event.seating,
    capacity,
    available,
    held,
    sold,
    liveHolds: live.n,
    liveHoldQuantity: live.q,
    seats,
    violations,
  };
}

export interface LiveHold {
  id: string;
  userId: string;
  quantity: number;
  seatIds: string[];
}

/** The event's live holds with their seats (sorted), to compare with what the API answered. */
export async function liveHoldsOf(db: Kysely<DB>, eventId: string): Promise<LiveHold[]> {
  const { rows } = await sql<{ id: string; user_id: string; quantity: number; seats: string }>`
    SELECT h.id, h.user_id, h.quantity, COALESCE(string_agg(hs.seat_id::text, ','), '') AS seats
    FROM holds h LEFT JOIN hold_seats hs ON hs.hold_id = h.id
    WHERE h.event_id = ${eventId} AND h.status = 'active'
    GROUP BY h.id, h.user_id, h.quantity`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    userId: r.user_id,
    quantity: r.quantity,
    seatIds: r.seats ? r.seats.split(',').sort() : [],
  }));
}

// ---- Load helpers shared by the concurrency tests ----

/** A small seeded PRNG, so a failing run can be replayed with the seed it printed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of the load tests' random choices: HOLD_RACE_SEED replays a failing run. */
export const RACE_SEED = Number(process.env.HOLD_RACE_SEED ?? Date.now() % 1_000_000);

export interface LoadTestApp {
  t: TestApp;
  organizer: SignedIn;
  users: SignedIn[];
}

/**
 * Registers the beforeAll/afterAll every load test file starts with: a test app (with
 * `overrides`, read when the app starts), an organizer, and `buyers` users signed up through
 * the API (or made by the function given, e.g. insertUsers in bulk); the app is closed after
 * the file. Returns what those hooks fill in. A file's own beforeAll registered earlier runs
 * before the app starts, its own afterAll registered earlier after the app has closed.
 */
export function useLoadTestApp(options: {
  buyers: number | ((t: TestApp) => Promise<SignedIn[]>);
  overrides?: Record<string, string> | (() => Record<string, string>);
}): LoadTestApp {
  const load = {} as LoadTestApp;
  beforeAll(async () => {
    const { buyers, overrides } = options;
    const { t, organizer } = await createTestAppWithOrganizer(
      typeof overrides === 'function' ? overrides() : overrides,
    );
    const users = typeof buyers === 'number' ? await signUpMany(t, buyers) : await buyers(t);
    Object.assign(load, { t, organizer, users });
  });
  afterAll(() => load.t?.close());
  return load;
}

/** Signs up `n` users through the API, `batch` at a time. */
export async function signUpMany(t: TestApp, n: number, batch = 50): Promise<SignedIn[]> {
  const users: SignedIn[] = [];
  for (let i = 0; i < n; i += batch) {
    const size = Math.min(batch, n - i);
    users.push(...(await Promise.all(Array.from({ length: size }, () => t.signUp()))));
  }
  return users;
}

/**
 * A published reserved-seating event on a one-section venue of `rows` x `seatsPerRow` seats;
 * returns the seat ids row by row, in seat-number order.
 */
export async function createOneSectionEvent(
  t: TestApp,
  organizer: SignedIn,
  rows: number,
  seatsPerRow: number,
  extra: Record<string, unknown> = {},
): Promise<{ eventId: string; rows: string[][] }> {
  const venue = await t.inject({
    method: 'POST',
    url: '/api/v1/venues',
    headers: organizer.auth,
    payload: oneSectionVenue(
      { name: 'Concurrency Hall', address: '1 Race Street', city: 'Testville', section: 'Floor' },
      rows,
      seatsPerRow,
    ),
  });
  if (venue.statusCode !== 201) throw new Error(`venue: ${venue.body}`);
  const startsAt = new Date(Date.now() + 10 * 86_400_000);
  const created = await t.inject({
    method: 'POST',
    url: '/api/v1/events',
    headers: organizer.auth,
    payload: {
      name: 'Seat Race',
      description: 'Everyone wants the same seats',
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 3_600_000).toISOString(),
      seating: 'reserved',
      venueId: venue.json<{ id: string }>().id,
      priceCents: 2500,
      currency: 'EUR',
      ...extra,
    },
  });
  if (created.statusCode !== 201) throw new Error(`event: ${created.body}`);
  const eventId = created.json<{ id: string }>().id;
  const published = await t.inject({
    method: 'POST',
    url: `/api/v1/events/${eventId}/publish`,
    headers: organizer.auth,
  });
  if (published.statusCode !== 200) throw new Error(`publish: ${published.body}`);
  const map = (await t.inject({ method: 'GET', url: `/api/v1/events/${eventId}/seats` })).json<{
    sections: Array<{ rows: Array<{ seats: Array<{ id: string; number: number }> }> }>;
  }>();
  return {
    eventId,
    rows: map.sections.flatMap((s) =>
      s.rows.map((r) => [...r.seats].sort((a, b) => a.number - b.number).map((x) => x.id)),
    ),
  };
}

/** Every pair of neighbouring seats: what friends ask for, and they overlap heavily. */
export const adjacentPairs = (rows: string[][]): Array<[string, string]> =>
  rows.flatMap((row) => row.slice(1).map((seat, i): [string, string] => [row[i]!, seat]));

/** One buyer's hold request in a rush. */
export interface RushRequest {
  user: SignedIn;
  body: HoldBody;
}

/**
 * A rush of two-seat holds on a fresh reserved event of `rows` x `seatsPerRow` seats:
 * `rounds` requests per user, each for a random neighbouring pair, round-robin over the
 * users so each user's requests are spread through the burst.
 */
export async function reservedRush(
  t: TestApp,
  organizer: SignedIn,
  users: SignedIn[],
  options: { rows: number; seatsPerRow: number; rounds: number; maxTickets: number; seed: number },
): Promise<{ eventId: string; capacity: number; maxTickets: number; requests: RushRequest[] }> {
  const { rows, eventId } = await createOneSectionEvent(
    t,
    organizer,
    options.rows,
    options.seatsPerRow,
    { maxTicketsPerUser: options.maxTickets },
  );
  const pairs = adjacentPairs(rows);
  const random = seededRandom(options.seed);
  const requests = Array.from({ length: options.rounds }, () =>
    users.map((user) => ({ user, body: { seatIds: pairs[Math.floor(random() * pairs.length)]! } })),
  ).flat();
  const { maxTickets } = options;
  return { eventId, capacity: options.rows * options.seatsPerRow, maxTickets, requests };
}

/**
 * A rush on a fresh general-admission event of `capacity`: one request per user for 1-4
 * tickets (`asked`, in user order).
 */
export async function generalRush(
  t: TestApp,
  organizer: SignedIn,
  users: SignedIn[],
  options: { capacity: number; name: string; seed: number },
): Promise<{ eventId: string; capacity: number; asked: number[]; requests: RushRequest[] }> {
  const { capacity, name } = options;
  const event = await createEvent(t, organizer, { capacity, name });
  const random = seededRandom(options.seed);
  const asked = users.map(() => 1 + Math.floor(random() * 4));
  const requests = users.map((user, i) => ({ user, body: { quantity: asked[i]! } }));
  return { eventId: event.id, capacity, asked, requests };
}

export const postHold = (t: TestApp, user: SignedIn, eventId: string, payload: HoldBody) =>
  api.hold(t, user, eventId, payload);

/** Responses counted by "status" or "status CODE" (e.g. "409 SOLD_OUT"). */
export function tally(responses: LightMyRequestResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of responses) {
    const code = r.statusCode === 201 ? '' : ` ${String(r.json<{ code?: string }>().code)}`;
    const key = `${r.statusCode}${code}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

// ---- What a burst of hold requests must leave behind ----

const codeOf = (r: LightMyRequestResponse) => r.json<{ code?: string }>().code ?? '';

export interface BurstCounts {
  winners: number;
  refused: number;
  unavailable: number;
}

/** Only these answers are acceptable; with Redis down, also 503 SERVICE_UNAVAILABLE. */
function assertAnswers(
  responses: LightMyRequestResponse[],
  refusals: string[],
  outage: boolean,
): BurstCounts {
  const ok = (r: LightMyRequestResponse) =>
    r.statusCode === 201 ||
    (r.statusCode === 409 && refusals.includes(codeOf(r))) ||
    (outage && r.statusCode === 503 && codeOf(r) === 'SERVICE_UNAVAILABLE');
  expect(responses.filter((r) => !ok(r)).map((r) => `${r.statusCode} ${r.body}`)).toEqual([]);
  const counts = {
    winners: responses.filter((r) => r.statusCode === 201).length,
    refused: responses.filter((r) => r.statusCode === 409).length,
    unavailable: responses.filter((r) => r.statusCode === 503).length,
  };
  expect(counts.winners + counts.refused + counts.unavailable).toBe(responses.length);
  return counts;
}

/**
 * A burst of two-seat holds on a reserved event (nothing released meanwhile): no seat in two
 * live holds, counters match the seats, every 201 is exactly one live hold and vice versa,
 * every SEAT_UNAVAILABLE names seats that really are taken, nobody is over the ticket limit.
 */
export async function assertReservedBurst(
  db: Kysely<DB>,
  rush: { eventId: string; capacity: number; maxTickets: number },
  responses: LightMyRequestResponse[],
  options: { outage?: boolean } = {},
): Promise<BurstCounts> {
  const { eventId, capacity } = rush;
  const refusals = ['SEAT_UNAVAILABLE', 'HOLD_IN_PROGRESS', 'TICKET_LIMIT_EXCEEDED', 'SOLD_OUT'];
  const counts = assertAnswers(responses, refusals, options.outage ?? false);
  const heldSeats = 2 * counts.winners;

  const report = await checkHoldInvariants(db, eventId);
  expect(report.violations).toEqual([]);
  expect(report.seats).toEqual({
    available: capacity - heldSeats,
    held: heldSeats,
    sold: 0,
    total: capacity,
  });
  expect(report).toMatchObject({ capacity, held: heldSeats, sold: 0, liveHolds: counts.winners });

  const live = new Map((await liveHoldsOf(db, eventId)).map((h) => [h.id, h]));
  const answered = responses
    .filter((r) => r.statusCode === 201)
    .map((r) => r.json<{ id: string; seatIds: string[] }>());
  expect(answered.map((h) => h.id).sort()).toEqual([...live.keys()].sort());
  for (const hold of answered) expect(live.get(hold.id)?.seatIds).toEqual(hold.seatIds.sort());

  const heldNow = new Set([...live.values()].flatMap((h) => h.seatIds));
  for (const r of responses.filter((x) => codeOf(x) === 'SEAT_UNAVAILABLE')) {
    const taken = r.json<{ unavailableSeatIds: string[] }>().unavailableSeatIds;
    expect(taken.length).toBeGreaterThan(0);
    expect(taken.filter((seatId) => !heldNow.has(seatId))).toEqual([]);
  }
  const perUser = new Map<string, number>();
  for (const h of live.values()) perUser.set(h.userId, (perUser.get(h.userId) ?? 0) + h.quantity);
  expect(Math.max(0, ...perUser.values())).toBeLessThanOrEqual(rush.maxTickets);
  return counts;
}

/**
 * A burst of general-admission holds for `asked[i]` tickets each: never more than capacity
 * held, the winners' quantities are exactly what left `available`, and (when demand exceeded
 * supply throughout) the event is exactly full.
 */
export async function assertGeneralBurst(
  db: Kysely<DB>,
  rush: { eventId: string; capacity: number; asked: number[] },
  responses: LightMyRequestResponse[],
  options: { outage?: boolean; expectFull: boolean },
): Promise<BurstCounts> {
  const { eventId, capacity, asked } = rush;
  const counts = assertAnswers(
    responses,
    ['SOLD_OUT', 'HOLD_IN_PROGRESS'],
    options.outage ?? false,
  );

  const report = await checkHoldInvariants(db, eventId);
  expect(report.violations).toEqual([]);
  expect(report.held + report.sold).toBeLessThanOrEqual(capacity);
  expect(report.liveHoldQuantity).toBeLessThanOrEqual(capacity);
  if (options.expectFull) {
    expect(report).toMatchObject({ capacity, available: 0, held: capacity, sold: 0 });
    expect(report.liveHoldQuantity).toBe(capacity);
  }

  const won = responses.flatMap((r, i) => (r.statusCode === 201 ? [{ r, asked: asked[i]! }] : []));
  expect(won.reduce((sum, w) => sum + w.asked, 0)).toBe(capacity - report.available);
  for (const w of won) expect(w.r.json<{ quantity: number }>().quantity).toBe(w.asked);
  const live = await liveHoldsOf(db, eventId);
  expect(live.map((h) => h.id).sort()).toEqual(
    won.map((w) => w.r.json<{ id: string }>().id).sort(),
  );
  return counts;
}
