/**
 * "Never oversell, never lose or double-take money", read straight from the tables and the
 * payment provider's ledger after a scenario. The per-event checks are those of
 * test/support/hold-invariants.ts and the crash-recovery test, gathered here (bench/ cannot
 * import test helpers that depend on vitest).
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../src/platform/database/schema.js';
import { sleep } from './processes.js';

export interface Violation {
  kind: string;
  eventId?: string;
  detail: string;
}

export interface EventInventory {
  eventId: string;
  seating: string;
  capacity: number;
  available: number;
  held: number;
  sold: number;
  tickets: number;
  confirmedBookings: number;
  liveHolds: number;
}

export interface InvariantReport {
  events: EventInventory[];
  bookings: Record<string, number>;
  ledger: { charges: number; refunds: number; declines: number };
  unsettled: { pendingBookings: number; unfinishedSagas: number };
  violations: Violation[];
}

export interface LedgerEntry {
  kind: 'charge' | 'refund' | 'decline';
  id: string;
  idempotencyKey: string;
  amountCents: number;
  chargeId?: string;
}

const sample = (rows: unknown[]) =>
  `${rows.length} row(s), e.g. ${JSON.stringify(rows.slice(0, 3))}`;

/** Waits (up to `ms`) until no booking is pending and no saga is unfinished. */
export async function waitUntilSettled(db: Kysely<DB>, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const row = (
      await sql<{ pending: number; sagas: number }>`
        SELECT (SELECT count(*)::int FROM bookings WHERE status = 'pending') AS pending,
               (SELECT count(*)::int FROM sagas WHERE status IN ('running', 'compensating')) AS sagas`.execute(
        db,
      )
    ).rows[0]!;
    if ((row.pending === 0 && row.sagas === 0) || Date.now() > deadline) {
      return { pendingBookings: row.pending, unfinishedSagas: row.sagas };
    }
    await sleep(500);
  }
}

