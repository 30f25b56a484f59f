import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsFact } from '../src/modules/analytics/analytics.repository.js';
import { AnalyticsRepository } from '../src/modules/analytics/analytics.repository.js';
import { inBatches } from './support/bookings.js';
import { createEvent } from './support/fixtures.js';
import { eventually } from './support/smtp-sink.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';
import { api } from './support/api.js';

// Analytics are roll-ups kept by the `analytics` consumer from booking messages. After a
// randomized concurrent workload (bookings, declines, cancellations with refunds), every
// figure must equal the same figure recomputed from the raw bookings rows.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let t: TestApp;
let admin: SignedIn;
let organizerA: SignedIn;
let organizerB: SignedIn;
const started = new Date(Date.now() - HOUR);

beforeAll(async () => {
  t = await createTestApp({ OUTBOX_POLL_MS: '50', MESSAGE_RETRY_BASE_MS: '50' });
  await t.deps.start({ api: false, workers: true });
  [admin, organizerA, organizerB] = await Promise.all([
    t.signUp('admin'),
    t.signUp('organizer'),
    t.signUp('organizer'),
  ]);
});
afterAll(async () => {
  await t?.close();
});

const db = () => t.deps.database.db;

const get = async <T>(user: SignedIn, url: string, status = 200) => {
  const response = await t.inject({ method: 'GET', url, headers: user.auth });
  expect(response.statusCode, response.body).toBe(status);
  return response.json<T>();
};

/** Waits until the consumer has applied every booking message written so far. */
async function analyticsCaughtUp(): Promise<void> {
  await eventually(async () => {
    const { rows } = await sql<{ waiting: number }>`
      SELECT count(*)::int AS waiting FROM outbox o
      WHERE o.type IN ('booking.confirmed', 'booking.cancelled')
        AND NOT EXISTS (SELECT 1 FROM processed_messages p
                        WHERE p.consumer = 'analytics' AND p.message_id = o.message_id)`.execute(
      db(),
    );
    return rows[0]!.waiting === 0;
  }, 'the analytics consumer to catch up');
}

/** The figures recomputed from bookings rows: confirmations by confirmed_at, cancellations by cancelled_at. */
async function rawFigures(range: { from: Date; to: Date }, organizerId?: string) {
  const owner = organizerId
    ? sql`AND b.event_id IN (SELECT id FROM events WHERE organizer_id = ${organizerId})`
    : sql``;
  const from = new Date(Math.floor(range.from.getTime() / HOUR) * HOUR);
  const to = new Date(Math.ceil(range.to.getTime() / HOUR) * HOUR);
  const { rows } = await sql<{
    bookings: number;
    tickets: number;
    revenue: number;
    cancellations: number;
    cancelled_tickets: number;
    refunded: number;
  }>`
    SELECT
      (SELECT count(*)::int FROM bookings b WHERE confirmed_at >= ${from} AND confirmed_at < ${to} ${owner}) AS bookings,
      (SELECT coalesce(sum(quantity), 0)::int FROM bookings b WHERE confirmed_at >= ${from} AND confirmed_at < ${to} ${owner}) AS tickets,
      (SELECT coalesce(sum(total_cents), 0)::int FROM bookings b WHERE confirmed_at >= ${from} AND confirmed_at < ${to} ${owner}) AS revenue,
      (SELECT count(*)::int FROM bookings b WHERE status = 'cancelled' AND cancelled_at >= ${from} AND cancelled_at < ${to} ${owner}) AS cancellations,
      (SELECT coalesce(sum(quantity), 0)::int FROM bookings b WHERE status = 'cancelled' AND cancelled_at >= ${from} AND cancelled_at < ${to} ${owner}) AS cancelled_tickets,
      (SELECT coalesce(sum(refund_cents), 0)::int FROM bookings b WHERE status = 'cancelled' AND cancelled_at >= ${from} AND cancelled_at < ${to} ${owner}) AS refunded
  `.execute(db());
  const r = rows[0]!;
  return {
    bookings: r.bookings,
    ticketsSold: r.tickets - r.cancelled_tickets,
    revenueCents: r.revenue - r.refunded,
    cancellations: r.cancellations,
    refundedCents: r.refunded,
    cancellationRate:
      r.bookings === 0 ? 0 : Math.round((r.cancellations / r.bookings) * 10_000) / 10_000,
  };
}

