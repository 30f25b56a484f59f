import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, createVenue } from '../../../test/support/fixtures.js';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/support/test-app.js';
import { freePort } from '../../../test/support/child-process.js';
import { ManualClock } from '../../platform/clock.js';
import {
  PaymentUnavailableError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
  type RefundRequest,
} from '../payments/payment-gateway.js';
import { PaymentLedger } from '../payments/payment-ledger.js';
import { SimulatedPaymentGateway } from '../payments/simulated-payment-gateway.js';
import { sleep } from '../../../test/support/kit.js';
import { api, type HoldBody } from '../../../test/support/api.js';

/** Requests and reads against one test app (this file runs several, differently configured). */
function using(t: TestApp) {
  const db = t.deps.database.db;

  const hold = (user: SignedIn, eventId: string, payload: HoldBody) =>
    api.hold(t, user, eventId, payload);

  const book = (
    user: SignedIn,
    holdId: string,
    token = 'tok_visa',
    headers: Record<string, string> = {},
  ) => api.book(t, user, holdId, token, headers);

  const eventCounts = (id: string) =>
    db
      .selectFrom('events_with_inventory')
      .select(['available', 'held', 'sold', 'capacity'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  const bookingRow = (id: string) =>
    db.selectFrom('bookings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  const holdRow = (id: string) =>
    db.selectFrom('holds').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  const sagaOf = async (bookingId: string) => {
    const saga = await t.deps.booking.sagas.latestForBooking(bookingId);
    if (!saga) throw new Error(`no saga for booking ${bookingId}`);
    return saga;
  };

  /** Sagas of any booking still running or compensating (a stuck saga shows up here). */
  const unfinishedSagas = (bookingId: string) =>
    db
      .selectFrom('sagas')
      .select(['id', 'step', 'status', 'last_error'])
      .where('booking_id', '=', bookingId)
      .where('status', 'in', ['running', 'compensating'])
      .execute();

  /** Runs the recovery loop by hand until the booking's saga has ended (or time is up). */
  const settle = async (bookingId: string, withinMs = 5_000) => {
    const deadline = Date.now() + withinMs;
    for (;;) {
      await t.deps.booking.sagaDriver.recoverDue();
      if ((await unfinishedSagas(bookingId)).length === 0 || Date.now() > deadline) break;
      await sleep(50);
    }
    return sagaOf(bookingId);
  };

  /** A fresh, published general-admission event of `capacity` tickets at 25.00 EUR. */
  const gaEvent = (organizer: SignedIn, capacity = 10) => createEvent(t, organizer, { capacity });

  const reservedEvent = async (organizer: SignedIn) => {
    const venue = await createVenue(t, organizer, { rows: 2, seatsPerRow: 5 });
    const event = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id });
    const seats = (
      await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}/seats` })
    ).json<{ sections: Array<{ rows: Array<{ seats: Array<{ id: string }> }> }> }>();
    const seatIds = seats.sections.flatMap((s) =>
      s.rows.flatMap((r) => r.seats.map((seat) => seat.id)),
    );
    return { event, seatIds };
  };

  const seatStatuses = async (eventId: string, seatIds: string[]) => {
    const rows = await db
      .selectFrom('event_seats')
      .select(['id', 'status'])
      .where('event_id', '=', eventId)
      .where('id', 'in', seatIds)
      .execute();
    return Object.fromEntries(rows.map((r) => [r.id, r.status]));
  };

  return {
    db,
    hold,
    book,
    eventCounts,
    bookingRow,
    holdRow,
    sagaOf,
    unfinishedSagas,
    settle,
    gaEvent,
    reservedEvent,
    seatStatuses,
  };
}

/** A test app of its own for one describe block, with an organizer and the helpers. */
function useApp(...args: Parameters<typeof createTestApp>) {
  const app = {} as { t: TestApp; organizer: SignedIn; h: ReturnType<typeof using> };
  beforeAll(async () => {
    app.t = await createTestApp(...args);
    app.organizer = await app.t.signUp('organizer');
    app.h = using(app.t);
  });
  afterAll(async () => {
    await app.t?.close();
  });
  return app;
}

const ledgerOf = (t: TestApp) => {
  const ledger = t.deps.booking.ledger;
  if (!ledger) throw new Error('this app has no in-process payment ledger');
  return ledger;
};

/** Ledger entries that belong to one booking (its charge, decline and refund). */
const entriesFor = (ledger: PaymentLedger, bookingId: string) =>
  ledger.entries.filter(
    (e) => e.idempotencyKey === bookingId || e.idempotencyKey === `refund:${bookingId}`,
  );

const kinds = (entries: Array<{ kind: string }>) => entries.map((e) => e.kind).sort();

const problemOf = (response: LightMyRequestResponse) =>
  response.json<{ code: string; bookingId?: string; status: number }>();

describe('the booking saga', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let h: ReturnType<typeof using>;
  beforeAll(async () => {
    t = await createTestApp();
    organizer = await t.signUp('organizer');
    h = using(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when the card is declined, then it answers 402, sells nothing and keeps the hold', async () => {
    const { event, seatIds } = await h.reservedEvent(organizer);
    const user = await t.signUp();
    const held = (await h.hold(user, event.id, { seatIds: seatIds.slice(0, 2) })).json();
    const before = await h.eventCounts(event.id);
    expect(before).toMatchObject({ held: 2, sold: 0, available: 18 });

    const declined = await h.book(user, held.id, 'tok_declined');

    expect(declined.statusCode).toBe(402);
    expect(declined.headers['content-type']).toContain('application/problem+json');
    const problem = problemOf(declined);
    expect(problem.code).toBe('PAYMENT_DECLINED');
    const bookingId = problem.bookingId!;
    expect(bookingId).toEqual(expect.any(String));
    expect(await h.eventCounts(event.id)).toEqual(before);
    expect(await h.holdRow(held.id)).toMatchObject({ status: 'active', released_at: null });
    expect(await h.seatStatuses(event.id, seatIds.slice(0, 2))).toEqual({
      [seatIds[0]!]: 'held',
      [seatIds[1]!]: 'held',
    });
    expect(await h.bookingRow(bookingId)).toMatchObject({
      status: 'failed',
      failure_code: 'PAYMENT_DECLINED',
      refund_cents: 0,
      payment_ref: null,
    });
    expect(await h.sagaOf(bookingId)).toMatchObject({
      status: 'compensated',
      step: 'done',
      last_error: 'card_declined',
    });
    expect(await h.unfinishedSagas(bookingId)).toEqual([]);
    expect(kinds(entriesFor(ledgerOf(t), bookingId))).toEqual(['decline']);
    const tickets = await h.db
      .selectFrom('tickets')
      .select('id')
      .where('booking_id', '=', bookingId)
      .execute();
    expect(tickets).toEqual([]);
  });

  it('when the provider charges but fails to answer, then recovery refunds once and frees the seats', async () => {
    const { event, seatIds } = await h.reservedEvent(organizer);
    const user = await t.signUp();
    const before = await h.eventCounts(event.id);
    const held = (await h.hold(user, event.id, { seatIds: [seatIds[4]!] })).json();

    const failed = await h.book(user, held.id, 'tok_charge_then_error');

    expect(failed.statusCode).toBe(503);
    expect(problemOf(failed).code).toBe('PAYMENT_UNAVAILABLE');
    expect(Number(failed.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const bookingId = problemOf(failed).bookingId!;
    expect(await h.bookingRow(bookingId)).toMatchObject({ status: 'pending' });
    expect(await h.sagaOf(bookingId)).toMatchObject({
      status: 'running',
      step: 'settle_charge',
    });

    const saga = await h.settle(bookingId);

    expect(saga).toMatchObject({ status: 'compensated', step: 'done' });
    const row = await h.bookingRow(bookingId);
    expect(row).toMatchObject({ status: 'failed', failure_code: 'PAYMENT_UNAVAILABLE' });
    expect(row.refund_cents).toBe(row.total_cents);
    expect(row.total_cents).toBeGreaterThan(0);
    const entries = entriesFor(ledgerOf(t), bookingId);
    expect(kinds(entries)).toEqual(['charge', 'refund']);
    const charge = entries.find((e) => e.kind === 'charge')!;
    const refund = entries.find((e) => e.kind === 'refund')!;
    expect(refund).toMatchObject({ chargeId: charge.id, amountCents: row.total_cents });
    expect(await h.eventCounts(event.id)).toEqual(before);
    expect(await h.holdRow(held.id)).toMatchObject({ status: 'released' });
    expect(await h.seatStatuses(event.id, [seatIds[4]!])).toEqual({ [seatIds[4]!]: 'available' });
    expect(await h.unfinishedSagas(bookingId)).toEqual([]);
  });

  it('when the provider is slower than the timeout, then it answers 503 and the late charge is refunded once', async () => {
    const event = await h.gaEvent(organizer, 10);
    const user = await t.signUp();
    const held = (await h.hold(user, event.id, { quantity: 2 })).json();

    const slow = await h.book(user, held.id, 'tok_slow');

    expect(slow.statusCode).toBe(503);
    expect(problemOf(slow).code).toBe('PAYMENT_UNAVAILABLE');
    expect(Number(slow.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const bookingId = problemOf(slow).bookingId!;
    expect(await h.bookingRow(bookingId)).toMatchObject({ status: 'pending' });
    expect(await h.sagaOf(bookingId)).toMatchObject({
      status: 'running',
      step: 'settle_charge',
      last_error: 'payment provider timed out',
    });
    // The seats stay held while nobody knows whether the money moved.
    expect(await h.eventCounts(event.id)).toMatchObject({ held: 2, sold: 0, available: 8 });

    const saga = await h.settle(bookingId);

    expect(saga).toMatchObject({ status: 'compensated', step: 'done' });
    const row = await h.bookingRow(bookingId);
    expect(row).toMatchObject({ status: 'failed', refund_cents: row.total_cents });
    expect(row.total_cents).toBe(2 * 2500);
    expect(kinds(entriesFor(ledgerOf(t), bookingId))).toEqual(['charge', 'refund']);
    expect(await h.eventCounts(event.id)).toMatchObject({ held: 0, sold: 0, available: 10 });
    expect(await h.holdRow(held.id)).toMatchObject({ status: 'released' });
    expect(await h.unfinishedSagas(bookingId)).toEqual([]);
    // A later recovery pass finds nothing of this booking's to do and moves no more money.
    await t.deps.booking.sagaDriver.recoverDue();
    expect(kinds(entriesFor(ledgerOf(t), bookingId))).toEqual(['charge', 'refund']);
  });

  describe('GET /api/v1/admin/sagas', () => {
    it('lists sagas with their step, status and last error, filtered by ?status=', async () => {
      const admin = await t.signUp('admin');
      const event = await h.gaEvent(organizer, 10);
      const buyer = await t.signUp();
      const decliner = await t.signUp();
      const waiter = await t.signUp();
      const confirmed = (
        await h.book(buyer, (await h.hold(buyer, event.id, { quantity: 1 })).json().id)
      ).json();
      const declinedId = problemOf(
        await h.book(
          decliner,
          (await h.hold(decliner, event.id, { quantity: 1 })).json().id,
          'tok_declined',
        ),
      ).bookingId!;
      const slowId = problemOf(
        await h.book(
          waiter,
          (await h.hold(waiter, event.id, { quantity: 1 })).json().id,
          'tok_slow',
        ),
      ).bookingId!;
      const list = async (query: string) => {
        const response = await t.inject({
          method: 'GET',
          url: `/api/v1/admin/sagas?limit=100${query}`,
          headers: admin.auth,
        });
        expect(response.statusCode).toBe(200);
        return response.json<{
          items: Array<{
            bookingId: string;
            type: string;
            status: string;
            step: string;
            lastError: string | null;
          }>;
          nextCursor: string | null;
        }>().items;
      };
      const ofOurs = (items: Array<{ bookingId: string }>) =>
        items.filter((s) => [confirmed.id, declinedId, slowId].includes(s.bookingId));

      expect(ofOurs(await list(''))).toHaveLength(3);
      expect(ofOurs(await list('&status=running'))).toEqual([
        expect.objectContaining({
          bookingId: slowId,
          type: 'booking',
          status: 'running',
          step: 'settle_charge',
          lastError: 'payment provider timed out',
        }),
      ]);
      expect(ofOurs(await list('&status=compensated'))).toEqual([
        expect.objectContaining({
          bookingId: declinedId,
          status: 'compensated',
          step: 'done',
          lastError: 'card_declined',
        }),
      ]);
      expect(ofOurs(await list('&status=completed'))).toEqual([
        expect.objectContaining({
          bookingId: confirmed.id,
          status: 'completed',
          step: 'done',
          lastError: null,
        }),
      ]);
      for (const s of await list('&status=compensated')) expect(s.status).toBe('compensated');

      // Paging by cursor, two at a time, walks the same list without repeats or gaps.
      const everything = (await list('')).map((s) => s.bookingId);
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const page: LightMyRequestResponse = await t.inject({
          method: 'GET',
          url: `/api/v1/admin/sagas?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          headers: admin.auth,
        });
        expect(page.statusCode).toBe(200);
        const body = page.json<{
          items: Array<{ bookingId: string }>;
          nextCursor: string | null;
        }>();
        expect(body.items.length).toBeLessThanOrEqual(2);
        walked.push(...body.items.map((s) => s.bookingId));
        cursor = body.nextCursor;
      } while (cursor);
      expect(walked).toEqual(everything);

      // Once settled, the slow one moves from running to compensated.
      expect((await h.settle(slowId)).status).toBe('compensated');
      expect(ofOurs(await list('&status=running'))).toEqual([]);
      expect(
        ofOurs(await list('&status=compensated'))
          .map((s) => s.bookingId)
          .sort(),
      ).toEqual([declinedId, slowId].sort());
    });

    it('refuses users and organizers with 403, anonymous callers with 401, and an unknown status with 400', async () => {
      const admin = await t.signUp('admin');
      const user = await t.signUp();
      const get = (headers: Record<string, string>, query = '') =>
        t.inject({ method: 'GET', url: `/api/v1/admin/sagas${query}`, headers });
      const asUser = await get(user.auth);
      expect(asUser.statusCode).toBe(403);
      expect(asUser.json().code).toBe('FORBIDDEN');
      expect((await get(organizer.auth)).statusCode).toBe(403);
      expect((await get({})).statusCode).toBe(401);
      const bad = await get(admin.auth, '?status=stuck');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().code).toBe('VALIDATION_FAILED');
    });
  });

  describe('Idempotency on POST /api/v1/bookings', () => {
    it('when 20 identical requests share one Idempotency-Key, then one booking is charged once and all get the same 201', async () => {
      const event = await h.gaEvent(organizer, 10);
      const user = await t.signUp();
      const held = (await h.hold(user, event.id, { quantity: 2 })).json();
      const key = { 'idempotency-key': `book-${held.id}` };

      const responses = await Promise.all(
        Array.from({ length: 20 }, () => h.book(user, held.id, 'tok_visa', key)),
      );

      expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
      const first = responses[0]!.json();
      expect(first).toMatchObject({ status: 'confirmed', quantity: 2, totalCents: 5000 });
      for (const response of responses) expect(response.json()).toEqual(first);
      const bookings = await h.db
        .selectFrom('bookings')
        .select(['id', 'status'])
        .where('hold_id', '=', held.id)
        .execute();
      expect(bookings).toEqual([{ id: first.id, status: 'confirmed' }]);
      const charges = ledgerOf(t).entries.filter(
        (e) => e.kind === 'charge' && e.idempotencyKey === first.id,
      );
      expect(charges).toHaveLength(1);
      expect(await h.eventCounts(event.id)).toMatchObject({ held: 0, sold: 2, available: 8 });

      const replay = await h.book(user, held.id, 'tok_visa', key);
      expect(replay.statusCode).toBe(201);
      expect(replay.json()).toEqual(first);

      const reused = await h.book(user, held.id, 'tok_declined', key);
      expect(reused.statusCode).toBe(422);
      expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(
        ledgerOf(t)
          .entries.filter((e) => e.idempotencyKey === first.id)
          .map((e) => e.kind),
      ).toEqual(['charge']);
    });

    it('when the same hold is booked twice at once without a key, then it is charged once and both get the booking', async () => {
      const event = await h.gaEvent(organizer, 10);
      const user = await t.signUp();
      const held = (await h.hold(user, event.id, { quantity: 3 })).json();

      const [a, b] = await Promise.all([h.book(user, held.id), h.book(user, held.id)]);

      expect([a!.statusCode, b!.statusCode]).toEqual([201, 201]);
      expect(a!.json().id).toBe(b!.json().id);
      expect(a!.json().status).toBe('confirmed');
      expect(b!.json().status).toBe('confirmed');
      const bookings = await h.db
        .selectFrom('bookings')
        .select('id')
        .where('hold_id', '=', held.id)
        .execute();
      expect(bookings).toHaveLength(1);
      expect(kinds(entriesFor(ledgerOf(t), a!.json().id))).toEqual(['charge']);
      expect(await h.eventCounts(event.id)).toMatchObject({ held: 0, sold: 3, available: 7 });
    });
  });
});

