import type { LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertGeneralBurst,
  assertReservedBurst,
  generalRush,
  postHold,
  RACE_SEED as SEED,
  reservedRush,
  type RushRequest,
  tally,
  useLoadTestApp,
} from './support/hold-invariants.js';
import { usingRealDatabase } from './support/test-app.js';
import { startThrowawayRedis, type ThrowawayRedis } from './support/throwaway-redis.js';

// Redis is only the fast path (inventory gate, per-user lock, token denylist): when it forgets
// everything or dies in the middle of a stampede, PostgreSQL must still refuse every oversell.
// A private redis-server is used; the shared one is never flushed or stopped.
const SCALE = usingRealDatabase
  ? { rows: 5, seatsPerRow: 10, seatUsers: 150, gaRequests: 600, gaCapacity: 100 }
  : { rows: 2, seatsPerRow: 10, seatUsers: 50, gaRequests: 200, gaCapacity: 40 };
const MAX_TICKETS = 2;

let redis: ThrowawayRedis;
// Registered before the app's hooks: Redis starts before the app and stops after it closes.
beforeAll(async () => {
  redis = await startThrowawayRedis();
});
afterAll(() => redis?.stop());
const load = useLoadTestApp({
  buyers: Math.max(SCALE.seatUsers, SCALE.gaRequests),
  overrides: () => ({ REDIS_URL: redis.url }),
});

type Job = () => Promise<LightMyRequestResponse>;

/**
 * Fires the first half of `jobs`, lets a third of them finish, runs `disrupt` while the rest
 * are still in flight, then fires the second half; resolves with every answer in job order.
 */
async function burstWithDisruption(jobs: Job[], disrupt: () => Promise<void>) {
  const half = Math.floor(jobs.length / 2);
  let finished = 0;
  const started = performance.now();
  const first = jobs.slice(0, half).map((job) => job().finally(() => finished++));
  while (finished < Math.floor(half / 3)) await new Promise((r) => setTimeout(r, 1));
  const inFlight = half - finished;
  await disrupt();
  const second = jobs.slice(half).map((job) => job());
  const responses = await Promise.all([...first, ...second]);
  return { responses, inFlight, ms: Math.round(performance.now() - started) };
}

async function flushAll(): Promise<void> {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    await client.flushall();
  } finally {
    client.disconnect();
  }
}

/** Each request of a rush, to be fired when burstWithDisruption says. */
const jobsOf = (rush: { eventId: string; requests: RushRequest[] }): Job[] =>
  rush.requests.map((r) => () => postHold(load.t, r.user, rush.eventId, r.body));

/** Two requests per user for a random neighbouring pair; first round, then second round. */
async function reservedLoad() {
  const rush = await reservedRush(load.t, load.organizer, load.users.slice(0, SCALE.seatUsers), {
    rows: SCALE.rows,
    seatsPerRow: SCALE.seatsPerRow,
    rounds: 2,
    maxTickets: MAX_TICKETS,
    seed: SEED,
  });
  return { ...rush, jobs: jobsOf(rush) };
}

/** One request per distinct user for 1-4 tickets. */
async function generalLoad(name: string) {
  const rush = await generalRush(load.t, load.organizer, load.users.slice(0, SCALE.gaRequests), {
    capacity: SCALE.gaCapacity,
    name,
    seed: SEED + 1,
  });
  return { ...rush, jobs: jobsOf(rush) };
}

describe('POST /api/v1/events/:id/holds when Redis fails mid-stampede', () => {
  it(
    'reserved seating: FLUSHALL halfway still leaves no seat in two live holds',
    { timeout: 60_000 },
    async () => {
      const rush = await reservedLoad();
      const burst = await burstWithDisruption(rush.jobs, flushAll);
      console.info(
        `reserved+FLUSHALL seed=${SEED}: ${rush.jobs.length} in ${burst.ms} ms, ` +
          `${burst.inFlight} in flight at the flush`,
        tally(burst.responses),
      );
      const counts = await assertReservedBurst(load.t.deps.database.db, rush, burst.responses);
      expect(counts.unavailable).toBe(0);
      expect(counts.winners).toBeGreaterThan(0);
    },
  );

  it(
    'general admission: FLUSHALL halfway still holds exactly the capacity',
    { timeout: 60_000 },
    async () => {
      const rush = await generalLoad('GA Flush Race');
      const burst = await burstWithDisruption(rush.jobs, flushAll);
      console.info(
        `general+FLUSHALL seed=${SEED + 1}: ${rush.jobs.length} in ${burst.ms} ms, ` +
          `${burst.inFlight} in flight at the flush`,
        tally(burst.responses),
      );
      const counts = await assertGeneralBurst(load.t.deps.database.db, rush, burst.responses, {
        expectFull: true,
      });
      expect(counts.unavailable).toBe(0);
    },
  );

  // Last: the app's Redis stays dead afterwards.
  it(
    'both kinds at once: Redis stopped halfway answers 503 but never oversells',
    { timeout: 60_000 },
    async () => {
      const reserved = await reservedLoad();
      const general = await generalLoad('GA Outage Race');
      // Interleave the two loads evenly so both are in flight when Redis dies.
      const tagged = [
        ...reserved.jobs.map((job, i) => ({ job, kind: 'reserved', at: i / reserved.jobs.length })),
        ...general.jobs.map((job, i) => ({ job, kind: 'general', at: i / general.jobs.length })),
      ].sort((a, b) => a.at - b.at);
      const burst = await burstWithDisruption(
        tagged.map((x) => x.job),
        () => redis.stop(),
      );
      const reservedAnswers = burst.responses.filter((_, k) => tagged[k]!.kind === 'reserved');
      const generalAnswers = burst.responses.filter((_, k) => tagged[k]!.kind === 'general');
      console.info(
        `Redis stopped seed=${SEED}: ${tagged.length} in ${burst.ms} ms, ` +
          `${burst.inFlight} in flight at the stop`,
        { reserved: tally(reservedAnswers), general: tally(generalAnswers) },
      );

      const db = load.t.deps.database.db;
      const r = await assertReservedBurst(db, reserved, reservedAnswers, { outage: true });
      const g = await assertGeneralBurst(db, general, generalAnswers, {
        outage: true,
        expectFull: false,
      });
      // Every request fired after the stop fails closed at the token check.
      expect(r.unavailable + g.unavailable).toBeGreaterThanOrEqual(
        tagged.length - Math.floor(tagged.length / 2),
      );
      expect(r.winners + g.winners).toBeGreaterThan(0);
    },
  );
});