interface Overview {
  totals: Record<string, number>;
  topEvents: Array<{
    eventId: string;
    ticketsSold: number;
    revenueCents: number;
    bookings: number;
  }>;
  utilization: Array<{ eventId: string; sold: number; capacity: number; utilization: number }>;
  daily: Array<{ day: string; bookings: number; ticketsSold: number; revenueCents: number }>;
  hourly: Array<{ hour: string; bookings: number; cancellations: number }> | null;
}

describe('analytics after a randomized concurrent workload', () => {
  const eventsA: string[] = [];
  let eventB: string;

  beforeAll(async () => {
    for (const [capacity, price] of [
      [80, 2500],
      [60, 4000],
      [40, 1000],
    ] as const) {
      eventsA.push(
        (await createEvent(t, organizerA, { capacity, extra: { priceCents: price } })).id,
      );
    }
    eventB = (await createEvent(t, organizerB, { capacity: 50, extra: { priceCents: 3000 } })).id;
    const everyEvent = [...eventsA, eventB];
    const buyers = await Promise.all(Array.from({ length: 12 }, () => t.signUp()));

    // 90 attempts in parallel: random event, quantity and card (a tenth are declined).
    const attempts = Array.from({ length: 90 }, (_, i) => ({
      buyer: buyers[i % buyers.length]!,
      eventId: everyEvent[Math.floor(Math.random() * everyEvent.length)]!,
      quantity: 1 + Math.floor(Math.random() * 3),
      token: Math.random() < 0.1 ? 'tok_declined' : 'tok_visa',
    }));
    const booked = await inBatches(attempts, 30, async (a) => {
      const held = await api.hold(t, a.buyer, a.eventId, { quantity: a.quantity });
      if (held.statusCode !== 201) return null; // sold out or over the per-user limit
      const booking = await t.inject({
        method: 'POST',
        url: '/api/v1/bookings',
        headers: a.buyer.auth,
        payload: { holdId: held.json<{ id: string }>().id, payment: { token: a.token } },
      });
      return booking.statusCode === 201 ? { id: booking.json<{ id: string }>().id, a } : null;
    });
    const confirmed = booked.filter((b) => b !== null);
    expect(confirmed.length).toBeGreaterThan(30);
    // A third are cancelled (refunded), concurrently.
    await inBatches(
      confirmed.filter(() => Math.random() < 0.33),
      20,
      async (b) => {
        const cancelled = await t.inject({
          method: 'POST',
          url: `/api/v1/bookings/${b.id}/cancel`,
          headers: b.a.buyer.auth,
        });
        expect(cancelled.statusCode).toBe(200);
      },
    );
    await analyticsCaughtUp();
  });

  const range = () => ({ from: started, to: new Date(Date.now() + HOUR) });
  const query = () => `from=${range().from.toISOString()}&to=${range().to.toISOString()}`;

  it('platform totals, daily and hourly buckets equal the bookings rows', async () => {
    const overview = await get<Overview>(admin, `/api/v1/admin/analytics?${query()}&limit=100`);
    const raw = await rawFigures(range());
    expect(raw.cancellations).toBeGreaterThan(0);
    expect(overview.totals).toEqual(raw);
    const sum = (items: Array<Record<string, unknown>>, key: string) =>
      items.reduce((n, item) => n + Number(item[key]), 0);
    expect(sum(overview.daily, 'bookings')).toBe(raw.bookings);
    expect(sum(overview.daily, 'revenueCents')).toBe(raw.revenueCents + raw.refundedCents);
    expect(sum(overview.hourly!, 'bookings')).toBe(raw.bookings);
    expect(sum(overview.hourly!, 'cancellations')).toBe(raw.cancellations);
  });

  it('top events and utilization equal the bookings and events rows', async () => {
    const overview = await get<Overview>(admin, `/api/v1/admin/analytics?${query()}&limit=100`);
    const { rows } = await sql<{
      event_id: string;
      sold: number;
      revenue: number;
      bookings: number;
    }>`
      SELECT event_id,
        (sum(quantity) FILTER (WHERE status = 'confirmed'))::int AS sold,
        (sum(total_cents - refund_cents) FILTER (WHERE status IN ('confirmed', 'cancelled')))::int AS revenue,
        (count(*) FILTER (WHERE confirmed_at IS NOT NULL))::int AS bookings
      FROM bookings GROUP BY event_id`.execute(db());
    for (const row of rows) {
      const ranked = overview.topEvents.find((e) => e.eventId === row.event_id);
      expect(ranked, `event ${row.event_id} ranked`).toMatchObject({
        ticketsSold: row.sold ?? 0,
        revenueCents: row.revenue ?? 0,
        bookings: row.bookings,
      });
    }
    const ticketsInOrder = overview.topEvents.map((e) => e.ticketsSold);
    expect(ticketsInOrder).toEqual([...ticketsInOrder].sort((a, b) => b - a));
    // Utilization is the live counters: sold / capacity of every published event.
    const events = await db()
      .selectFrom('events_with_inventory')
      .select(['id', 'sold', 'capacity'])
      .execute();
    for (const event of events) {
      const used = overview.utilization.find((u) => u.eventId === event.id);
      expect(used).toMatchObject({ sold: event.sold, capacity: event.capacity });
      expect(used!.utilization).toBeCloseTo(event.sold / event.capacity, 4);
    }
  });

  it('per-event analytics equal the event’s rows and live counters', async () => {
    for (const eventId of [...eventsA, eventB]) {
      const analytics = await get<{
        sold: number;
        held: number;
        available: number;
        capacity: number;
        bookings: number;
        revenueCents: number;
        cancellations: number;
        salesByHour: Array<{ tickets: number; revenueCents: number }>;
        waitlist: null;
      }>(
        organizerA.id === (await ownerOf(eventId)) ? organizerA : organizerB,
        `/api/v1/events/${eventId}/analytics`,
      );
      const { rows } = await sql<{
        sold: number;
        revenue: number;
        bookings: number;
        cancellations: number;
        gross_tickets: number;
        gross: number;
      }>`
        SELECT
          coalesce(sum(quantity) FILTER (WHERE status = 'confirmed'), 0)::int AS sold,
          coalesce(sum(total_cents - refund_cents) FILTER (WHERE confirmed_at IS NOT NULL), 0)::int AS revenue,
          (count(*) FILTER (WHERE confirmed_at IS NOT NULL))::int AS bookings,
          (count(*) FILTER (WHERE status = 'cancelled'))::int AS cancellations,
          coalesce(sum(quantity) FILTER (WHERE confirmed_at IS NOT NULL), 0)::int AS gross_tickets,
          coalesce(sum(total_cents) FILTER (WHERE confirmed_at IS NOT NULL), 0)::int AS gross
        FROM bookings WHERE event_id = ${eventId}`.execute(db());
      const raw = rows[0]!;
      const event = await db()
        .selectFrom('events_with_inventory')
        .select(['sold', 'held', 'available', 'capacity'])
        .where('id', '=', eventId)
        .executeTakeFirstOrThrow();
      expect(analytics).toMatchObject({
        ...event,
        bookings: raw.bookings,
        revenueCents: raw.revenue,
        cancellations: raw.cancellations,
        waitlist: null,
      });
      expect(analytics.sold).toBe(raw.sold);
      expect(analytics.salesByHour.reduce((n, h) => n + h.tickets, 0)).toBe(raw.gross_tickets);
      expect(analytics.salesByHour.reduce((n, h) => n + h.revenueCents, 0)).toBe(raw.gross);
    }
  });

  it('an organizer sees only their own events', async () => {
    const mine = await get<Overview>(organizerA, `/api/v1/me/analytics?${query()}&limit=100`);
    expect(mine.totals).toEqual(await rawFigures(range(), organizerA.id));
    expect(mine.topEvents.every((e) => eventsA.includes(e.eventId))).toBe(true);
    expect(mine.utilization.map((u) => u.eventId).sort()).toEqual([...eventsA].sort());
  });

  it('organizer A cannot read organizer B’s event analytics or export, nor the platform’s', async () => {
    await get(organizerA, `/api/v1/events/${eventB}/analytics`, 403);
    await get(organizerA, `/api/v1/admin/analytics`, 403);
    const csv = await t.inject({
      method: 'GET',
      url: `/api/v1/events/${eventB}/bookings.csv`,
      headers: organizerA.auth,
    });
    expect(csv.statusCode).toBe(403);
    const user = await t.signUp();
    await get(user, `/api/v1/me/analytics`, 403);
    await get(user, `/api/v1/events/${eventB}/analytics`, 403);
  });

  it('rebuilding the roll-ups from the bookings table gives the same rows the consumer kept', async () => {
    const snapshot = async () =>
      Promise.all(
        ['analytics_platform_hourly', 'analytics_event_hourly', 'analytics_event_daily'].map(
          async (table) =>
            (await sql`SELECT * FROM ${sql.table(table)} ORDER BY 1, 2, shard`.execute(db())).rows,
        ),
      );
    const kept = await snapshot();
    await new AnalyticsRepository(db()).rebuild();
    expect(await snapshot()).toEqual(kept);
  });

  async function ownerOf(eventId: string) {
    return (
      await db()
        .selectFrom('events')
        .select('organizer_id')
        .where('id', '=', eventId)
        .executeTakeFirstOrThrow()
    ).organizer_id;
  }
});

