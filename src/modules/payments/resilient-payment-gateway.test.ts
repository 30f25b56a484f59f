import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPaymentGateway } from './http-payment-gateway.js';
import {
  PaymentUnavailableError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
  type RefundRequest,
} from './payment-gateway.js';
import { PaymentLedger, type LedgerEntry } from './payment-ledger.js';
import { buildPaymentSimulator } from './payment-simulator.js';
import { ResilientPaymentGateway } from './resilient-payment-gateway.js';
import { SimulatedPaymentGateway } from './simulated-payment-gateway.js';
import { sleep } from '../../../test/support/kit.js';

let sequence = 0;
const chargeOf = (token: string, amountCents = 1_000): ChargeRequest => ({
  idempotencyKey: `booking-${Date.now()}-${++sequence}`,
  amountCents,
  currency: 'EUR',
  token,
});

/** Counts the calls that reach the provider; `failNext` makes the next ones fail first. */
class CountingGateway implements PaymentGateway {
  calls = 0;
  failNext = 0;
  constructor(private readonly inner: PaymentGateway) {}

  async charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeResult> {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new PaymentUnavailableError('injected provider failure', 'provider_error');
    }
    return this.inner.charge(request, signal);
  }

  refund(request: RefundRequest, signal?: AbortSignal) {
    this.calls++;
    return this.inner.refund(request, signal);
  }

  settleCharge(idempotencyKey: string, signal?: AbortSignal) {
    this.calls++;
    return this.inner.settleCharge(idempotencyKey, signal);
  }
}

function resilient(
  settings: Partial<{ timeoutMs: number; breakerResetMs: number; breakerThreshold: number }> = {},
) {
  const ledger = new PaymentLedger({ slowMs: 250, latencyMs: 0, failureRate: 0 });
  const provider = new CountingGateway(new SimulatedPaymentGateway(ledger));
  const gateway = new ResilientPaymentGateway(provider, {
    timeoutMs: 100,
    breakerResetMs: 60_000,
    breakerThreshold: 5,
    ...settings,
  });
  return { ledger, provider, gateway };
}

const entriesOf = (ledger: PaymentLedger, key: string) =>
  ledger.entries.filter((e) => e.idempotencyKey === key);

async function unavailable(promise: Promise<unknown>): Promise<PaymentUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PaymentUnavailableError);
  return error as PaymentUnavailableError;
}

