import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DB } from '../src/platform/database/schema.js';
import {
  adjacentPairs,
  checkHoldInvariants,
  createOneSectionEvent,
  RACE_SEED as SEED,
  seededRandom,
  useLoadTestApp,
} from './support/hold-invariants.js';
import { createEvent } from './support/fixtures.js';
import { usingRealDatabase } from './support/test-app.js';

// The concurrency tests pass only if checkHoldInvariants can fail. Here deliberately naive
// read-then-write holds run under the same kind of load, straight against the database, and
// the very same check must report the oversell they cause.
const REQUESTS = 100;

const load = useLoadTestApp({ buyers: 10 });
let db: Kysely<DB>;
beforeAll(() => {
  db = load.t.deps.database.db;
});

type Outcome = 'held' | 'refused' | `error ${string}`;

/**
 * The gap between a naive hold's read and its write. On PostgreSQL the requests really run
 * in parallel on the pool and a short pause is the window any read-then-write has. PGlite has
 * one connection and runs them one after another, so there the gap is a barrier: every
 * request reads before any writes (an interleaving a real server can always produce).
 */
function readWriteGap(requests: number): () => Promise<void> {
  if (usingRealDatabase) return () => new Promise((r) => setTimeout(r, 20));
  let arrived = 0;
  let open: () => void = () => undefined;
  const allRead = new Promise<void>((r) => (open = r));
  return () => {
    if (++arrived === requests) open();
    return allRead;
  };
}

/** Runs `write` in a transaction; a refusal by the database becomes an outcome, not a throw. */
async function write(work: (trx: Kysely<DB>) => Promise<void>): Promise<Outcome> {
  try {
    await db.transaction().execute(work);
    return 'held';
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code) return `error ${code}`;
    throw error;
  }
}

let holders = 0;
/** `withCounters: false` marks the hold as moving no counter (the triggers skip it). */
const insertHold = (
  trx: Kysely<DB>,
  holdId: string,
  eventId: string,
  quantity: number,
  withCounters = true,
) =>
  sql`
    INSERT INTO holds (id, event_id, user_id, quantity, total_cents, currency, expires_at,
                       counters_moved)
    VALUES (${holdId}, ${eventId}, ${load.users[holders++ % load.users.length]!.id}, ${quantity},
            ${quantity * 2500}, 'EUR', now() + interval '5 minutes', ${!withCounters})`.execute(
    trx,
  );

/** Checks the seats, then takes them without re-checking: the bug this file is about. */
async function naiveSeatHold(eventId: string, seatIds: string[], gap: () => Promise<void>) {
  const { rows } = await sql<{ status: string }>`
    SELECT status FROM event_seats
    WHERE event_id = ${eventId} AND id = ANY(${seatIds}::uuid[])`.execute(db);
  const free = rows.length === seatIds.length && rows.every((r) => r.status === 'available');
  await gap();
  if (!free) return 'refused';
  return write(async (trx) => {
    const holdId = randomUUID();
    // Seats only: the counters, whose CHECKs would stop some of these writes, are left alone.
    await insertHold(trx, holdId, eventId, seatIds.length, false);
    for (const seatId of seatIds) {
      await sql`INSERT INTO hold_seats (hold_id, seat_id) VALUES (${holdId}, ${seatId})`.execute(
        trx,
      );
    }
    // No "AND status = 'available'": a seat taken since the read is simply taken again.
    await sql`
      UPDATE event_seats SET status = 'held', hold_id = ${holdId}
      WHERE id = ANY(${seatIds}::uuid[])`.execute(trx);
  });
}

/**
 * Counts what is left from the holds table, then inserts without the counters: the schema's
 * counter triggers are switched off for its transaction (`session_replication_role = replica`
 * skips ordinary triggers), as in a design that keeps no counter, so there is no CHECK to hit.
 */
