import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUsers } from './support/bulk-users.js';
import {
  checkHoldInvariants,
  createOneSectionEvent,
  liveHoldsOf,
  postHold,
  RACE_SEED as SEED,
  seededRandom,
  tally,
  useLoadTestApp,
} from './support/hold-invariants.js';
import { holdBatches, withEventLockedUntilQueued } from './support/hold-batches.js';
import { StatementCounter } from './support/statement-counter.js';
import { usingRealDatabase } from './support/test-app.js';

/**
 * 1,000 buyers, one request each, all at once, for 1-2 random seats of a 50-seat event: the
 * requests queue in the hold batcher and go to the database dozens at a time (one statement
 * per batch), so seats are contested inside a batch as well as between batches. Nothing is
 * released meanwhile, so whatever a request was refused must be held by someone else at the
 * end, and whatever it was given must be its own.
 *
 * Twice: as the requests come (how much they batch up then depends on the mode: against
 * PostgreSQL they meet statements in flight on the network; PGlite runs each statement on this
 * thread, so whether a request finds one in flight depends on how the app yields to the event
 * loop), and queued behind a locked event row first, so that in both modes every statement
 * after the first carries a full batch.
 */
const BUYERS = 1000;
const ROWS = 5;
const SEATS_PER_ROW = 10;
const CAPACITY = ROWS * SEATS_PER_ROW;

const counter = new StatementCounter();
// Registered before the app's hooks: installed before the app opens its database, restored
// after it has closed.
beforeAll(() => counter.install());
afterAll(() => counter.restore());
const load = useLoadTestApp({ buyers: (t) => insertUsers(t, BUYERS) });

describe('hold batcher under a stampede', () => {
  for (const queuedFirst of [false, true]) {
    it(
      `${BUYERS} concurrent holds on a ${CAPACITY}-seat event never put a seat in two holds ` +
        `(${queuedFirst ? 'queued behind a locked event row' : 'as they come'})`,
      { timeout: 120_000 },
      () => stampede(queuedFirst),
    );
  }
});

