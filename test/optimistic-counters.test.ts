import { beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from './support/fixtures.js';
import { checkHoldInvariants, tally, useLoadTestApp } from './support/hold-invariants.js';
import { usingRealDatabase, type SignedIn, type TestApp } from './support/test-app.js';
import { api } from './support/api.js';

// Two instances each send their own batches for one event, so their hold statements race on
// the event's stock buckets: the optimistic first attempt of one of them may find its bucket
// moved (EV002) and run again with every bucket locked (migration 013). Whatever the interleaving, the capacity is
// held exactly, and a cancellation in the middle of the rush leaves nothing sold after it.
const load = useLoadTestApp({ buyers: 300 });
let other: Awaited<ReturnType<TestApp['anotherInstance']>>;
beforeAll(async () => {
  const { t } = load;
  // Embedded, one process owns the database: the second "instance" is the first again.
  other = usingRealDatabase ? await t.anotherInstance() : { app: t.app, deps: t.deps };
});

const holdOn = (i: number, user: SignedIn, eventId: string) =>
  api.hold(i % 2 === 0 ? load.t.app : other.app, user, eventId, { quantity: 1 });

describe('hold statements of two instances racing on one event', () => {
  it('hold exactly the capacity between them: no oversell, counters balanced', async () => {
    const event = await createEvent(load.t, load.organizer, { capacity: 40 });
    const responses = await Promise.all(load.users.map((user, i) => holdOn(i, user, event.id)));
    const counts = tally(responses);
    expect(counts, JSON.stringify(counts)).toEqual({ '201': 40, '409 SOLD_OUT': 260 });
    const db = load.t.deps.database.db;
    const counters = await db
      .selectFrom('events_with_inventory')
      .select(['available', 'held', 'sold'])
      .where('id', '=', event.id)
      .executeTakeFirstOrThrow();
    expect(counters).toEqual({ available: 0, held: 40, sold: 0 });
    expect((await checkHoldInvariants(db, event.id)).violations).toEqual([]);
  });

  it('when the event is cancelled during the rush, then no hold is taken after the cancellation', async () => {
    const event = await createEvent(load.t, load.organizer, { capacity: 1000 });
    const rush = Promise.all(load.users.map((user, i) => holdOn(i, user, event.id)));
    const cancelled = await load.t.inject({
      method: 'POST',
      url: `/api/v1/events/${event.id}/cancel`,
      headers: load.organizer.auth,
    });
    expect(cancelled.statusCode).toBe(200);
    const responses = await rush;
    for (const r of responses) expect([201, 409]).toContain(r.statusCode);
    const db = load.t.deps.database.db;
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
