import { describe, expect, it } from 'vitest';
import {
  assertGeneralBurst,
  assertReservedBurst,
  generalRush,
  postHold,
  RACE_SEED as SEED,
  reservedRush,
  tally,
  useLoadTestApp,
} from './support/hold-invariants.js';
import { usingRealDatabase } from './support/test-app.js';

// A flash sale in one process: hundreds of hold requests in flight at once against the real
// hold path. PGlite has one connection, so the embedded run is smaller (its transactions queue
// instead of racing, but the gate, the locks and the answers are the same code).
const SCALE = usingRealDatabase
  ? { rows: 5, seatsPerRow: 10, seatUsers: 250, perUser: 2, gaRequests: 1000, gaCapacity: 100 }
  : { rows: 2, seatsPerRow: 10, seatUsers: 50, perUser: 2, gaRequests: 200, gaCapacity: 40 };
// One pair per person: a user's second request races their first through the gate's per-user
// lock and the database's advisory lock.
const MAX_TICKETS = 2;

const load = useLoadTestApp({ buyers: Math.max(SCALE.seatUsers, SCALE.gaRequests) });

describe('POST /api/v1/events/:id/holds under a stampede', () => {
  it('reserved seating: never puts one seat in two live holds', { timeout: 60_000 }, async () => {
    const rush = await reservedRush(load.t, load.organizer, load.users.slice(0, SCALE.seatUsers), {
      rows: SCALE.rows,
      seatsPerRow: SCALE.seatsPerRow,
      rounds: SCALE.perUser,
      maxTickets: MAX_TICKETS,
      seed: SEED,
    });
    const { eventId, requests } = rush;

    const started = performance.now();
    const responses = await Promise.all(
      requests.map((r) => postHold(load.t, r.user, eventId, r.body)),
    );
    const ms = Math.round(performance.now() - started);
    console.info(`reserved seed=${SEED}: ${requests.length} in ${ms} ms`, tally(responses));

    const counts = await assertReservedBurst(load.t.deps.database.db, rush, responses);
    expect(counts.unavailable).toBe(0);
    expect(counts.winners).toBeGreaterThan(0);
  });

  it(
    'general admission: holds exactly the capacity and not one ticket more',
    { timeout: 60_000 },
    async () => {
      const rush = await generalRush(
        load.t,
        load.organizer,
        load.users.slice(0, SCALE.gaRequests),
        {
          capacity: SCALE.gaCapacity,
          name: 'GA Race',
          seed: SEED + 1,
        },
      );
      const { eventId, asked, requests } = rush;

      const started = performance.now();
      const responses = await Promise.all(
        requests.map((r) => postHold(load.t, r.user, eventId, r.body)),
      );
      const ms = Math.round(performance.now() - started);
      console.info(`general seed=${SEED + 1}: ${asked.length} in ${ms} ms`, tally(responses));

      // Demand (about 2.5 x requests) dwarfs supply, so the event must end exactly full.
      const counts = await assertGeneralBurst(load.t.deps.database.db, rush, responses, {
        expectFull: true,
      });
      expect(counts.unavailable).toBe(0);
    },
  );
});