/** A provider in front of another: refunds and settlements pass through; doubles change charge. */
abstract class PassThroughGateway implements PaymentGateway {
  constructor(protected readonly inner: PaymentGateway) {}

  abstract charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeResult>;

  refund(request: RefundRequest, signal?: AbortSignal) {
    return this.inner.refund(request, signal);
  }

  settleCharge(idempotencyKey: string, signal?: AbortSignal) {
    return this.inner.settleCharge(idempotencyKey, signal);
  }
}

/** Counts what reaches the provider: the proof that an open circuit does not call it. */
class CountingGateway extends PassThroughGateway {
  charges = 0;

  charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeResult> {
    this.charges++;
    return this.inner.charge(request, signal);
  }
}

describe('the payment circuit breaker', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let h: ReturnType<typeof using>;
  const ledger = new PaymentLedger({ slowMs: 600, latencyMs: 0, failureRate: 0 });
  const provider = new CountingGateway(new SimulatedPaymentGateway(ledger));
  beforeAll(async () => {
    t = await createTestApp(
      { PAYMENT_BREAKER_THRESHOLD: '5', PAYMENT_BREAKER_RESET_MS: '500' },
      { paymentGateway: provider },
    );
    organizer = await t.signUp('organizer');
    h = using(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const circuitGauge = async () => {
    const metrics = await t.inject({ method: 'GET', url: '/metrics' });
    const line = metrics.body.split('\n').find((l) => l.startsWith('payment_circuit_state '));
    return Number(line?.split(' ')[1]);
  };
  const paymentsCheck = async () => {
    const status = await t.inject({ method: 'GET', url: '/health/status' });
    return status.json<{ status: string; checks: Record<string, { status: string }> }>();
  };

  it('when 5 bookings time out, then the 6th answers 503 without calling the provider, and after the reset a booking goes through', async () => {
    const event = await h.gaEvent(organizer, 20);
    expect(await circuitGauge()).toBe(0);

    for (let i = 0; i < 5; i++) {
      const user = await t.signUp();
      const held = (await h.hold(user, event.id, { quantity: 1 })).json();
      const slow = await h.book(user, held.id, 'tok_slow');
      expect(slow.statusCode).toBe(503);
    }
    expect(provider.charges).toBe(5);

    const user = await t.signUp();
    const held = (await h.hold(user, event.id, { quantity: 1 })).json();
    const refused = await h.book(user, held.id, 'tok_visa');

    expect(refused.statusCode).toBe(503);
    expect(problemOf(refused).code).toBe('PAYMENT_UNAVAILABLE');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(provider.charges).toBe(5);
    const refusedId = problemOf(refused).bookingId!;
    expect(await h.bookingRow(refusedId)).toMatchObject({
      status: 'failed',
      failure_code: 'PAYMENT_UNAVAILABLE',
      refund_cents: 0,
    });
    expect(await h.sagaOf(refusedId)).toMatchObject({
      status: 'compensated',
      last_error: 'payment circuit is open',
    });
    expect(await h.holdRow(held.id)).toMatchObject({ status: 'active' });
    expect(await circuitGauge()).toBe(1);
    const health = await paymentsCheck();
    expect(health.checks.payments).toMatchObject({ status: 'down', required: false });
    expect(health.status).toBe('degraded');
    // Even once the slow charges have landed, the refused booking has nothing at the provider.
    await sleep(650);
    expect(entriesFor(ledger, refusedId)).toEqual([]);

    // The reset time has passed: the next call is the half-open trial, and it succeeds.
    const booked = await h.book(user, held.id, 'tok_visa');

    expect(booked.statusCode).toBe(201);
    expect(booked.json().status).toBe('confirmed');
    expect(provider.charges).toBe(6);
    expect(t.deps.booking.payments.circuitState).toBe('closed');
    expect(await circuitGauge()).toBe(0);
    expect((await paymentsCheck()).checks.payments).toMatchObject({ status: 'healthy' });
  });
});

describe('a payment provider that cannot be reached', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let h: ReturnType<typeof using>;
  beforeAll(async () => {
    const port = await freePort();
    t = await createTestApp({ PAYMENTS_URL: `http://127.0.0.1:${port}` });
    organizer = await t.signUp('organizer');
    h = using(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when the provider refuses connections, then booking answers 503, fails without a charge and keeps the hold usable', async () => {
    const event = await h.gaEvent(organizer, 10);
    const user = await t.signUp();
    const held = (await h.hold(user, event.id, { quantity: 2 })).json();

    const refused = await h.book(user, held.id, 'tok_visa');

    expect(refused.statusCode).toBe(503);
    expect(problemOf(refused).code).toBe('PAYMENT_UNAVAILABLE');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const bookingId = problemOf(refused).bookingId!;

    const saga = await h.settle(bookingId, 3_000);

    expect(await h.unfinishedSagas(bookingId)).toEqual([]);
    expect(saga.status).toBe('compensated');
    expect(await h.bookingRow(bookingId)).toMatchObject({
      status: 'failed',
      failure_code: 'PAYMENT_UNAVAILABLE',
      refund_cents: 0,
      payment_ref: null,
    });
    expect(await h.holdRow(held.id)).toMatchObject({ status: 'active' });
    expect(await h.eventCounts(event.id)).toMatchObject({ held: 2, sold: 0, available: 8 });
    // The hold is free for another attempt: a new booking is started, not the old one joined.
    const again = await h.book(user, held.id, 'tok_visa');
    expect(again.statusCode).toBe(503);
    expect(problemOf(again).bookingId).not.toBe(bookingId);
  });
});

/**
 * Stands for a charge request that reaches the provider only after its caller gave up on the
 * answer (a timeout, a dropped connection, a crash right after sending): `charge` reports a
 * timeout at once and keeps the request until the test delivers it.
 */
class DelayedDeliveryGateway extends PassThroughGateway {
  private readonly undelivered: ChargeRequest[] = [];

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    this.undelivered.push(request);
    throw new PaymentUnavailableError('payment provider timed out', 'timeout');
  }

  /** The requests arrive at the provider now; answers what it made of them. */
  deliver(): Promise<ChargeResult[]> {
    return Promise.all(this.undelivered.splice(0).map((request) => this.inner.charge(request)));
  }
}

describe('a charge request that reaches the provider after the booking was settled', () => {
  const ledger = new PaymentLedger({ slowMs: 600, latencyMs: 0, failureRate: 0 });
  const provider = new DelayedDeliveryGateway(new SimulatedPaymentGateway(ledger));
  const app = useApp({}, { paymentGateway: provider });

  it('when the provider had no charge at settlement, then the late request is refused and the failed booking took no money', async () => {
    const { t, organizer, h } = app;
    const event = await h.gaEvent(organizer, 10);
    const user = await t.signUp();
    const held = (await h.hold(user, event.id, { quantity: 2 })).json();

    const lost = await h.book(user, held.id, 'tok_visa');
    expect(lost.statusCode).toBe(503);
    const bookingId = problemOf(lost).bookingId!;
    const saga = await h.settle(bookingId, 3_000);
    expect(saga.status).toBe('compensated');
    expect(await h.bookingRow(bookingId)).toMatchObject({
      status: 'failed',
      failure_code: 'PAYMENT_UNAVAILABLE',
      refund_cents: 0,
    });

    // Settling said "nothing was charged"; the request still on its way must not make that
    // untrue (before the key was voided it charged a customer whose booking had failed).
    expect(await provider.deliver()).toEqual([
      { outcome: 'declined', reason: 'idempotency_key_voided' },
    ]);
    expect(kinds(entriesFor(ledger, bookingId))).toEqual(['decline']);
    expect(await h.holdRow(held.id)).toMatchObject({ status: 'active' });
    expect(await h.eventCounts(event.id)).toMatchObject({ held: 2, sold: 0, available: 8 });
  });
});

/** Stands for a provider that takes so long the hold runs out before the money arrives. */
class LateGateway extends PassThroughGateway {
  delayMs = 0;
  constructor(
    inner: PaymentGateway,
    private readonly clock: ManualClock,
  ) {
    super(inner);
  }

  async charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeResult> {
    const result = await this.inner.charge(request, signal);
    this.clock.advance(this.delayMs);
    return result;
  }
}

describe('a payment that succeeds after the hold expired', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let h: ReturnType<typeof using>;
  const clock = new ManualClock();
  const ledger = new PaymentLedger({ slowMs: 600, latencyMs: 0, failureRate: 0 });
  const provider = new LateGateway(new SimulatedPaymentGateway(ledger), clock);
  beforeAll(async () => {
    t = await createTestApp({ HOLD_TTL_SECONDS: '60' }, { clock, paymentGateway: provider });
    organizer = await t.signUp('organizer');
    h = using(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when the charge returns in time, then the booking is confirmed (the wrapper alone changes nothing)', async () => {
    const event = await h.gaEvent(organizer, 10);
    const user = await t.signUp();
    const held = (await h.hold(user, event.id, { quantity: 1 })).json();
    provider.delayMs = 30_000;

    const booked = await h.book(user, held.id);

    expect(booked.statusCode).toBe(201);
    expect(booked.json().status).toBe('confirmed');
  });

  it('when the charge returns after the hold expired, then it answers 410, refunds the charge and frees the seats', async () => {
    const { event, seatIds } = await h.reservedEvent(organizer);
    const user = await t.signUp();
    const before = await h.eventCounts(event.id);
    const held = (await h.hold(user, event.id, { seatIds: seatIds.slice(0, 2) })).json();
    provider.delayMs = 61_000;

    const late = await h.book(user, held.id);

    expect(late.statusCode).toBe(410);
    expect(problemOf(late).code).toBe('HOLD_EXPIRED');
    const bookingId = problemOf(late).bookingId!;
    const row = await h.bookingRow(bookingId);
    expect(row).toMatchObject({ status: 'failed', failure_code: 'HOLD_EXPIRED' });
    expect(row.refund_cents).toBe(row.total_cents);
    expect(row.total_cents).toBeGreaterThan(0);
    const entries = entriesFor(ledger, bookingId);
    expect(kinds(entries)).toEqual(['charge', 'refund']);
    expect(entries.find((e) => e.kind === 'refund')).toMatchObject({
      chargeId: entries.find((e) => e.kind === 'charge')!.id,
      amountCents: row.total_cents,
    });
    expect(await h.sagaOf(bookingId)).toMatchObject({ status: 'compensated', step: 'done' });
    expect(await h.holdRow(held.id)).toMatchObject({ status: 'expired' });
    expect(await h.eventCounts(event.id)).toEqual(before);
    expect(await h.seatStatuses(event.id, seatIds.slice(0, 2))).toEqual({
      [seatIds[0]!]: 'available',
      [seatIds[1]!]: 'available',
    });
    const tickets = await h.db
      .selectFrom('tickets')
      .select('id')
      .where('booking_id', '=', bookingId)
      .execute();
    expect(tickets).toEqual([]);

    // Someone else can have those seats now.
    provider.delayMs = 0;
    const other = await t.signUp();
    const theirs = await h.hold(other, event.id, { seatIds: seatIds.slice(0, 2) });
    expect(theirs.statusCode).toBe(201);
  });
});

/** Runs `whileCharging` after the provider took the money and before it answers. */
class HookedGateway extends PassThroughGateway {
  whileCharging: () => Promise<void> = async () => undefined;

  async charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeResult> {
    const result = await this.inner.charge(request, signal);
    await this.whileCharging();
    return result;
  }
}

describe('a payment that succeeds while the event is being cancelled', () => {
  let t: TestApp;
  let organizer: SignedIn;
  let h: ReturnType<typeof using>;
  const ledger = new PaymentLedger({ slowMs: 600, latencyMs: 0, failureRate: 0 });
  const provider = new HookedGateway(new SimulatedPaymentGateway(ledger));
  beforeAll(async () => {
    t = await createTestApp({}, { paymentGateway: provider });
    organizer = await t.signUp('organizer');
    h = using(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when the cancellation commits before the sale, then nothing is sold, the hold is given back and the charge refunded', async () => {
    const { event, seatIds } = await h.reservedEvent(organizer);
    const user = await t.signUp();
    const held = (await h.hold(user, event.id, { seatIds: seatIds.slice(0, 2) })).json();
    const before = await h.eventCounts(event.id);
    // The cancellation's own write commits while the money is on its way.
    provider.whileCharging = async () => {
      await h.db
        .updateTable('events')
        .set({ status: 'cancelled' })
        .where('id', '=', event.id)
        .execute();
    };

    const late = await h.book(user, held.id);
    provider.whileCharging = async () => undefined;

    const bookingId = problemOf(late).bookingId!;
    expect(problemOf(late).code).toBe('SALES_CLOSED');
    const row = await h.bookingRow(bookingId);
    expect(row).toMatchObject({ status: 'failed', failure_code: 'SALES_CLOSED' });
    expect(row.refund_cents).toBe(row.total_cents);
    expect(kinds(entriesFor(ledger, bookingId))).toEqual(['charge', 'refund']);
    expect(await h.sagaOf(bookingId)).toMatchObject({ status: 'compensated', step: 'done' });
    // Nothing of the rolled-back sale is left: no tickets, no sold seat, counters balanced.
    const tickets = await h.db
      .selectFrom('tickets')
      .select('id')
      .where('booking_id', '=', bookingId)
      .execute();
    expect(tickets).toEqual([]);
    expect(await h.seatStatuses(event.id, seatIds.slice(0, 2))).toEqual({
      [seatIds[0]!]: 'available',
      [seatIds[1]!]: 'available',
    });
    expect(await h.eventCounts(event.id)).toMatchObject({
      sold: 0,
      held: before.held - 2,
      available: before.available + 2,
    });
    expect(await h.holdRow(held.id)).toMatchObject({ status: 'expired' });
  });
});
