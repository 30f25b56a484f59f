import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../../platform/database/schema.js';

/** One booking's contribution to the roll-ups: a confirmation or a cancellation. */
export interface AnalyticsFact {
  eventId: string;
  /** Which of the roll-up row's shards takes it (0–7): spreads one hour's writers. */
  shard: number;
  at: Date;
  bookings: number;
  tickets: number;
  revenueCents: number;
  cancellations: number;
  cancelledTickets: number;
  refundedCents: number;
}

/** Whose bookings a question is about: everything (admin) or one organizer's events. */
export type AnalyticsScope = { kind: 'platform' } | { kind: 'organizer'; organizerId: string };

/**
 * Hours that overlap [from, to): an hour bucket is in when it starts before `to` and ends
 * after `from`. Either side may be open.
 */
export interface HourRange {
  from?: Date;
  to?: Date;
}

export interface Counters {
  bookings: number;
  tickets: number;
  revenueCents: number;
  cancellations: number;
  cancelledTickets: number;
  refundedCents: number;
}

export interface Bucket extends Counters {
  start: Date;
}

export interface EventRanking extends Counters {
  eventId: string;
  name: string;
}

export interface Utilization {
  eventId: string;
  name: string;
  status: string;
  capacity: number;
  sold: number;
  held: number;
  available: number;
}

const COUNTERS = sql.raw(`
  coalesce(sum(bookings), 0)::int AS bookings,
  coalesce(sum(tickets), 0)::int AS tickets,
  coalesce(sum(revenue_cents), 0)::bigint AS revenue_cents,
  coalesce(sum(cancellations), 0)::int AS cancellations,
  coalesce(sum(cancelled_tickets), 0)::int AS cancelled_tickets,
  coalesce(sum(refunded_cents), 0)::bigint AS refunded_cents`);

interface CounterRow {
  bookings: number;
  tickets: number;
  revenue_cents: string | number;
  cancellations: number;
  cancelled_tickets: number;
  refunded_cents: string | number;
}

const toCounters = (row: CounterRow | undefined): Counters => ({
  bookings: row?.bookings ?? 0,
  tickets: row?.tickets ?? 0,
  revenueCents: Number(row?.revenue_cents ?? 0),
  cancellations: row?.cancellations ?? 0,
  cancelledTickets: row?.cancelled_tickets ?? 0,
  refundedCents: Number(row?.refunded_cents ?? 0),
});

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const floorTo = (date: Date, unit: number) => new Date(Math.floor(date.getTime() / unit) * unit);
const ceilTo = (date: Date, unit: number) => new Date(Math.ceil(date.getTime() / unit) * unit);

const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/** The range as whole hours: buckets starting in [from, to). */
function hoursOf(range: HourRange): { from?: Date; to?: Date } {
  return {
    from: range.from && floorTo(range.from, HOUR_MS),
    to: range.to && ceilTo(range.to, HOUR_MS),
  };
}

function hourFilter(column: string, range: HourRange): RawBuilder<unknown> {
  const { from, to } = hoursOf(range);
  const col = sql.ref(column);
  return sql`${from ? sql`AND ${col} >= ${from}` : sql``} ${to ? sql`AND ${col} < ${to}` : sql``}`;
}

const ADD_COUNTERS = sql.raw(`
  bookings = t.bookings + EXCLUDED.bookings,
  tickets = t.tickets + EXCLUDED.tickets,
  revenue_cents = t.revenue_cents + EXCLUDED.revenue_cents,
  cancellations = t.cancellations + EXCLUDED.cancellations,
  cancelled_tickets = t.cancelled_tickets + EXCLUDED.cancelled_tickets,
  refunded_cents = t.refunded_cents + EXCLUDED.refunded_cents`);
const FACT_COLUMNS = sql.raw(
  'bookings, tickets, revenue_cents, cancellations, cancelled_tickets, refunded_cents, shard',
);

/**
 * One statement adding the facts `source` selects (event_id, at, the six counters, shard) to
 * the three roll-ups, after the CTEs in `before` (each ending in a comma). Every writer runs
 * this same statement, whose row locks PostgreSQL always takes in the same order (the main
 * INSERT, then the CTEs'), so concurrent consumers do not deadlock each other.
 */