describe('ResilientPaymentGateway', () => {
  it('passes a successful charge and a decline straight through, once each', async () => {
    const { ledger, provider, gateway } = resilient();
    const visa = chargeOf('tok_visa');
    const declined = chargeOf('tok_declined');

    const charged = await gateway.charge(visa);
    const refused = await gateway.charge(declined);

    expect(charged).toMatchObject({ outcome: 'succeeded', chargeId: expect.any(String) });
    expect(refused).toEqual({ outcome: 'declined', reason: 'card_declined' });
    expect(provider.calls).toBe(2);
    expect(entriesOf(ledger, visa.idempotencyKey).map((e) => e.kind)).toEqual(['charge']);
    expect(entriesOf(ledger, declined.idempotencyKey).map((e) => e.kind)).toEqual(['decline']);
  });

  it('when the provider is slower than the timeout, then it fails with reason timeout and does not retry', async () => {
    const { ledger, provider, gateway } = resilient({ timeoutMs: 100 });
    const slow = chargeOf('tok_slow');
    const started = Date.now();

    const error = await unavailable(gateway.charge(slow));

    expect(error.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(250);
    expect(provider.calls).toBe(1);
    // The provider is still working on it; its charge lands later, and only once.
    expect(await gateway.settleCharge(slow.idempotencyKey)).toMatchObject({ status: 'pending' });
    await sleep(300);
    expect(await gateway.settleCharge(slow.idempotencyKey)).toMatchObject({
      status: 'succeeded',
      amountCents: slow.amountCents,
    });
    expect(entriesOf(ledger, slow.idempotencyKey).map((e) => e.kind)).toEqual(['charge']);
  });

  it('when the provider charges but answers with an error, then the retries reuse the key and it is charged once', async () => {
    const { ledger, provider, gateway } = resilient();
    const request = chargeOf('tok_charge_then_error');

    const error = await unavailable(gateway.charge(request));

    expect(error.reason).toBe('provider_error');
    expect(provider.calls).toBe(3);
    expect(entriesOf(ledger, request.idempotencyKey).map((e) => e.kind)).toEqual(['charge']);
    const record = await gateway.settleCharge(request.idempotencyKey);
    expect(record).toMatchObject({ status: 'succeeded', amountCents: request.amountCents });
  });

  it('when a provider error is followed by success, then the caller only sees the success', async () => {
    const { ledger, provider, gateway } = resilient();
    provider.failNext = 1;
    const request = chargeOf('tok_visa');

    const result = await gateway.charge(request);

    expect(result.outcome).toBe('succeeded');
    expect(provider.calls).toBe(2);
    expect(entriesOf(ledger, request.idempotencyKey).map((e) => e.kind)).toEqual(['charge']);
  });

  it('when a provider error happens before charging, then nothing is recorded however often it is retried', async () => {
    const { ledger, provider, gateway } = resilient();
    const request = chargeOf('tok_error');

    const error = await unavailable(gateway.charge(request));

    expect(error.reason).toBe('provider_error');
    expect(provider.calls).toBe(3);
    expect(entriesOf(ledger, request.idempotencyKey)).toEqual([]);
    expect(await gateway.settleCharge(request.idempotencyKey)).toBeNull();
  });

  it('when failures reach the threshold, then the circuit opens and calls fail at once without reaching the provider', async () => {
    const registry = new Registry();
    const ledger = new PaymentLedger({ slowMs: 250, latencyMs: 0, failureRate: 0 });
    const provider = new CountingGateway(new SimulatedPaymentGateway(ledger));
    const gateway = new ResilientPaymentGateway(
      provider,
      { timeoutMs: 50, breakerResetMs: 300, breakerThreshold: 3 },
      registry,
    );
    const gauge = async () =>
      (await registry.getSingleMetric('payment_circuit_state')!.get()).values[0]!.value;
    expect(gateway.circuitState).toBe('closed');
    expect(await gauge()).toBe(0);

    for (let i = 0; i < 3; i++) {
      expect((await unavailable(gateway.charge(chargeOf('tok_slow')))).reason).toBe('timeout');
    }
    expect(gateway.circuitState).toBe('open');
    expect(await gauge()).toBe(1);

    const callsBefore = provider.calls;
    const visa = chargeOf('tok_visa');
    const started = Date.now();
    const refused = await unavailable(gateway.charge(visa));
    expect(refused.reason).toBe('circuit_open');
    expect(Date.now() - started).toBeLessThan(50);
    expect((await unavailable(gateway.settleCharge(visa.idempotencyKey))).reason).toBe(
      'circuit_open',
    );
    expect(provider.calls).toBe(callsBefore);
    expect(entriesOf(ledger, visa.idempotencyKey)).toEqual([]);

    await sleep(350);
    const trial = await gateway.charge(visa);
    expect(trial.outcome).toBe('succeeded');
    expect(gateway.circuitState).toBe('closed');
    expect(await gauge()).toBe(0);
  });

  it('when a half-open trial fails, then the circuit opens again', async () => {
    const { provider, gateway } = resilient({
      timeoutMs: 50,
      breakerResetMs: 200,
      breakerThreshold: 2,
    });
    for (let i = 0; i < 2; i++) await unavailable(gateway.charge(chargeOf('tok_slow')));
    expect(gateway.circuitState).toBe('open');
    await sleep(250);

    expect((await unavailable(gateway.charge(chargeOf('tok_slow')))).reason).toBe('timeout');

    expect(gateway.circuitState).toBe('open');
    const calls = provider.calls;
    expect((await unavailable(gateway.charge(chargeOf('tok_visa')))).reason).toBe('circuit_open');
    expect(provider.calls).toBe(calls);
  });

  it('does not count declines as failures: the circuit stays closed', async () => {
    const { gateway } = resilient({ breakerThreshold: 2 });
    for (let i = 0; i < 5; i++) {
      expect((await gateway.charge(chargeOf('tok_declined'))).outcome).toBe('declined');
    }
    expect(gateway.circuitState).toBe('closed');
  });
});

const simulators: FastifyInstance[] = [];
afterAll(async () => {
  await Promise.all(simulators.map((app) => app.close()));
});

/**
 * The PaymentGateway port's contract: the in-process provider of the embedded mode and the HTTP
 * adapter (against the shipped simulator) answer every case alike. A real provider's adapter
 * joins the table.
 */
describe.each<[string, () => Promise<{ gateway: PaymentGateway; ledger: PaymentLedger }>]>([
  [
    'simulated, in process',
    async () => {
      const ledger = new PaymentLedger({ slowMs: 300, latencyMs: 0, failureRate: 0 });
      return { gateway: new SimulatedPaymentGateway(ledger), ledger };
    },
  ],
  [
    'http, against the simulator',
    async () => {
      const built = buildPaymentSimulator({ slowMs: 300, latencyMs: 0, failureRate: 0 });
      simulators.push(built.app);
      const url = await built.app.listen({ port: 0, host: '127.0.0.1' });
      return { gateway: new HttpPaymentGateway(url), ledger: built.ledger };
    },
  ],
])('PaymentGateway contract (%s)', (_name, make) => {
  let gateway: PaymentGateway;
  let ledger: PaymentLedger;
  beforeAll(async () => {
    ({ gateway, ledger } = await make());
  });
  const entriesOf = async (key: string) =>
    ledger.entries.filter((e) => e.idempotencyKey === key || e.idempotencyKey === `refund:${key}`);

  it('when one key is charged twice, then both answers carry the same charge and the ledger has one', async () => {
    const request = chargeOf('tok_visa', 4_200);

    const first = await gateway.charge(request);
    const second = await gateway.charge(request);

    expect(first.outcome).toBe('succeeded');
    expect(second).toEqual(first);
    const entries = await entriesOf(request.idempotencyKey);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'charge', amountCents: 4_200, currency: 'EUR' });
  });

  it('when concurrent charges share a key, then the ledger still has one charge', async () => {
    const request = chargeOf('tok_visa');

    const results = await Promise.all(Array.from({ length: 5 }, () => gateway.charge(request)));

    expect(
      new Set(results.map((r) => (r.outcome === 'succeeded' ? r.chargeId : r.reason))).size,
    ).toBe(1);
    expect((await entriesOf(request.idempotencyKey)).map((e) => e.kind)).toEqual(['charge']);
  });

  it('answers a declined card as a declined outcome, not an error', async () => {
    const request = chargeOf('tok_declined');

    const result = await gateway.charge(request);

    expect(result).toEqual({ outcome: 'declined', reason: 'card_declined' });
    expect((await entriesOf(request.idempotencyKey)).map((e) => e.kind)).toEqual(['decline']);
    expect(await gateway.settleCharge(request.idempotencyKey)).toBeNull();
  });

  it('refunds a charge once, however often the refund is sent, and settleCharge then says refunded', async () => {
    const request = chargeOf('tok_visa', 3_000);
    const charged = await gateway.charge(request);
    if (charged.outcome !== 'succeeded') throw new Error('charge failed');
    expect(await gateway.settleCharge(request.idempotencyKey)).toEqual({
      chargeId: charged.chargeId,
      status: 'succeeded',
      amountCents: 3_000,
    });
    const refund: RefundRequest = {
      idempotencyKey: `refund:${request.idempotencyKey}`,
      chargeId: charged.chargeId,
      amountCents: 3_000,
    };

    const first = await gateway.refund(refund);
    const second = await gateway.refund(refund);

    expect(first.refundId).toEqual(expect.any(String));
    expect(second).toEqual(first);
    expect(await gateway.settleCharge(request.idempotencyKey)).toEqual({
      chargeId: charged.chargeId,
      status: 'refunded',
      amountCents: 3_000,
    });
    const entries = await entriesOf(request.idempotencyKey);
    expect(entries.map((e) => e.kind)).toEqual(['charge', 'refund']);
    expect(entries[1]).toMatchObject({ chargeId: charged.chargeId, amountCents: 3_000 });
  });

  it('answers null from settleCharge for a key it never saw', async () => {
    expect(await gateway.settleCharge(`never-charged-${randomUUID()}`)).toBeNull();
  });

  it('when a charge arrives after its key was settled as never charged, then it is refused and no money moves', async () => {
    // The request a crashed or timed-out caller sent, reaching the provider after the saga
    // concluded "nothing was charged" and failed the booking.
    const late = chargeOf('tok_visa', 2_500);
    expect(await gateway.settleCharge(late.idempotencyKey)).toBeNull();

    const result = await gateway.charge(late);

    expect(result).toEqual({ outcome: 'declined', reason: 'idempotency_key_voided' });
    expect((await entriesOf(late.idempotencyKey)).map((e) => e.kind)).toEqual(['decline']);
    expect(await gateway.settleCharge(late.idempotencyKey)).toBeNull();
  });

  it('reports provider errors as PaymentUnavailableError provider_error', async () => {
    const error = await unavailable(gateway.charge(chargeOf('tok_error')));
    expect(error.reason).toBe('provider_error');
    const unknownCharge = await unavailable(
      gateway.refund({ idempotencyKey: 'refund:nothing', chargeId: 'ch_nothing', amountCents: 1 }),
    );
    expect(unknownCharge.reason).toBe('provider_error');
  });
});

