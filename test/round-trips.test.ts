import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ChargeRequest,
  PaymentGateway,
  RefundRequest,
} from '../src/modules/payments/payment-gateway.js';
import { PaymentLedger } from '../src/modules/payments/payment-ledger.js';
import { SimulatedPaymentGateway } from '../src/modules/payments/simulated-payment-gateway.js';
import { seatIdsOf } from './support/bookings.js';
import { createEvent, createVenue } from './support/fixtures.js';
import { oneLine, StatementCounter, type CountedStatement } from './support/statement-counter.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';
import { api, type HoldBody } from './support/api.js';

/**
 * The booking path's database budget (booking path v2, migration 010): a hold is one
 * statement, a booking's start is one and its confirmation after the charge is one. Counted
 * where the app's database client sends them (see StatementCounter), one request at a time on
 * an otherwise idle app (tests start no background loops), so nothing else is counted. The
 * inventory gate, the catalog cache and the token denylist live in Redis or in process.
 */

const counter = new StatementCounter();

/** The in-process provider, marking the moment of the charge among the statements. */
class MarkingGateway implements PaymentGateway {
  private readonly inner = new SimulatedPaymentGateway(
    new PaymentLedger({ slowMs: 600, latencyMs: 0, failureRate: 0 }),
  );
  charge(request: ChargeRequest) {
    counter.mark('charge');
    return this.inner.charge(request);
  }
  refund(request: RefundRequest) {
    return this.inner.refund(request);
  }
  settleCharge(key: string) {
    return this.inner.settleCharge(key);
  }
}