export async function checkInvariants(
  db: Kysely<DB>,
  eventIds: string[],
  ledgerEntries: LedgerEntry[] | null,
  unsettled: { pendingBookings: number; unfinishedSagas: number },
): Promise<InvariantReport> {
  const violations: Violation[] = [];
  const rows = async <R>(query: { execute(db: Kysely<DB>): Promise<{ rows: R[] }> }) =>
    (await query.execute(db)).rows;
  const flag = (kind: string, eventId: string | undefined, found: unknown[]) => {
    if (found.length > 0) violations.push({ kind, eventId, detail: sample(found) });
  };
  const events: EventInventory[] = [];
  // `--compare` judges builds from before migration 013 too: they keep the counters on the
  // event row and have no stock buckets.
  const [schema] = await rows(
    sql<{ buckets: boolean }>`SELECT to_regclass('event_stock') IS NOT NULL AS buckets`,
  );
  const buckets = schema!.buckets;
  const inventory = sql.table(buckets ? 'events_with_inventory' : 'events');

  for (const eventId of eventIds) {
    const [event] = await rows(
      sql<{
        seating: string;
        capacity: number;
        available: number;
        held: number;
        sold: number;
      }>`SELECT seating, capacity, available, held, sold FROM ${inventory} WHERE id = ${eventId}`,
    );
    if (!event) throw new Error(`no event ${eventId}`);
    const [live] = await rows(sql<{ n: number; q: number }>`
      SELECT count(*)::int AS n, COALESCE(sum(quantity), 0)::int AS q
      FROM holds WHERE event_id = ${eventId} AND status = 'active'`);
    const [issued] = await rows(sql<{ tickets: number; bookings: number; quantity: number }>`
      SELECT (SELECT count(*)::int FROM tickets WHERE event_id = ${eventId} AND status <> 'cancelled') AS tickets,
             (SELECT count(*)::int FROM bookings WHERE event_id = ${eventId} AND status = 'confirmed') AS bookings,
             (SELECT COALESCE(sum(quantity), 0)::int FROM bookings
               WHERE event_id = ${eventId} AND status = 'confirmed') AS quantity`);
    const { capacity, available, held, sold } = event;
    events.push({
      eventId,
      seating: event.seating,
      capacity,
      available,
      held,
      sold,
      tickets: issued!.tickets,
      confirmedBookings: issued!.bookings,
      liveHolds: live!.n,
    });

    // Counters: sold <= capacity, sold + held + available = capacity.
    if (sold > capacity) flag('oversold', eventId, [{ capacity, sold }]);
    if (available + held + sold !== capacity || available < 0 || held < 0 || sold < 0) {
      flag('counters-unbalanced', eventId, [{ capacity, available, held, sold }]);
    }
    if (live!.q + sold > capacity) {
      flag('live-holds-plus-sold-over-capacity', eventId, [{ capacity, live: live!.q, sold }]);
    }
    if (held !== live!.q) flag('held-counter-mismatch', eventId, [{ held, liveHolds: live!.q }]);
    if (buckets) {
      // Each stock bucket holds what its live holds took and has sold what its holds' bookings
      // bought; the buckets add up to the capacity (migration 013).
      flag(
        'stock-bucket-mismatch',
        eventId,
        await rows(sql`
          SELECT * FROM (
            SELECT s.bucket, s.held, s.sold, sum(s.capacity) OVER () AS buckets_capacity,
                   (SELECT coalesce(sum(h.quantity), 0) FROM holds h
                    WHERE h.event_id = s.event_id AND h.bucket = s.bucket
                      AND h.status = 'active') AS live_held,
                   (SELECT coalesce(sum(b.quantity), 0) FROM bookings b JOIN holds h ON h.id = b.hold_id
                    WHERE b.event_id = s.event_id AND h.bucket = s.bucket
                      AND b.status = 'confirmed') AS bought
            FROM event_stock s WHERE s.event_id = ${eventId}) x
          WHERE held <> live_held OR sold <> bought OR buckets_capacity <> ${capacity}`),
      );
    }

    // Tickets = seats sold = confirmed quantity.
    if (issued!.tickets !== sold || issued!.quantity !== sold) {
      flag('tickets-not-equal-sold', eventId, [
        { sold, tickets: issued!.tickets, confirmedQuantity: issued!.quantity },
      ]);
    }
    // Every confirmed booking converted its hold; nothing else converted one.
    flag(
      'booking-hold-mismatch',
      eventId,
      await rows(sql`
        SELECT b.id, b.status, h.status AS hold_status FROM bookings b JOIN holds h ON h.id = b.hold_id
        WHERE b.event_id = ${eventId} AND (b.status = 'confirmed') <> (h.status = 'converted')
          AND b.status <> 'failed'`),
    );

    // A seat in two live holds, or in two bookings.
    flag(
      'seat-in-two-live-holds',
      eventId,
      await rows(sql`
        SELECT hs.seat_id, string_agg(h.id::text, ',') AS holds
        FROM hold_seats hs JOIN holds h ON h.id = hs.hold_id
        WHERE h.event_id = ${eventId} AND h.status = 'active'
        GROUP BY hs.seat_id HAVING count(*) > 1`),
    );
    flag(
      'seat-in-two-bookings',
      eventId,
      await rows(sql`
        SELECT t.seat_id, string_agg(t.booking_id::text, ',') AS bookings
        FROM tickets t
        WHERE t.event_id = ${eventId} AND t.seat_id IS NOT NULL AND t.status <> 'cancelled'
        GROUP BY t.seat_id HAVING count(*) > 1`),
    );

    if (event.seating === 'reserved') {
      flag(
        'held-seat-without-live-hold',
        eventId,
        await rows(sql`
          SELECT s.id, s.hold_id, h.status AS hold_status
          FROM event_seats s LEFT JOIN holds h ON h.id = s.hold_id
          WHERE s.event_id = ${eventId} AND s.status = 'held'
            AND (h.id IS NULL OR h.status <> 'active' OR h.event_id <> s.event_id)`),
      );
      flag(
        'live-hold-seat-not-held-by-it',
        eventId,
        await rows(sql`
          SELECT hs.hold_id, hs.seat_id, s.status, s.hold_id AS seat_hold_id
          FROM hold_seats hs JOIN holds h ON h.id = hs.hold_id JOIN event_seats s ON s.id = hs.seat_id
          WHERE h.event_id = ${eventId} AND h.status = 'active'
            AND (s.status <> 'held' OR s.hold_id IS DISTINCT FROM hs.hold_id)`),
      );
      flag(
        'hold-quantity-mismatch',
        eventId,
        await rows(sql`
          SELECT h.id, h.quantity, count(hs.seat_id)::int AS seats
          FROM holds h LEFT JOIN hold_seats hs ON hs.hold_id = h.id
          WHERE h.event_id = ${eventId} AND h.status = 'active'
          GROUP BY h.id, h.quantity HAVING count(hs.seat_id) <> h.quantity`),
      );
      flag(
        'sold-seat-without-confirmed-booking',
        eventId,
        await rows(sql`
          SELECT s.id, s.booking_id, b.status FROM event_seats s LEFT JOIN bookings b ON b.id = s.booking_id
          WHERE s.event_id = ${eventId} AND s.status = 'sold'
            AND (b.id IS NULL OR b.status <> 'confirmed')`),
      );
      flag(
        'sold-seat-without-its-ticket',
        eventId,
        await rows(sql`
          SELECT s.id, s.booking_id FROM event_seats s
          WHERE s.event_id = ${eventId} AND s.status = 'sold' AND NOT EXISTS (
            SELECT 1 FROM tickets t WHERE t.seat_id = s.id AND t.booking_id = s.booking_id
              AND t.status <> 'cancelled')`),
      );
      const byStatus = await rows(sql<{ status: string; n: number }>`
        SELECT status, count(*)::int AS n FROM event_seats WHERE event_id = ${eventId} GROUP BY status`);
      const count = (status: string) => byStatus.find((r) => r.status === status)?.n ?? 0;
      const seats = { available: count('available'), held: count('held'), sold: count('sold') };
      if (
        seats.available !== available ||
        seats.held !== held ||
        seats.sold !== sold ||
        seats.available + seats.held + seats.sold !== capacity
      ) {
        flag('seat-rows-disagree-with-counters', eventId, [
          { seats, counters: { capacity, available, held, sold } },
        ]);
      }
    }
  }

  // Money: every confirmed booking has exactly one successful charge, of its amount, never
  // refunded; no booking is charged twice; money taken for a failed booking went back.
  const bookings = await rows(
    sql<{
      id: string;
      status: string;
      total_cents: number;
      payment_ref: string | null;
    }>`SELECT id, status, total_cents, payment_ref FROM bookings WHERE event_id IN (${sql.join(eventIds)})`,
  );
  const byStatus: Record<string, number> = {};
  for (const b of bookings) byStatus[b.status] = (byStatus[b.status] ?? 0) + 1;
  const ledger = { charges: 0, refunds: 0, declines: 0 };
  if (ledgerEntries === null) {
    violations.push({
      kind: 'no-ledger',
      detail: 'the payment provider ran in process; charges cannot be checked',
    });
  } else {
    const charges = new Map<string, LedgerEntry[]>();
    const refunds = new Map<string, LedgerEntry[]>();
    for (const entry of ledgerEntries) {
      if (entry.kind === 'decline') ledger.declines++;
      const into = entry.kind === 'charge' ? charges : entry.kind === 'refund' ? refunds : null;
      if (!into) continue;
      if (entry.kind === 'charge') ledger.charges++;
      else ledger.refunds++;
      into.set(entry.idempotencyKey, [...(into.get(entry.idempotencyKey) ?? []), entry]);
    }
    const problems: Record<string, unknown[]> = {
      'confirmed-booking-without-exactly-one-charge': [],
      'charge-amount-differs': [],
      'confirmed-booking-refunded': [],
      'payment-ref-is-not-the-charge': [],
      'failed-booking-charged-not-refunded': [],
    };
    for (const b of bookings) {
      const list = charges.get(b.id) ?? [];
      if (b.status === 'confirmed') {
        if (list.length !== 1) {
          problems['confirmed-booking-without-exactly-one-charge']!.push({
            id: b.id,
            charges: list.length,
          });
          continue;
        }
        const charge = list[0]!;
        if (charge.amountCents !== b.total_cents) {
          problems['charge-amount-differs']!.push({ id: b.id, charge: charge.amountCents });
        }
        if (charge.id !== b.payment_ref) {
          problems['payment-ref-is-not-the-charge']!.push({ id: b.id, ref: b.payment_ref });
        }
        if (refunds.has(`refund:${b.id}`)) problems['confirmed-booking-refunded']!.push(b.id);
      } else if (b.status === 'failed' && list.length > 0 && !refunds.has(`refund:${b.id}`)) {
        problems['failed-booking-charged-not-refunded']!.push(b.id);
      }
    }
    for (const [kind, found] of Object.entries(problems)) flag(kind, undefined, found);
    flag(
      'charged-twice',
      undefined,
      [...charges].filter(([, list]) => list.length > 1).map(([key]) => key),
    );
  }
  if (unsettled.pendingBookings > 0 || unsettled.unfinishedSagas > 0) {
    flag('unsettled-after-30s', undefined, [unsettled]);
  }
  return { events, bookings: byStatus, ledger, unsettled, violations };
}