async function stampede(queuedFirst: boolean): Promise<void> {
  const { eventId, rows } = await createOneSectionEvent(
    load.t,
    load.organizer,
    ROWS,
    SEATS_PER_ROW,
  );
  const seats = rows.flat();
  expect(seats).toHaveLength(CAPACITY);
  expect(new Set(load.users.map((b) => b.id)).size).toBe(BUYERS);

  const seed = SEED + (queuedFirst ? 1 : 0);
  const random = seededRandom(seed);
  const requests = load.users.map((user) => {
    const first = seats[Math.floor(random() * CAPACITY)]!;
    if (random() < 0.5) return { user, seatIds: [first] };
    let second = first;
    while (second === first) second = seats[Math.floor(random() * CAPACITY)]!;
    return { user, seatIds: [first, second] };
  });

  const started = performance.now();
  const fire = () =>
    Promise.all(requests.map((r) => postHold(load.t, r.user, eventId, { seatIds: r.seatIds })));
  const { result: responses, statements } = await counter.during(() =>
    queuedFirst ? withEventLockedUntilQueued(load.t, eventId, BUYERS, fire) : fire(),
  );
  const ms = Math.round(performance.now() - started);
  const batches = holdBatches(statements).map((b) => b.length);
  console.info(
    `stampede (${queuedFirst ? 'queued first' : 'as they come'}) seed=${seed}: ${BUYERS} holds in ${ms} ms, ${batches.length} statements ` +
      `(largest batch ${Math.max(...batches)})`,
    tally(responses),
  );

  // Through the batcher: every request reached the statement once, in batches of at most
  // BOOKING_BATCH_MAX.
  const maxBatch = load.t.deps.config.bookingBatchMax;
  expect(batches.reduce((a, b) => a + b, 0)).toBe(BUYERS);
  expect(Math.max(...batches)).toBeLessThanOrEqual(maxBatch);
  if (queuedFirst) {
    // The first alone, then the queue in full batches.
    const rest = BUYERS - 1;
    expect(batches).toEqual([
      1,
      ...Array.from({ length: Math.floor(rest / maxBatch) }, () => maxBatch),
      ...(rest % maxBatch ? [rest % maxBatch] : []),
    ]);
  } else if (usingRealDatabase) {
    // Statements in flight on another connection's round trip: the rest batch up behind them.
    expect(batches.length).toBeLessThan(BUYERS / 4);
  }

  // Only a hold or a taken seat: no errors, no gate refusals (every buyer is different).
  const codeOf = (i: number) => responses[i]!.json<{ code?: string }>().code;
  const unexpected = responses
    .map((r, i) => ({ r, i }))
    .filter(({ r, i }) => r.statusCode !== 201 && codeOf(i) !== 'SEAT_UNAVAILABLE')
    .map(({ r }) => `${r.statusCode} ${r.body}`);
  expect(unexpected).toEqual([]);

  // The tables: one live hold per seat at most, counters balanced, seats agree.
  const db = load.t.deps.database.db;
  const report = await checkHoldInvariants(db, eventId);
  expect(report.violations).toEqual([]);
  const live = await liveHoldsOf(db, eventId);
  const holderOf = new Map<string, { holdId: string; userId: string }>();
  for (const hold of live) {
    for (const seatId of hold.seatIds) {
      expect(holderOf.has(seatId), `seat ${seatId} in two live holds`).toBe(false);
      holderOf.set(seatId, { holdId: hold.id, userId: hold.userId });
    }
    expect(hold.seatIds).toHaveLength(hold.quantity);
  }
  const heldSeats = holderOf.size;
  expect(heldSeats).toBe(live.reduce((sum, h) => sum + h.quantity, 0));
  expect(report).toMatchObject({
    capacity: CAPACITY,
    held: heldSeats,
    available: CAPACITY - heldSeats,
    sold: 0,
    liveHolds: live.length,
    liveHoldQuantity: heldSeats,
    seats: { held: heldSeats, available: CAPACITY - heldSeats, sold: 0, total: CAPACITY },
  });

  // Every 201 is a live hold of that buyer with exactly the seats asked for and answered;
  // every live hold was answered 201.
  const liveById = new Map(live.map((h) => [h.id, h]));
  const won = new Set<string>();
  responses.forEach((response, i) => {
    if (response.statusCode !== 201) return;
    const { user, seatIds } = requests[i]!;
    const hold = response.json<{ id: string; seatIds: string[]; quantity: number }>();
    const row = liveById.get(hold.id);
    expect(row, `hold ${hold.id} answered 201 is live`).toBeDefined();
    expect(row!.userId).toBe(user.id);
    expect(row!.seatIds).toEqual([...seatIds].sort());
    expect([...hold.seatIds].sort()).toEqual([...seatIds].sort());
    expect(hold.quantity).toBe(seatIds.length);
    for (const seatId of seatIds) expect(holderOf.get(seatId)?.holdId).toBe(hold.id);
    won.add(hold.id);
  });
  expect([...liveById.keys()].sort()).toEqual([...won].sort());

  // Every refusal names only seats it asked for, each held by somebody else, and left the
  // buyer with nothing.
  const holdersByUser = new Set(live.map((h) => h.userId));
  responses.forEach((response, i) => {
    if (response.statusCode === 201) return;
    const { user, seatIds } = requests[i]!;
    const named = response.json<{ unavailableSeatIds: string[] }>().unavailableSeatIds;
    const label = `${user.id} asked ${seatIds.join('+')}, refused ${named.join('+')}`;
    expect(named.length, label).toBeGreaterThan(0);
    for (const seatId of named) {
      expect(seatIds, label).toContain(seatId);
      const holder = holderOf.get(seatId);
      expect(holder, `${label}: ${seatId} is held`).toBeDefined();
      expect(holder!.userId, label).not.toBe(user.id);
    }
    // All or nothing: the seats it was not refused are not its own either.
    expect(holdersByUser.has(user.id), label).toBe(false);
  });

  // The rush took nearly every seat: a seat left over was never asked for alone.
  const askedAlone = new Set(
    requests.filter((r) => r.seatIds.length === 1).map((r) => r.seatIds[0]),
  );
  for (const seatId of seats) {
    if (!holderOf.has(seatId)) expect(askedAlone.has(seatId), seatId).toBe(false);
  }
}