describe('GET /api/v1/admin/analytics ranges', () => {
  it('refuses a range that ends before it starts, or is too long, or is not a date', async () => {
    for (const q of [
      'from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z',
      'from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      'from=yesterday',
      'limit=0',
      'colour=blue',
    ]) {
      const response = await t.inject({
        method: 'GET',
        url: `/api/v1/admin/analytics?${q}`,
        headers: admin.auth,
      });
      expect(response.statusCode, q).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });
});

describe('analytics roll-ups over ranges of whole and partial days', () => {
  it('top events, totals and buckets equal a brute-force sum of the same facts', async () => {
    // Facts over five days for three events of a fresh organizer, then random ranges.
    const organizer = await t.signUp('organizer');
    const eventIds: string[] = [];
    for (let i = 0; i < 3; i++)
      eventIds.push((await createEvent(t, organizer, { capacity: 10 })).id);
    const repository = new AnalyticsRepository(db());
    const origin = Date.UTC(2025, 0, 10);
    const facts: AnalyticsFact[] = Array.from({ length: 300 }, () => {
      const cancelled = Math.random() < 0.3;
      const tickets = 1 + Math.floor(Math.random() * 4);
      return {
        eventId: eventIds[Math.floor(Math.random() * 3)]!,
        shard: Math.floor(Math.random() * 8),
        at: new Date(origin + Math.floor(Math.random() * 5 * DAY)),
        bookings: cancelled ? 0 : 1,
        tickets: cancelled ? 0 : tickets,
        revenueCents: cancelled ? 0 : tickets * 1000,
        cancellations: cancelled ? 1 : 0,
        cancelledTickets: cancelled ? tickets : 0,
        refundedCents: cancelled ? tickets * 1000 : 0,
      };
    });
    await db()
      .transaction()
      .execute(async (trx) => {
        for (const fact of facts) await repository.apply(fact, trx);
      });
    const scope = { kind: 'organizer' as const, organizerId: organizer.id };

    for (let i = 0; i < 25; i++) {
      const a = origin - DAY + Math.floor(Math.random() * 7 * DAY);
      const b = origin - DAY + Math.floor(Math.random() * 7 * DAY);
      const range = { from: new Date(Math.min(a, b)), to: new Date(Math.max(a, b) + 1) };
      // An hour counts when it overlaps the range.
      const lo = Math.floor(range.from.getTime() / HOUR) * HOUR;
      const hi = Math.ceil(range.to.getTime() / HOUR) * HOUR;
      const inside = facts.filter((f) => f.at.getTime() >= lo && f.at.getTime() < hi);
      const expected = new Map<string, number>();
      for (const f of inside) {
        expected.set(f.eventId, (expected.get(f.eventId) ?? 0) + f.tickets - f.cancelledTickets);
      }
      const ranked = await repository.topEvents(scope, range, 10);
      expect(
        new Map(ranked.map((r) => [r.eventId, r.tickets - r.cancelledTickets])),
        JSON.stringify(range),
      ).toEqual(expected);
      const totals = await repository.totals(scope, range);
      expect(totals.bookings).toBe(inside.reduce((n, f) => n + f.bookings, 0));
      expect(totals.refundedCents).toBe(inside.reduce((n, f) => n + f.refundedCents, 0));
      const days = await repository.buckets(scope, range, 'day');
      expect(days.reduce((n, d) => n + d.tickets, 0)).toBe(
        inside.reduce((n, f) => n + f.tickets, 0),
      );
    }
  });
});