async function naiveCountedHold(eventId: string, quantity: number, gap: () => Promise<void>) {
  const { rows } = await sql<{ free: number }>`
    SELECT (e.capacity - e.sold - COALESCE((SELECT SUM(h.quantity) FROM holds h
             WHERE h.event_id = e.id AND h.status = 'active'), 0))::int AS free
    FROM events_with_inventory e WHERE e.id = ${eventId}`.execute(db);
  const free = (rows[0]?.free ?? 0) >= quantity;
  await gap();
  if (!free) return 'refused';
  return write(async (trx) => {
    await sql`SET LOCAL session_replication_role = replica`.execute(trx);
    await insertHold(trx, randomUUID(), eventId, quantity);
  });
}

/**
 * Reads the counter, then inserts the hold, whose commit moves its stock bucket's counter
 * (migrations 008 and 013; a hold inserted outside the batch statement is in bucket 0).
 */
async function naiveCounterHold(eventId: string, quantity: number, gap: () => Promise<void>) {
  const { rows } = await sql<{ available: number }>`
    SELECT available FROM events_with_inventory WHERE id = ${eventId}`.execute(db);
  const free = (rows[0]?.available ?? 0) >= quantity;
  await gap();
  if (!free) return 'refused';
  return write((trx) => insertHold(trx, randomUUID(), eventId, quantity).then(() => undefined));
}

const tallyOutcomes = (outcomes: Outcome[]) =>
  outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});

const quantities = (seed: number) => {
  const random = seededRandom(seed);
  return Array.from({ length: REQUESTS }, () => 1 + Math.floor(random() * 4));
};

describe('checkHoldInvariants against deliberately naive holds', () => {
  it('reports one seat in two live holds when seats are checked, then taken', async () => {
    const { rows, eventId } = await createOneSectionEvent(load.t, load.organizer, 2, 10);
    const pairs = adjacentPairs(rows);
    const random = seededRandom(SEED);
    // The first two overlap for sure; the rest are random neighbouring pairs.
    const asked = [pairs[0]!, pairs[1]!].concat(
      Array.from({ length: REQUESTS - 2 }, () => pairs[Math.floor(random() * pairs.length)]!),
    );
    const gap = readWriteGap(asked.length);
    const outcomes = await Promise.all(
      asked.map((seatIds) => naiveSeatHold(eventId, seatIds, gap)),
    );

    const report = await checkHoldInvariants(db, eventId);
    console.info(`naive seats seed=${SEED}`, tallyOutcomes(outcomes), report.violations);
    expect(outcomes).toContain('held');
    // Seats were sold twice.
    expect(report.violations.map((v) => v.kind)).toContain('seat-in-two-live-holds');
  });

  it('reports an oversell when general admission is counted from the holds', async () => {
    const capacity = 40;
    const event = await createEvent(load.t, load.organizer, { capacity, name: 'Naive GA' });
    const asked = quantities(SEED + 1);
    const gap = readWriteGap(asked.length);
    const outcomes = await Promise.all(asked.map((q) => naiveCountedHold(event.id, q, gap)));

    const report = await checkHoldInvariants(db, event.id);
    console.info(`naive counted GA seed=${SEED + 1}`, tallyOutcomes(outcomes), report.violations);
    expect(report.liveHoldQuantity).toBeGreaterThan(capacity);
    expect(report.violations.map((v) => v.kind)).toEqual(
      expect.arrayContaining(['oversold', 'held-counter-mismatch']),
    );
  });

  it('finds nothing when the counters CHECK refuses the naive oversell', async () => {
    const capacity = 40;
    const event = await createEvent(load.t, load.organizer, {
      capacity,
      name: 'Naive GA counters',
    });
    const asked = quantities(SEED + 2);
    const gap = readWriteGap(asked.length);
    const outcomes = await Promise.all(asked.map((q) => naiveCounterHold(event.id, q, gap)));

    const report = await checkHoldInvariants(db, event.id);
    console.info(`naive counter GA seed=${SEED + 2}`, tallyOutcomes(outcomes), report.violations);
    // The stale read let everyone try; CHECK (available >= 0) turned the excess away (23514).
    expect(outcomes).toContain('error 23514');
    expect(report.violations).toEqual([]);
    expect(report.held + report.sold).toBeLessThanOrEqual(capacity);
  });
});
