import type { LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
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
import { startThrowawayRedis, type ThrowawayRedis } from './support/throwaway-redis.js';

// Redis is only the fast path (inventory gate, per-user lock, token denylist): when it forgets
// everything or dies in the middle of a stampede, PostgreSQL must still refuse every oversell.
// A private redis-server is used; the shared one is never flushed or stopped.
const SCALE = usingRealDatabase
  ? { rows: 5, seatsPerRow: 10, seatUsers: 150, gaRequests: 600, gaCapacity: 100 }
  : { rows: 2, seatsPerRow: 10, seatUsers: 50, gaRequests: 200, gaCapacity: 40 };
const MAX_TICKETS = 2;
const SEED = Number(process.env.HOLD_RACE_SEED ?? Date.now() % 1_000_000);

let redis: ThrowawayRedis;
let t: TestApp;
let organizer: SignedIn;
let users: SignedIn[];

beforeAll(async () => {
  redis = await startThrowawayRedis();
  t = await createTestApp({ REDIS_URL: redis.url });
  organizer = await t.signUp('organizer');
  users = await signUpMany(t, Math.max(SCALE.seatUsers, SCALE.gaRequests));
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
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

/** Two requests per user for a random neighbouring pair; first round, then second round. */
async function reservedLoad() {
  const { rows, eventId } = await createOneSectionEvent(
    t,
    organizer,
    SCALE.rows,
    SCALE.seatsPerRow,
    { maxTicketsPerUser: MAX_TICKETS },
  );
  const pairs = adjacentPairs(rows);
  const random = seededRandom(SEED);
  const jobs: Job[] = [0, 1].flatMap(() =>
    users.slice(0, SCALE.seatUsers).map((user) => {
      const seatIds = pairs[Math.floor(random() * pairs.length)]!;
      return () => postHold(t, user, eventId, { seatIds });
    }),
  );
  return { eventId, capacity: SCALE.rows * SCALE.seatsPerRow, jobs };
}

/** One request per distinct user for 1-4 tickets. */
async function generalLoad(name: string) {
  const event = await createEvent(t, organizer, { capacity: SCALE.gaCapacity, name });
  const random = seededRandom(SEED + 1);
  const asked = users.slice(0, SCALE.gaRequests).map(() => 1 + Math.floor(random() * 4));
  const jobs: Job[] = asked.map(
    (quantity, i) => () => postHold(t, users[i]!, event.id, { quantity }),
  );
  return { eventId: event.id, capacity: SCALE.gaCapacity, asked, jobs };
}

describe('POST /api/v1/events/:id/holds when Redis fails mid-stampede', () => {
  it(
    'reserved seating: FLUSHALL halfway still leaves no seat in two live holds',
    { timeout: 60_000 },
    async () => {
      const load = await reservedLoad();
      const burst = await burstWithDisruption(load.jobs, flushAll);
      console.info(
        `reserved+FLUSHALL seed=${SEED}: ${load.jobs.length} in ${burst.ms} ms, ` +
          `${burst.inFlight} in flight at the flush`,
        tally(burst.responses),
      );
      const counts = await assertReservedBurst(t.deps.database.db, load.eventId, {
        capacity: load.capacity,
        maxTickets: MAX_TICKETS,
        responses: burst.responses,
      });
      expect(counts.unavailable).toBe(0);
      expect(counts.winners).toBeGreaterThan(0);
    },
  );

  it(
    'general admission: FLUSHALL halfway still holds exactly the capacity',
    { timeout: 60_000 },
    async () => {
      const load = await generalLoad('GA Flush Race');
      const burst = await burstWithDisruption(load.jobs, flushAll);
      console.info(
        `general+FLUSHALL seed=${SEED + 1}: ${load.jobs.length} in ${burst.ms} ms, ` +
          `${burst.inFlight} in flight at the flush`,
        tally(burst.responses),
      );
      const counts = await assertGeneralBurst(t.deps.database.db, load.eventId, {
        capacity: load.capacity,
        asked: load.asked,
        responses: burst.responses,
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

      const r = await assertReservedBurst(t.deps.database.db, reserved.eventId, {
        capacity: reserved.capacity,
        maxTickets: MAX_TICKETS,
        responses: reservedAnswers,
        outage: true,
      });
      const g = await assertGeneralBurst(t.deps.database.db, general.eventId, {
        capacity: general.capacity,
        asked: general.asked,
        responses: generalAnswers,
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