function addFacts(before: RawBuilder<unknown>, source: RawBuilder<unknown>) {
  // Facts are summed per target row first (one statement may carry a batch of them, and an
  // upsert may touch a row only once), and written in key order.
  return sql`
    WITH ${before} fact AS (${source}),
    platform_hour AS (
      INSERT INTO analytics_platform_hourly AS t (hour, ${FACT_COLUMNS})
      SELECT date_trunc('hour', at, 'UTC') AS hour, ${SUMMED_FACTS} FROM fact
      GROUP BY 1, shard ORDER BY 1, shard
      ON CONFLICT (hour, shard) DO UPDATE SET ${ADD_COUNTERS}
    ), event_hour AS (
      INSERT INTO analytics_event_hourly AS t (event_id, hour, ${FACT_COLUMNS})
      SELECT event_id, date_trunc('hour', at, 'UTC') AS hour, ${SUMMED_FACTS} FROM fact
      GROUP BY 1, 2, shard ORDER BY 1, 2, shard
      ON CONFLICT (event_id, hour, shard) DO UPDATE SET ${ADD_COUNTERS}
    )
    INSERT INTO analytics_event_daily AS t (event_id, day, ${FACT_COLUMNS})
    SELECT event_id, (at AT TIME ZONE 'UTC')::date AS day, ${SUMMED_FACTS} FROM fact
    GROUP BY 1, 2, shard ORDER BY 1, 2, shard
    ON CONFLICT (event_id, day, shard) DO UPDATE SET ${ADD_COUNTERS}`;
}

const SUMMED_FACTS = sql.raw(`
  sum(bookings)::int, sum(tickets)::int, sum(revenue_cents)::bigint, sum(cancellations)::int,
  sum(cancelled_tickets)::int, sum(refunded_cents)::bigint, shard`);

