import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupCommitter } from '../src/platform/group-commit.js';
import { createEvent } from './support/fixtures.js';
import {
  checkHoldInvariants,
  createOneSectionEvent,
  liveHoldsOf,
  postHold,
  tally,
} from './support/hold-invariants.js';
import type { HoldBody } from './support/api.js';
import {
  holdBatches,
  withEventLockedUntilQueued,
  type BatchedHoldRequest,
} from './support/hold-batches.js';
import { StatementCounter } from './support/statement-counter.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';

// ---------------------------------------------------------------------------------------------
// (a) Through the app: one statement carries requests with different fates, and each request
// gets the answer it deserved.
//
// To be sure the requests share a statement, the event's row is locked (by a transaction of
// the test) while they arrive: the first request's statement waits on it, so every later one
// queues behind it in the committer. Once all are queued the lock goes, and the queue goes as
// one statement. Which request came first (and the order inside the batch, which decides who
// wins an overlapping seat) is read from the statements themselves, and the expected answers
// are worked out from that order.
// ---------------------------------------------------------------------------------------------

const counter = new StatementCounter();
let t: TestApp;
let organizer: SignedIn;

beforeAll(async () => {
  // Before the app opens its database: the statements (and their batches) are read back.
  counter.install();
  t = await createTestApp();
  organizer = await t.signUp('organizer');
});
afterAll(async () => {
  await t?.close();
  counter.restore();
});

/**
 * Fires `requests` at once while the event's row is locked, so all but the first go in one
 * statement. Returns the answers (in the order of `requests`) and the batches the hold
 * statements carried.
 */
async function burstWhileLocked(
  eventId: string,
  requests: Array<{ user: SignedIn; payload: HoldBody }>,
): Promise<{ responses: LightMyRequestResponse[]; batches: BatchedHoldRequest[][] }> {
  const { result, statements } = await counter.during(() =>
    withEventLockedUntilQueued(t, eventId, requests.length, () =>
      Promise.all(requests.map((r) => postHold(t, r.user, eventId, r.payload))),
    ),
  );
  return { responses: result, batches: holdBatches(statements) };
}

type Expected =
  | { outcome: 'HELD'; seatIds?: string[]; quantity?: number }
  | { outcome: 'SEAT_UNAVAILABLE'; seatIds: string[] }
  | { outcome: 'TICKET_LIMIT_EXCEEDED' }
  | { outcome: 'UNKNOWN_SEATS'; seatIds: string[] }
  | { outcome: 'SOLD_OUT' };

/** Checks one answer against what its request deserved. */
function expectAnswer(response: LightMyRequestResponse, expected: Expected, label: string) {
  const body = response.json<Record<string, unknown>>();
  const context = `${label}: ${response.statusCode} ${response.body}`;
  switch (expected.outcome) {
    case 'HELD':
      expect(response.statusCode, context).toBe(201);
      if (expected.seatIds) {
        expect([...(body.seatIds as string[])].sort(), context).toEqual(
          [...expected.seatIds].sort(),
        );
        expect(body.quantity, context).toBe(expected.seatIds.length);
      }
      if (expected.quantity !== undefined) expect(body.quantity, context).toBe(expected.quantity);
      break;
    case 'SEAT_UNAVAILABLE':
      expect([response.statusCode, body.code], context).toEqual([409, 'SEAT_UNAVAILABLE']);
      expect([...(body.unavailableSeatIds as string[])].sort(), context).toEqual(
        [...expected.seatIds].sort(),
      );
      break;
    case 'TICKET_LIMIT_EXCEEDED':
      expect([response.statusCode, body.code], context).toEqual([409, 'TICKET_LIMIT_EXCEEDED']);
      break;
    case 'UNKNOWN_SEATS':
      // The API answers an id that is not a seat of the event as a validation failure
      // (errors.ts: VALIDATION_FAILED is 400, as it was before the batch statement).
      expect([response.statusCode, body.code], context).toEqual([400, 'VALIDATION_FAILED']);
      expect(body.errors, context).toEqual(
        expected.seatIds.map((id) => ({
          field: 'seatIds',
          message: `${id} is not a seat of this event`,
        })),
      );
      break;
    case 'SOLD_OUT':
      expect([response.statusCode, body.code], context).toEqual([409, 'SOLD_OUT']);
      break;
  }
}

