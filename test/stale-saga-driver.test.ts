import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  PaymentUnavailableError,
  type ChargeRequest,
  type PaymentGateway,
  type RefundRequest,
} from '../src/modules/payments/payment-gateway.js';
import { createEvent } from './support/fixtures.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';

/** A provider whose first charge call hangs (until the caller's timeout); later calls charge. */
class FirstCallHangs implements PaymentGateway {
  chargeCalls = 0;
  chargeId: string | undefined;
  refunds: RefundRequest[] = [];
  async charge(request: ChargeRequest, signal?: AbortSignal) {
    this.chargeCalls++;
    if (this.chargeCalls === 1) {
      await new Promise((_, reject) =>
        signal?.addEventListener('abort', () =>
          reject(new PaymentUnavailableError('aborted', 'timeout')),
        ),
      );
    }
    this.chargeId ??= `ch_${randomUUID()}`;
    return { outcome: 'succeeded' as const, chargeId: this.chargeId };
  }
  async refund(request: RefundRequest) {
    this.refunds.push(request);
    return { refundId: `re_${randomUUID()}` };
  }
  async settleCharge() {
    return this.chargeId
      ? {
          chargeId: this.chargeId,
          status: (this.refunds.length ? 'refunded' : 'succeeded') as 'succeeded',
          amountCents: 2500,
        }
      : null;
  }
}

import { sleep } from './support/child-process.js';
import { api } from './support/api.js';
const gateway = new FirstCallHangs();
let t: TestApp;
let organizer: SignedIn;
beforeAll(async () => {
  t = await createTestApp(
    { SAGA_LEASE_MS: '500', PAYMENT_TIMEOUT_MS: '1000', SAGA_RETRY_DELAY_MS: '100' },
    { paymentGateway: gateway },
  );
  organizer = await t.signUp('organizer');
});
afterAll(async () => t?.close());

it("when a driver's step outlives its lease and another driver confirms the booking, then the late driver changes nothing: no refund, tickets valid", async () => {
  const db = t.deps.database.db;
  const event = await createEvent(t, organizer, { capacity: 5 });
  const user = await t.signUp();
  const hold = await api.hold(t, user, event.id, { quantity: 1 });
  expect(hold.statusCode).toBe(201);
  // Driver A: the request's inline drive; its charge call hangs until PAYMENT_TIMEOUT_MS.
  const answer = t.inject({
    method: 'POST',
    url: '/api/v1/bookings',
    headers: user.auth,
    payload: { holdId: hold.json().id, payment: { token: 'tok_visa' } },
  });
  // Driver B: the recovery loop, once A's lease (500 ms) has run out: charges and confirms.
  await sleep(650);
  expect(await t.deps.booking.sagaDriver.recoverDue()).toBe(1);
  const booking = await db
    .selectFrom('bookings')
    .selectAll()
    .where('hold_id', '=', hold.json().id)
    .executeTakeFirstOrThrow();
  expect(booking.status).toBe('confirmed');

  // A's charge times out; A must not write over the saga B finished.
  const response = await answer;
  expect(response.statusCode).toBe(201);
  expect(response.json().status).toBe('confirmed');
  // Nothing is left for recovery to pick up and compensate.
  await sleep(200);
  expect(await t.deps.booking.sagaDriver.recoverDue()).toBe(0);

  const saga = await db
    .selectFrom('sagas')
    .selectAll()
    .where('booking_id', '=', booking.id)
    .executeTakeFirstOrThrow();
  expect([saga.status, saga.step]).toEqual(['completed', 'done']);
  const after = await db
    .selectFrom('bookings')
    .selectAll()
    .where('id', '=', booking.id)
    .executeTakeFirstOrThrow();
  expect([after.status, after.refund_cents]).toEqual(['confirmed', 0]);
  const tickets = await db
    .selectFrom('tickets')
    .select('status')
    .where('booking_id', '=', booking.id)
    .execute();
  expect(tickets).toEqual([{ status: 'valid' }]);
  expect(gateway.refunds).toEqual([]);
  const messages = await db
    .selectFrom('outbox')
    .select('type')
    .where('aggregate_id', '=', booking.id)
    .execute();
  expect(messages.map((m) => m.type)).toEqual(['booking.confirmed']);
});