/** What each statement of the booking path is, by its SQL. */
function nameOf(statement: CountedStatement): string {
  const text = oneLine(statement.sql);
  if (/\bhold_batch\s*\(/i.test(text)) return 'hold_batch';
  if (/\bconfirm_batch\s*\(/i.test(text)) return 'confirm_batch';
  if (/\bstart_booking_batch\s*\(/i.test(text)) return 'booking start';
  return `other: ${text.slice(0, 200)}`;
}

const describeAll = (statements: CountedStatement[]) =>
  statements
    .map(
      (s, i) =>
        `  ${i + 1}. [${nameOf(s)}]${s.after.includes('charge') ? ' (after the charge)' : ''} ` +
        oneLine(s.sql).slice(0, 400),
    )
    .join('\n');

let t: TestApp;
let organizer: SignedIn;

beforeAll(async () => {
  // Before the app opens its database, so its pooled connections are counted too.
  counter.install();
  t = await createTestApp({}, { paymentGateway: new MarkingGateway() });
  organizer = await t.signUp('organizer');
});
afterAll(async () => {
  await t?.close();
  counter.restore();
});

const hold = (user: SignedIn, eventId: string, payload: HoldBody) =>
  api.hold(t, user, eventId, payload);

const book = (user: SignedIn, holdId: string) =>
  t.inject({
    method: 'POST',
    url: '/api/v1/bookings',
    headers: user.auth,
    payload: { holdId, payment: { token: 'tok_visa' } },
  });

async function counted(
  label: string,
  request: () => Promise<LightMyRequestResponse>,
): Promise<{ response: LightMyRequestResponse; statements: CountedStatement[] }> {
  const { result: response, statements } = await counter.during(request);
  console.info(`${label}: ${statements.length} statement(s)\n${describeAll(statements)}`);
  return { response, statements };
}

async function reservedEvent(): Promise<{ eventId: string; seatIds: string[] }> {
  const venue = await createVenue(t, organizer, { rows: 2, seatsPerRow: 5 });
  const event = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id });
  return { eventId: event.id, seatIds: await seatIdsOf(t, event.id) };
}

/**
 * The same request once unmeasured first, so a cold path (a pooled connection's first use, a
 * statement's first preparation, a lazily filled cache) is not what is measured, then measured
 * on a fresh event of the same kind.
 */
describe('database round trips per request', () => {
  it('the counter sees every statement the app sends, transactions included (and only while recording)', async () => {
    // A request known to take several: releasing a hold is a transaction of its own.
    const user = await t.signUp();
    const event = await createEvent(t, organizer, { capacity: 5 });
    const held = await hold(user, event.id, { quantity: 1 });
    expect(held.statusCode, held.body).toBe(201);
    const { result: released, statements } = await counter.during(() =>
      t.inject({
        method: 'DELETE',
        url: `/api/v1/holds/${held.json<{ id: string }>().id}`,
        headers: user.auth,
      }),
    );
    expect(released.statusCode, released.body).toBe(204);
    const texts = statements.map((s) => oneLine(s.sql).toLowerCase());
    expect(texts[0], describeAll(statements)).toMatch(/^begin/);
    expect(texts, describeAll(statements)).toContain('commit');
    expect(
      texts.some((s) => /\bholds\b/.test(s)),
      describeAll(statements),
    ).toBe(true);
    expect(statements.length).toBeGreaterThanOrEqual(3);
    const before = statements.length;
    await t.inject({ method: 'GET', url: '/api/v1/bookings', headers: user.auth });
    expect(statements).toHaveLength(before);
  });

  it('POST /events/:id/holds, general admission: exactly one statement (hold_batch)', async () => {
    const warm = await createEvent(t, organizer, { capacity: 20 });
    expect((await hold(await t.signUp(), warm.id, { quantity: 2 })).statusCode).toBe(201);

    const event = await createEvent(t, organizer, { capacity: 20 });
    const user = await t.signUp();
    const { response, statements } = await counted('GA hold', () =>
      hold(user, event.id, { quantity: 2 }),
    );
    expect(response.statusCode, response.body).toBe(201);
    expect(statements.map(nameOf), describeAll(statements)).toEqual(['hold_batch']);
  });

  it('POST /events/:id/holds, reserved seating: exactly one statement (hold_batch)', async () => {
    const warm = await reservedEvent();
    expect(
      (await hold(await t.signUp(), warm.eventId, { seatIds: warm.seatIds.slice(0, 2) }))
        .statusCode,
    ).toBe(201);

    const { eventId, seatIds } = await reservedEvent();
    const user = await t.signUp();
    const { response, statements } = await counted('reserved hold', () =>
      hold(user, eventId, { seatIds: seatIds.slice(3, 5) }),
    );
    expect(response.statusCode, response.body).toBe(201);
    expect(statements.map(nameOf), describeAll(statements)).toEqual(['hold_batch']);
  });

  it('a refused hold (seat taken) is one statement too', async () => {
    const { eventId, seatIds } = await reservedEvent();
    expect((await hold(await t.signUp(), eventId, { seatIds: [seatIds[0]!] })).statusCode).toBe(
      201,
    );
    const user = await t.signUp();
    const { response, statements } = await counted('refused hold', () =>
      hold(user, eventId, { seatIds: [seatIds[0]!, seatIds[1]!] }),
    );
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json<{ code: string }>().code).toBe('SEAT_UNAVAILABLE');
    expect(statements.map(nameOf), describeAll(statements)).toEqual(['hold_batch']);
  });

  for (const seating of ['general', 'reserved'] as const) {
    it(`POST /bookings, ${seating}: the start before the charge and the confirmation after it, one statement each`, async () => {
      const prepare = async () => {
        const user = await t.signUp();
        if (seating === 'general') {
          const event = await createEvent(t, organizer, { capacity: 10 });
          const held = await hold(user, event.id, { quantity: 2 });
          expect(held.statusCode, held.body).toBe(201);
          return { user, holdId: held.json<{ id: string }>().id };
        }
        const { eventId, seatIds } = await reservedEvent();
        const held = await hold(user, eventId, { seatIds: seatIds.slice(0, 2) });
        expect(held.statusCode, held.body).toBe(201);
        return { user, holdId: held.json<{ id: string }>().id };
      };
      const warm = await prepare();
      expect((await book(warm.user, warm.holdId)).statusCode).toBe(201);

      const { user, holdId } = await prepare();
      const { response, statements } = await counted(`${seating} booking`, () =>
        book(user, holdId),
      );
      expect(response.statusCode, response.body).toBe(201);
      const booking = response.json<{ status: string; tickets: unknown[] }>();
      expect(booking.status).toBe('confirmed');
      expect(booking.tickets).toHaveLength(2);

      const beforeCharge = statements.filter((s) => !s.after.includes('charge'));
      const afterCharge = statements.filter((s) => s.after.includes('charge'));
      // The whole request: at most two statements, and these two.
      expect(statements.length, describeAll(statements)).toBeLessThanOrEqual(2);
      expect(beforeCharge.map(nameOf), describeAll(statements)).toEqual(['booking start']);
      expect(afterCharge.map(nameOf), describeAll(statements)).toEqual(['confirm_batch']);
    });
  }
});