describe('HttpPaymentGateway against the payment simulator', () => {
  let simulator: FastifyInstance;
  let baseUrl: string;
  beforeAll(async () => {
    const built = buildPaymentSimulator({ slowMs: 300, latencyMs: 0, failureRate: 0 });
    simulator = built.app;
    baseUrl = await simulator.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await simulator?.close();
  });

  const ledgerOverHttp = async (key: string) => {
    const response = await fetch(new URL('/ledger', baseUrl));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { entries: LedgerEntry[] };
    return body.entries.filter(
      (e) => e.idempotencyKey === key || e.idempotencyKey === `refund:${key}`,
    );
  };

  it('when the simulator is slow, then the resilient gateway gives up at its timeout and the late charge is found', async () => {
    const gateway = new ResilientPaymentGateway(new HttpPaymentGateway(baseUrl), {
      timeoutMs: 100,
      breakerResetMs: 60_000,
      breakerThreshold: 5,
    });
    const request = chargeOf('tok_slow');

    expect((await unavailable(gateway.charge(request))).reason).toBe('timeout');

    await sleep(350);
    expect(await gateway.settleCharge(request.idempotencyKey)).toMatchObject({
      status: 'succeeded',
    });
    expect((await ledgerOverHttp(request.idempotencyKey)).map((e) => e.kind)).toEqual(['charge']);
  });

  it('when nothing listens at the address, then it reports the provider unreachable', async () => {
    const closed = buildPaymentSimulator({ slowMs: 0, latencyMs: 0, failureRate: 0 }).app;
    const url = await closed.listen({ port: 0, host: '127.0.0.1' });
    await closed.close();
    const error = await unavailable(new HttpPaymentGateway(url).charge(chargeOf('tok_visa')));
    expect(error.reason).toBe('unreachable');
  });
});
