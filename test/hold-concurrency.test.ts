import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adjacentPairs,
  assertGeneralBurst,
  assertReservedBurst,
  createOneSectionEvent,
  postHold,
  seededRandom,
  signUpMany,
  tally,
} from './support/hold-invariants.js';
import { createEvent } from './support/fixtures.js';
import {
  createTestApp,
  usingRealDatabase,
  type SignedIn,
  type TestApp,
} from './support/test-app.js';

// A flash sale in one process: hundreds of hold requests in flight at once against the real
// hold path. PGlite has one connection, so the embedded run is smaller (its transactions queue
// instead of racing, but the gate, the locks and the answers are the same code).
const SCALE = usingRealDatabase
  ? { rows: 5, seatsPerRow: 10, seatUsers: 250, perUser: 2, gaRequests: 1000, gaCapacity: 100 }
  : { rows: 2, seatsPerRow: 10, seatUsers: 50, perUser: 2, gaRequests: 200, gaCapacity: 40 };
// One pair per person: a user's second request races their first through the gate's per-user
// lock and the database's advisory lock.
const MAX_TICKETS = 2;
const SEED = Number(process.env.HOLD_RACE_SEED ?? Date.now() % 1_000_000);

let t: TestApp;
let organizer: SignedIn;
let users: SignedIn[];

beforeAll(async () => {
  t = await createTestApp();
  organizer = await t.signUp('organizer');
  users = await signUpMany(t, Math.max(SCALE.seatUsers, SCALE.gaRequests));
});
afterAll(async () => {
  await t?.close();
});

describe('POST /api/v1/events/:id/holds under a stampede', () => {
  it('reserved seating: never puts one seat in two live holds', { timeout: 60_000 }, async () => {
    const capacity = SCALE.rows * SCALE.seatsPerRow;
    const { rows, eventId } = await createOneSectionEvent(
      t,
      organizer,
      SCALE.rows,
      SCALE.seatsPerRow,
      { maxTicketsPerUser: MAX_TICKETS },
    );
    const pairs = adjacentPairs(rows);
    const random = seededRandom(SEED);
    // Round-robin over users, so each user's requests are spread through the burst.
    const requests = Array.from({ length: SCALE.perUser }, () =>
      users.slice(0, SCALE.seatUsers).map((user) => ({
        user,
        seatIds: pairs[Math.floor(random() * pairs.length)]!,
      })),
    ).flat();

    const started = performance.now();
    const responses = await Promise.all(
      requests.map((r) => postHold(t, r.user, eventId, { seatIds: r.seatIds })),
    );
    const ms = Math.round(performance.now() - started);
    console.info(`reserved seed=${SEED}: ${requests.length} in ${ms} ms`, tally(responses));

    const counts = await assertReservedBurst(t.deps.database.db, eventId, {
      capacity,
      maxTickets: MAX_TICKETS,
      responses,
    });
    expect(counts.unavailable).toBe(0);
    expect(counts.winners).toBeGreaterThan(0);
  });

  it(
    'general admission: holds exactly the capacity and not one ticket more',
    { timeout: 60_000 },
    async () => {
      const capacity = SCALE.gaCapacity;
      const event = await createEvent(t, organizer, { capacity, name: 'GA Race' });
      const random = seededRandom(SEED + 1);
      const asked = users.slice(0, SCALE.gaRequests).map(() => 1 + Math.floor(random() * 4));

      const started = performance.now();
      const responses = await Promise.all(
        asked.map((quantity, i) => postHold(t, users[i]!, event.id, { quantity })),
      );
      const ms = Math.round(performance.now() - started);
      console.info(`general seed=${SEED + 1}: ${asked.length} in ${ms} ms`, tally(responses));

      // Demand (about 2.5 x requests) dwarfs supply, so the event must end exactly full.
      const counts = await assertGeneralBurst(t.deps.database.db, event.id, {
        capacity,
        asked,
        responses,
        expectFull: true,
      });
      expect(counts.unavailable).toBe(0);
    },
  );
});
