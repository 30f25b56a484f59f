import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from './support/fixtures.js';
import { checkHoldInvariants, signUpMany, tally } from './support/hold-invariants.js';
import {
  createTestApp,
  usingRealDatabase,
  type SignedIn,
  type TestApp,
} from './support/test-app.js';
import { api } from './support/api.js';

// Two instances each send their own batches for one event, so their hold statements race on
// the event's stock buckets: the optimistic first attempt of one of them may find its bucket
// moved (EV002) and run again with every bucket locked (migration 013). Whatever the interleaving, the capacity is
// held exactly, and a cancellation in the middle of the rush leaves nothing sold after it.
let t: TestApp;
let other: Awaited<ReturnType<TestApp['anotherInstance']>>;
let organizer: SignedIn;
let users: SignedIn[];

beforeAll(async () => {
  t = await createTestApp();
  // Embedded, one process owns the database: the second "instance" is the first again.
  other = usingRealDatabase ? await t.anotherInstance() : { app: t.app, deps: t.deps };
  organizer = await t.signUp('organizer');
  users = await signUpMany(t, 300);
});
afterAll(async () => {
  await t?.close();
});

const holdOn = (i: number, user: SignedIn, eventId: string) =>
  api.hold(i % 2 === 0 ? t.app : other.app, user, eventId, { quantity: 1 });

describe('hold statements of two instances racing on one event', () => {
  it('hold exactly the capacity between them: no oversell, counters balanced', async () => {
    const event = await createEvent(t, organizer, { capacity: 40 });
    const responses = await Promise.all(users.map((user, i) => holdOn(i, user, event.id)));
    const counts = tally(responses);
    expect(counts, JSON.stringify(counts)).toEqual({ '201': 40, '409 SOLD_OUT': 260 });
    const db = t.deps.database.db;
    const counters = await db
      .selectFrom('events_with_inventory')
      .select(['available', 'held', 'sold'])
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(counters).toEqual({ available: 0, held: 40, sold: 0 });
    expect((await checkHoldInvariants(db, event.id)).violations).toEqual([]);
  });

  it('when the event is cancelled during the rush, then no hold is taken after the cancellation', async () => {
    const event = await createEvent(t, organizer, { capacity: 1000 });
    const rush = Promise.all(users.map((user, i) => holdOn(i, user, event.id)));
    const cancelled = await t.inject({
      method: 'POST',
      url: `/api/v1/events/${event.id}/cancel`,
      headers: organizer.auth,
    });
    expect(cancelled.statusCode).toBe(200);
    const responses = await rush;
    for (const r of responses) expect([201, 409]).toContain(r.statusCode);
    const db = t.deps.database.db;
    // Every hold that survived the cancellation was released by it; none is active now.
    const active = await db
      .selectFrom('holds')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('event_id', '=', event.id)
      .where('status', '=', 'active')
      .executeTakeFirstOrThrow();
    expect(Number(active.n)).toBe(0);
    expect((await checkHoldInvariants(db, event.id)).violations).toEqual([]);
  });
});
