import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createEvent } from './support/fixtures.js';
import {
  adjacentPairs,
  checkHoldInvariants,
  createOneSectionEvent,
  tally,
  useLoadTestApp,
} from './support/hold-invariants.js';
import type { SignedIn } from './support/test-app.js';
import { api, type HoldBody } from './support/api.js';

// An event's counters are 8 stock buckets (migration 013). A hold moves one bucket chosen at
// random; the whole stock is still what decides: a request larger than any one bucket is
// served, SOLD_OUT means the event, not the bucket, is out, and the figures every reader sees
// are the buckets' sums.
const load = useLoadTestApp({ buyers: 40 });

const hold = (user: SignedIn, eventId: string, payload: HoldBody) =>
  api.hold(load.t, user, eventId, payload);

async function buckets(eventId: string) {
  const { rows } = await sql<{
    bucket: number;
    capacity: number;
    available: number;
    held: number;
    sold: number;
  }>`SELECT bucket, capacity, available, held, sold FROM event_stock
     WHERE event_id = ${eventId} ORDER BY bucket`.execute(load.t.deps.database.db);
  return rows;
}

describe('stock buckets', () => {
  it('serves a request larger than any one bucket, and answers SOLD_OUT only when the event is out', async () => {
    const event = await createEvent(load.t, load.organizer, {
      capacity: 8,
      extra: { maxTicketsPerUser: 10 },
    });
    expect((await buckets(event.id)).map((b) => b.available)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);

    const five = await hold(load.users[0]!, event.id, { quantity: 5 });
    expect(five.statusCode, five.body).toBe(201);
    const [holdRow] = (
      await sql<{ bucket: number }>`SELECT bucket FROM holds WHERE id = ${five.json().id}`.execute(
        load.t.deps.database.db,
      )
    ).rows;
    const after = await buckets(event.id);
    // The five are held in the hold's own bucket; the three left are spread evenly again.
    expect(after.find((b) => b.bucket === holdRow!.bucket)!.held).toBe(5);
    expect(after.reduce((sum, b) => sum + b.available, 0)).toBe(3);
    expect(Math.max(...after.map((b) => b.available))).toBeLessThanOrEqual(1);
    expect(after.reduce((sum, b) => sum + b.capacity, 0)).toBe(8);

    const four = await hold(load.users[1]!, event.id, { quantity: 4 });
    expect(four.statusCode).toBe(409);
    expect(four.json()).toMatchObject({ code: 'SOLD_OUT' });
    const three = await hold(load.users[1]!, event.id, { quantity: 3 });
    expect(three.statusCode, three.body).toBe(201);
    const detail = await load.t.inject({ method: 'GET', url: `/api/v1/events/${event.id}` });
    expect(detail.json()).toMatchObject({ capacity: 8, available: 0, held: 8, sold: 0 });
    expect((await checkHoldInvariants(load.t.deps.database.db, event.id)).violations).toEqual([]);
  });

  it('gives a released hold back to its own bucket', async () => {
    const event = await createEvent(load.t, load.organizer, { capacity: 80 });
    const taken = await hold(load.users[2]!, event.id, { quantity: 4 });
    expect(taken.statusCode).toBe(201);
    const released = await load.t.inject({
      method: 'DELETE',
      url: `/api/v1/holds/${taken.json().id}`,
      headers: load.users[2]!.auth,
    });
    expect(released.statusCode).toBe(204);
    const after = await buckets(event.id);
    expect(after.map((b) => [b.capacity, b.available, b.held])).toEqual(
      Array.from({ length: 8 }, () => [10, 10, 0]),
    );
  });

  it('counts reserved seats in the buckets exactly, through a rush on a few seats', async () => {
    const { eventId, rows } = await createOneSectionEvent(load.t, load.organizer, 2, 6);
    const pairs = adjacentPairs(rows);
    const responses = await Promise.all(
      load.users.map((user, i) => hold(user, eventId, { seatIds: pairs[i % pairs.length]! })),
    );
    const counts = tally(responses);
    expect(counts['201'], JSON.stringify(counts)).toBeGreaterThan(0);
    const report = await checkHoldInvariants(load.t.deps.database.db, eventId);
    expect(report.violations).toEqual([]);
    // The figures are the buckets' sums, and they are the seats' statuses.
    expect(report.seats).toMatchObject({ held: report.held, available: report.available });
    expect(report.held).toBe(2 * counts['201']!);
  });
});