/** Roll-ups maintained from the booking messages, and the questions the dashboards ask. */
export class AnalyticsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Adds one fact to the three roll-ups, in the caller's transaction (tests, seeding). */
  async apply(fact: AnalyticsFact, trx: Kysely<DB>): Promise<void> {
    await addFacts(
      sql``,
      sql`
        SELECT ${fact.eventId}::uuid AS event_id, ${fact.at}::timestamptz AS at,
               ${fact.bookings}::int AS bookings, ${fact.tickets}::int AS tickets,
               ${fact.revenueCents}::bigint AS revenue_cents,
               ${fact.cancellations}::int AS cancellations,
               ${fact.cancelledTickets}::int AS cancelled_tickets,
               ${fact.refundedCents}::bigint AS refunded_cents,
               ${fact.shard}::smallint AS shard`,
    ).execute(trx);
  }

  /**
   * Adds a batch of bookings' confirmations and cancellations, as their rows record them, to
   * the roll-ups, each only if this statement took its message (at most once per message):
   * one autocommitted statement for the whole batch.
   */
  async addBookingsOnce(
    consumer: string,
    items: Array<{
      messageId: string;
      bookingId: string;
      kind: 'confirmed' | 'cancelled';
      shard: number;
    }>,
  ): Promise<void> {
    if (items.length === 0) return;
    await addFacts(
      sql`
        item AS (
          SELECT DISTINCT ON (message_id) *
          FROM unnest(${items.map((i) => i.messageId)}::uuid[], ${items.map((i) => i.bookingId)}::uuid[],
                      ${items.map((i) => i.kind)}::text[], ${items.map((i) => i.shard)}::smallint[])
               AS x(message_id, booking_id, kind, shard)
        ), taken AS (
          INSERT INTO processed_messages (consumer, message_id)
          SELECT ${consumer}, message_id FROM item
          ON CONFLICT DO NOTHING
          RETURNING message_id
        ), counted AS (
          SELECT b.event_id, item.shard, item.kind,
                 CASE item.kind WHEN 'confirmed' THEN b.confirmed_at ELSE b.cancelled_at END AS at,
                 b.quantity, b.total_cents, b.refund_cents
          FROM item JOIN taken USING (message_id) JOIN bookings b ON b.id = item.booking_id
        ),`,
      sql`
        SELECT event_id, at,
               (kind = 'confirmed')::int AS bookings,
               CASE kind WHEN 'confirmed' THEN quantity ELSE 0 END AS tickets,
               CASE kind WHEN 'confirmed' THEN total_cents ELSE 0 END::bigint AS revenue_cents,
               (kind = 'cancelled')::int AS cancellations,
               CASE kind WHEN 'cancelled' THEN quantity ELSE 0 END AS cancelled_tickets,
               CASE kind WHEN 'cancelled' THEN refund_cents ELSE 0 END::bigint AS refunded_cents,
               shard
        FROM counted WHERE at IS NOT NULL`,
    ).execute(this.db);
  }

  /** Sums over the hours overlapping the range. */
  async totals(scope: AnalyticsScope, range: HourRange): Promise<Counters> {
    const { rows } = await sql<CounterRow>`
      SELECT ${COUNTERS} FROM ${this.hourly(scope)} h WHERE true ${hourFilter('h.hour', range)}`.execute(
      this.db,
    );
    return toCounters(rows[0]);
  }

  /** Counters per hour or per UTC day, oldest first, over the hours overlapping the range. */
  async buckets(scope: AnalyticsScope, range: HourRange, size: 'hour' | 'day'): Promise<Bucket[]> {
    const start = size === 'hour' ? sql`h.hour` : sql`date_trunc('day', h.hour, 'UTC')`;
    const { rows } = await sql<CounterRow & { start: Date }>`
      SELECT ${start} AS start, ${COUNTERS}
      FROM ${this.hourly(scope)} h WHERE true ${hourFilter('h.hour', range)}
      GROUP BY 1 ORDER BY 1`.execute(this.db);
    return rows.map((row) => ({ start: row.start, ...toCounters(row) }));
  }

  /** One event's counters per hour, oldest first. */
  async eventHours(eventId: string, range: HourRange): Promise<Bucket[]> {
    const { rows } = await sql<CounterRow & { start: Date }>`
      SELECT h.hour AS start, ${COUNTERS}
      FROM analytics_event_hourly h WHERE h.event_id = ${eventId} ${hourFilter('h.hour', range)}
      GROUP BY 1 ORDER BY 1`.execute(this.db);
    return rows.map((row) => ({ start: row.start, ...toCounters(row) }));
  }

  /** One event's counters over its whole life (its days, not its hours: fewer rows). */
  async eventTotals(eventId: string): Promise<Counters> {
    const { rows } = await sql<CounterRow>`
      SELECT ${COUNTERS} FROM analytics_event_daily WHERE event_id = ${eventId}`.execute(this.db);
    return toCounters(rows[0]);
  }

  /**
   * Events ranked by net tickets sold over the range. Whole UTC days inside the range come
   * from the daily roll-up and only the partial days at its edges from the hourly one, so a
   * year-long range reads one row per event and day.
   */
  async topEvents(scope: AnalyticsScope, range: HourRange, limit: number): Promise<EventRanking[]> {
    const owner =
      scope.kind === 'organizer' ? sql`AND e.organizer_id = ${scope.organizerId}` : sql``;
    const { from, to } = hoursOf(range);
    // [fullFrom, fullTo): the whole UTC days inside the range (either side may be open).
    const fullFrom = from && ceilTo(from, DAY_MS);
    const fullTo = to && floorTo(to, DAY_MS);
    const columns = sql.raw(
      'event_id, bookings, tickets, revenue_cents, cancellations, cancelled_tickets, refunded_cents',
    );
    const hours = (start?: Date, end?: Date) =>
      sql`SELECT ${columns} FROM analytics_event_hourly WHERE true
        ${start ? sql`AND hour >= ${start}` : sql``} ${end ? sql`AND hour < ${end}` : sql``}`;
    let facts: RawBuilder<unknown>;
    if (fullFrom && fullTo && fullFrom >= fullTo) {
      facts = hours(from, to); // no whole day inside: hours only
    } else {
      const parts = [
        sql`SELECT ${columns} FROM analytics_event_daily WHERE true
          ${fullFrom ? sql`AND day >= ${isoDay(fullFrom)}::date` : sql``}
          ${fullTo ? sql`AND day < ${isoDay(fullTo)}::date` : sql``}`,
      ];
      if (from && fullFrom && from < fullFrom) parts.push(hours(from, fullFrom));
      if (to && fullTo && fullTo < to) parts.push(hours(fullTo, to));
      facts = sql.join(parts, sql` UNION ALL `);
    }
    const { rows } = await sql<CounterRow & { event_id: string; name: string }>`
      WITH facts AS (${facts})
      SELECT f.event_id, e.name, ${COUNTERS}
      FROM facts f JOIN events e ON e.id = f.event_id ${owner}
      GROUP BY f.event_id, e.name
      ORDER BY sum(f.tickets) - sum(f.cancelled_tickets) DESC, sum(f.bookings) DESC, f.event_id
      LIMIT ${limit}`.execute(this.db);
    return rows.map((row) => ({ eventId: row.event_id, name: row.name, ...toCounters(row) }));
  }

  /** Published and cancelled events by the share of their capacity sold now, fullest first. */
  async utilization(scope: AnalyticsScope, limit: number): Promise<Utilization[]> {
    let query = this.db
      .selectFrom('events_with_inventory')
      .select(['id', 'name', 'status', 'capacity', 'sold', 'held', 'available'])
      .where('status', '<>', 'draft');
    if (scope.kind === 'organizer') query = query.where('organizer_id', '=', scope.organizerId);
    const rows = await query
      .orderBy(sql`sold::float8 / capacity`, 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      eventId: row.id,
      name: row.name,
      status: row.status,
      capacity: row.capacity,
      sold: row.sold,
      held: row.held,
      available: row.available,
    }));
  }

  /** The hourly roll-up a scope reads: the platform's own, or its events' summed per hour. */
  private hourly(scope: AnalyticsScope): RawBuilder<unknown> {
    if (scope.kind === 'platform') return sql`analytics_platform_hourly`;
    return sql`(
      SELECT eh.* FROM analytics_event_hourly eh
      JOIN events e ON e.id = eh.event_id AND e.organizer_id = ${scope.organizerId})`;
  }

  /** Recomputes every roll-up from the bookings table (see migrations/004_analytics.sql). */
  async rebuild(): Promise<void> {
    await sql`SELECT analytics_rebuild()`.execute(this.db);
  }
}