describe('group commit through the hold path', () => {
  it('reserved seating: a batch with mixed outcomes answers each request as it deserved', async () => {
    const maxTickets = 2;
    const { eventId, rows } = await createOneSectionEvent(t, organizer, 2, 5, {
      maxTicketsPerUser: maxTickets,
    });
    const s = rows.flat();
    expect(s).toHaveLength(10);
    const notASeat = '00000000-0000-4000-8000-000000000000';

    // Before the burst: P already has one ticket of the event, Q holds s8.
    const [p, q] = [await t.signUp(), await t.signUp()];
    expect((await postHold(t, p, eventId, { seatIds: [s[9]!] })).statusCode).toBe(201);
    expect((await postHold(t, q, eventId, { seatIds: [s[8]!] })).statusCode).toBe(201);

    const users = await Promise.all(Array.from({ length: 10 }, () => t.signUp()));
    const wants: Array<{ user: SignedIn; seatIds: string[]; label: string }> = [
      // These overlap: who gets what depends on their order in the batch.
      { user: users[0]!, seatIds: [s[0]!, s[1]!], label: 'u0 s0+s1' },
      { user: users[1]!, seatIds: [s[1]!, s[2]!], label: 'u1 s1+s2' },
      { user: users[2]!, seatIds: [s[2]!, s[3]!], label: 'u2 s2+s3' },
      { user: users[3]!, seatIds: [s[3]!], label: 'u3 s3' },
      { user: users[4]!, seatIds: [s[0]!], label: 'u4 s0' },
      // These do not depend on the order.
      { user: users[5]!, seatIds: [s[4]!, notASeat], label: 'u5 s4+not-a-seat' },
      { user: users[6]!, seatIds: [s[5]!, s[6]!, s[7]!], label: 'u6 three seats, max 2' },
      { user: p, seatIds: [s[5]!, s[6]!], label: 'p owns 1, asks 2' },
      { user: users[7]!, seatIds: [s[5]!], label: 'u7 s5' },
      { user: users[8]!, seatIds: [s[8]!], label: "u8 s8 (Q's)" },
      { user: users[9]!, seatIds: [s[6]!, s[7]!], label: 'u9 s6+s7' },
    ];

    const { responses, batches } = await burstWhileLocked(
      eventId,
      wants.map((w) => ({ user: w.user, payload: { seatIds: w.seatIds } })),
    );
    console.info(
      'reserved burst',
      tally(responses),
      'batches',
      batches.map((b) => b.length),
    );

    // One statement for the first request, one for all the others.
    expect(batches.map((b) => b.length)).toEqual([1, wants.length - 1]);
    const batchOrder = batches.flat();
    expect(batchOrder.map((r) => r.userId).sort()).toEqual(wants.map((w) => w.user.id).sort());

    // What each request deserved, in the order the statements took them.
    const known = new Set(s);
    const taken = new Set([s[8]!, s[9]!]);
    const owned = new Map([[p.id, 1]]);
    const expected = new Map<string, Expected>();
    for (const request of batchOrder) {
      const seatIds = request.seatIds!;
      let outcome: Expected;
      if ((owned.get(request.userId) ?? 0) + seatIds.length > maxTickets) {
        outcome = { outcome: 'TICKET_LIMIT_EXCEEDED' };
      } else if (seatIds.some((id) => !known.has(id))) {
        outcome = { outcome: 'UNKNOWN_SEATS', seatIds: seatIds.filter((id) => !known.has(id)) };
      } else if (seatIds.some((id) => taken.has(id))) {
        outcome = { outcome: 'SEAT_UNAVAILABLE', seatIds: seatIds.filter((id) => taken.has(id)) };
      } else {
        outcome = { outcome: 'HELD', seatIds };
        seatIds.forEach((id) => taken.add(id));
        owned.set(request.userId, (owned.get(request.userId) ?? 0) + seatIds.length);
      }
      expected.set(request.userId, outcome);
    }
    wants.forEach((w, i) => expectAnswer(responses[i]!, expected.get(w.user.id)!, w.label));

    // The order-independent ones, spelled out.
    const answerOf = (label: string) => responses[wants.findIndex((w) => w.label === label)]!;
    expectAnswer(
      answerOf('u5 s4+not-a-seat'),
      { outcome: 'UNKNOWN_SEATS', seatIds: [notASeat] },
      'u5',
    );
    expectAnswer(answerOf('u6 three seats, max 2'), { outcome: 'TICKET_LIMIT_EXCEEDED' }, 'u6');
    expectAnswer(answerOf('p owns 1, asks 2'), { outcome: 'TICKET_LIMIT_EXCEEDED' }, 'p');
    expectAnswer(answerOf('u7 s5'), { outcome: 'HELD', seatIds: [s[5]!] }, 'u7');
    expectAnswer(answerOf("u8 s8 (Q's)"), { outcome: 'SEAT_UNAVAILABLE', seatIds: [s[8]!] }, 'u8');
    expectAnswer(answerOf('u9 s6+s7'), { outcome: 'HELD', seatIds: [s[6]!, s[7]!] }, 'u9');
    // The big batch really was mixed: successes and every kind of refusal in one statement.
    const secondBatch = new Set(batches[1]!.map((r) => expected.get(r.userId)!.outcome));
    for (const outcome of ['HELD', 'SEAT_UNAVAILABLE', 'TICKET_LIMIT_EXCEEDED', 'UNKNOWN_SEATS'])
      expect(secondBatch.has(outcome as Expected['outcome']), outcome).toBe(true);

    // The database agrees: exactly the answered holds (and P's and Q's) are live.
    const report = await checkHoldInvariants(t.deps.database.db, eventId);
    expect(report.violations).toEqual([]);
    const live = await liveHoldsOf(t.deps.database.db, eventId);
    const answered = responses
      .filter((r) => r.statusCode === 201)
      .map((r) => r.json<{ id: string; seatIds: string[] }>());
    expect(live).toHaveLength(answered.length + 2);
    for (const hold of answered) {
      expect(live.find((h) => h.id === hold.id)?.seatIds).toEqual([...hold.seatIds].sort());
    }
    expect(new Set(live.flatMap((h) => h.seatIds))).toEqual(taken);
    expect(report).toMatchObject({
      capacity: 10,
      held: taken.size,
      available: 10 - taken.size,
      sold: 0,
      liveHoldQuantity: taken.size,
      seats: { available: 10 - taken.size, held: taken.size, sold: 0, total: 10 },
    });
  });

  it('general admission: in one batch the requests that fit are held and the ones after that do not fit are refused', async () => {
    const capacity = 10;
    const event = await createEvent(t, organizer, { capacity, name: 'Batch Rush' });
    const asked = [3, 3, 2, 3, 1, 2, 1, 4];
    const users = await Promise.all(asked.map(() => t.signUp()));
    const { responses, batches } = await burstWhileLocked(
      event.id,
      asked.map((quantity, i) => ({ user: users[i]!, payload: { quantity } })),
    );
    console.info(
      'GA burst',
      tally(responses),
      'batches',
      batches.map((b) => b.length),
    );
    expect(batches.map((b) => b.length)).toEqual([1, asked.length - 1]);

    let available = capacity;
    const expected = new Map<string, Expected>();
    const outcomes: string[] = [];
    for (const request of batches.flat()) {
      const quantity = request.quantity!;
      const outcome: Expected =
        quantity <= available ? { outcome: 'HELD', quantity } : { outcome: 'SOLD_OUT' };
      if (outcome.outcome === 'HELD') available -= quantity;
      expected.set(request.userId, outcome);
      outcomes.push(outcome.outcome);
    }
    users.forEach((user, i) =>
      expectAnswer(responses[i]!, expected.get(user.id)!, `asked ${asked[i]}`),
    );
    // In the second batch, earlier requests were held and later ones did not fit.
    const second = batches[1]!.map((r) => expected.get(r.userId)!.outcome);
    expect(second[0]).toBe('HELD');
    expect(second).toContain('SOLD_OUT');
    expect(second.indexOf('SOLD_OUT')).toBeGreaterThan(0);

    const report = await checkHoldInvariants(t.deps.database.db, event.id);
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({
      capacity,
      available,
      held: capacity - available,
      sold: 0,
      liveHoldQuantity: capacity - available,
    });
    const live = await liveHoldsOf(t.deps.database.db, event.id);
    expect(live.map((h) => h.id).sort()).toEqual(
      responses
        .filter((r) => r.statusCode === 201)
        .map((r) => r.json<{ id: string }>().id)
        .sort(),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (b) GroupCommitter itself, with a fake `run`.
// ---------------------------------------------------------------------------------------------

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A fake statement: records each batch and answers when the test says so. */
function fakeRun<Req>() {
  const calls: Array<{ key: string; batch: Req[]; done: Deferred<void> }> = [];
  const run = async (key: string, batch: Req[]): Promise<string[]> => {
    const done = deferred<void>();
    calls.push({ key, batch: [...batch], done });
    await done.promise;
    return batch.map((r) => `${key}:${String(r)}`);
  };
  return { calls, run };
}

/** Lets every pending promise callback run (the committer's hand-offs are promise-based). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Whether a promise has settled yet, without waiting for it. */
function watch<T>(promise: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

describe('GroupCommitter', () => {
  it('sends a request to an idle key at once, with no timer in between', async () => {
    const { calls, run } = fakeRun<number>();
    const committer = new GroupCommitter(run, { maxBatch: 10 });
    const answer = committer.submit('e1', 1);
    // Synchronously: the statement is already on its way.
    expect(calls.map((c) => c.batch)).toEqual([[1]]);
    expect(committer.waiting).toBe(0);
    calls[0]!.done.resolve();
    await expect(answer).resolves.toBe('e1:1');
  });

  it('requests of one key that arrive while a batch is in flight go together in the next', async () => {
    const { calls, run } = fakeRun<number>();
    const committer = new GroupCommitter(run, { maxBatch: 10 });
    const first = watch(committer.submit('e1', 1));
    const later = [2, 3, 4].map((n) => watch(committer.submit('e1', n)));
    await settle();
    expect(calls.map((c) => c.batch)).toEqual([[1]]);
    expect(committer.waiting).toBe(3);
    expect(later.some((s) => s.done)).toBe(false);

    calls[0]!.done.resolve();
    await settle();
    expect(first).toMatchObject({ done: true, value: 'e1:1' });
    expect(calls.map((c) => c.batch)).toEqual([[1], [2, 3, 4]]);
    expect(committer.waiting).toBe(0);
    expect(later.some((s) => s.done)).toBe(false);

    // One arriving now waits for [2, 3, 4], then goes alone.
    const last = watch(committer.submit('e1', 5));
    await settle();
    expect(calls).toHaveLength(2);
    calls[1]!.done.resolve();
    await settle();
    expect(later.map((s) => s.value)).toEqual(['e1:2', 'e1:3', 'e1:4']);
    expect(calls.map((c) => c.batch)).toEqual([[1], [2, 3, 4], [5]]);
    calls[2]!.done.resolve();
    await settle();
    expect(last).toMatchObject({ done: true, value: 'e1:5' });
  });

  it('never puts more than maxBatch requests in one batch, and keeps their order', async () => {
    const { calls, run } = fakeRun<number>();
    const committer = new GroupCommitter(run, { maxBatch: 3 });
    const answers = Array.from({ length: 8 }, (_, i) => committer.submit('e1', i));
    expect(committer.waiting).toBe(7);
    for (let i = 0; i < 4; i++) {
      await settle();
      calls[i]!.done.resolve();
    }
    expect(await Promise.all(answers)).toEqual(answers.map((_, i) => `e1:${i}`));
    expect(calls.map((c) => c.batch)).toEqual([[0], [1, 2, 3], [4, 5, 6], [7]]);
    expect(committer.waiting).toBe(0);
  });

  it('when a batch fails as a whole, retries its requests one by one so only the bad one fails', async () => {
    const batches: number[][] = [];
    const firstInFlight = deferred<void>();
    const run = async (_key: string, batch: number[]) => {
      batches.push([...batch]);
      if (batches.length === 1) await firstInFlight.promise;
      if (batch.includes(13)) throw new Error('unlucky request');
      return batch.map((n) => n * 10);
    };
    const committer = new GroupCommitter(run, { maxBatch: 10 });
    const first = committer.submit('e1', 1);
    const rest = [2, 13, 4].map((n) => watch(committer.submit('e1', n)));
    await settle();
    firstInFlight.resolve();
    await expect(first).resolves.toBe(10);
    for (let i = 0; i < 10 && rest.some((s) => !s.done); i++) await settle();

    expect(batches).toEqual([[1], [2, 13, 4], [2], [13], [4]]);
    expect(rest[0]).toMatchObject({ done: true, value: 20 });
    expect(rest[1]!.done).toBe(true);
    expect((rest[1]!.error as Error).message).toBe('unlucky request');
    expect(rest[2]).toMatchObject({ done: true, value: 40 });

    // The lane is not stuck: the next request goes through.
    await expect(committer.submit('e1', 5)).resolves.toBe(50);
  });

  it('a batch answered with the wrong number of rows counts as failed: each request is asked alone', async () => {
    const batches: number[][] = [];
    const gate = deferred<void>();
    const run = async (_key: string, batch: number[]) => {
      batches.push([...batch]);
      await gate.promise;
      // A broken statement: one answer short whenever it gets more than one request.
      return batch.length > 1 ? batch.slice(1).map((n) => n * 10) : batch.map((n) => n * 10);
    };
    const committer = new GroupCommitter(run, { maxBatch: 10 });
    const answers = [1, 2, 3].map((n) => committer.submit('e1', n));
    gate.resolve();
    expect(await Promise.all(answers)).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1], [2, 3], [2], [3]]);
  });

  it('a lone request whose statement fails is rejected (nothing to retry it against)', async () => {
    const committer = new GroupCommitter(
      async () => {
        throw new Error('database gone');
      },
      { maxBatch: 10 },
    );
    await expect(committer.submit('e1', 1)).rejects.toThrow('database gone');
  });

  it('different keys run independently: one key in flight never holds another back', async () => {
    const { calls, run } = fakeRun<string>();
    const committer = new GroupCommitter(run, { maxBatch: 10 });
    const a1 = watch(committer.submit('A', 'a1'));
    const a2 = watch(committer.submit('A', 'a2'));
    // B is idle: its request goes at once although A has a batch in flight and one waiting.
    const b1 = watch(committer.submit('B', 'b1'));
    expect(calls.map((c) => [c.key, c.batch])).toEqual([
      ['A', ['a1']],
      ['B', ['b1']],
    ]);
    const b2 = watch(committer.submit('B', 'b2'));
    expect(committer.waiting).toBe(2);

    // B finishes first and moves on while A is still in flight.
    calls[1]!.done.resolve();
    await settle();
    expect(b1).toMatchObject({ done: true, value: 'B:b1' });
    expect(calls.map((c) => [c.key, c.batch])).toEqual([
      ['A', ['a1']],
      ['B', ['b1']],
      ['B', ['b2']],
    ]);
    expect(a1.done).toBe(false);
    calls[2]!.done.resolve();
    await settle();
    expect(b2).toMatchObject({ done: true, value: 'B:b2' });

    // A's waiting request never joined B's batches, and goes once A's first is back.
    expect(a2.done).toBe(false);
    calls[0]!.done.resolve();
    await settle();
    expect(a1).toMatchObject({ done: true, value: 'A:a1' });
    expect(calls.map((c) => [c.key, c.batch])).toEqual([
      ['A', ['a1']],
      ['B', ['b1']],
      ['B', ['b2']],
      ['A', ['a2']],
    ]);
    calls[3]!.done.resolve();
    await settle();
    expect(a2).toMatchObject({ done: true, value: 'A:a2' });
    expect(committer.waiting).toBe(0);
  });
});
