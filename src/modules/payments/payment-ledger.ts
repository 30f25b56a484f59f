import { randomUUID } from 'node:crypto';
import type {
  ChargeRecord,
  ChargeRequest,
  ChargeResult,
  RefundRequest,
} from './payment-gateway.js';

/** A provider-side failure, reported to the caller as a 5xx by the simulator. */
export class ProviderError extends Error {
  override name = 'ProviderError';
}

export interface LedgerSettings {
  /** How long `tok_slow` takes (longer than the caller's timeout). */
  slowMs: number;
  /** Extra latency on every call. */
  latencyMs: number;
  /** Probability (0..1) of a provider error on any call, before anything is recorded. */
  failureRate: number;
}

export interface LedgerEntry {
  kind: 'charge' | 'refund' | 'decline';
  id: string;
  idempotencyKey: string;
  amountCents: number;
  currency?: string;
  chargeId?: string;
  at: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The simulated payment provider's books: charges deduplicated by idempotency key, refunds,
 * declines. Used in process by the simulated gateway and behind HTTP by `evently payments-sim`.
 *
 * Tokens: tok_visa succeeds, tok_declined is declined, tok_slow succeeds after `slowMs`,
 * tok_error fails before charging, tok_charge_then_error charges and then fails to answer.
 */
export class PaymentLedger {
  readonly entries: LedgerEntry[] = [];
  private readonly charges = new Map<
    string,
    { result: ChargeResult; amountCents: number; refunded: boolean; answersWithError?: boolean }
  >();
  private readonly inFlight = new Map<string, Promise<ChargeResult>>();
  private readonly refunds = new Map<string, string>();
  /** Keys settled as "never charged": a charge arriving under one later is refused. */
  private readonly voided = new Set<string>();

  constructor(private readonly settings: LedgerSettings) {}

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    await this.simulateLatency();
    const known = this.charges.get(request.idempotencyKey);
    if (known?.answersWithError)
      throw new ProviderError('the provider charged but failed to answer');
    if (known) return known.result;
    if (this.voided.has(request.idempotencyKey)) {
      this.record('decline', `dc_${randomUUID()}`, request.idempotencyKey, request.amountCents);
      return { outcome: 'declined', reason: 'idempotency_key_voided' };
    }
    const running = this.inFlight.get(request.idempotencyKey);
    if (running) return running;
    const attempt = this.performCharge(request).finally(() =>
      this.inFlight.delete(request.idempotencyKey),
    );
    this.inFlight.set(request.idempotencyKey, attempt);
    return attempt;
  }

  async refund(request: RefundRequest): Promise<{ refundId: string }> {
    await this.simulateLatency();
    const existing = this.refunds.get(request.idempotencyKey);
    if (existing) return { refundId: existing };
    const charge = [...this.charges.values()].find(
      (c) => c.result.outcome === 'succeeded' && c.result.chargeId === request.chargeId,
    );
    if (!charge) throw new ProviderError(`no charge ${request.chargeId}`);
    const refundId = `re_${randomUUID()}`;
    charge.refunded = true;
    this.refunds.set(request.idempotencyKey, refundId);
    this.record('refund', refundId, request.idempotencyKey, request.amountCents, {
      chargeId: request.chargeId,
    });
    return { refundId };
  }

  async findCharge(idempotencyKey: string): Promise<ChargeRecord | null> {
    await this.simulateLatency();
    const charge = this.charges.get(idempotencyKey);
    if (!charge && this.inFlight.has(idempotencyKey)) {
      return { chargeId: '', status: 'pending', amountCents: 0 };
    }
    if (!charge || charge.result.outcome !== 'succeeded') return null;
    return {
      chargeId: charge.result.chargeId,
      status: charge.refunded ? 'refunded' : 'succeeded',
      amountCents: charge.amountCents,
    };
  }

  /** findCharge, and when nothing was charged under the key, the key is voided for good. */
  async settleCharge(idempotencyKey: string): Promise<ChargeRecord | null> {
    const record = await this.findCharge(idempotencyKey);
    // A declined charge is no charge either: findCharge answers null and the void keeps it so.
    if (!record) this.voided.add(idempotencyKey);
    return record;
  }

  private async performCharge(request: ChargeRequest): Promise<ChargeResult> {
    switch (request.token) {
      case 'tok_error':
        throw new ProviderError('the provider failed before charging');
      case 'tok_declined': {
        const result: ChargeResult = { outcome: 'declined', reason: 'card_declined' };
        this.charges.set(request.idempotencyKey, {
          result,
          amountCents: request.amountCents,
          refunded: false,
        });
        this.record('decline', `dc_${randomUUID()}`, request.idempotencyKey, request.amountCents);
        return result;
      }
      case 'tok_slow':
        await sleep(this.settings.slowMs);
        return this.succeed(request);
      case 'tok_charge_then_error':
        this.succeed(request);
        this.charges.get(request.idempotencyKey)!.answersWithError = true;
        throw new ProviderError('the provider charged but failed to answer');
      case 'tok_visa':
        return this.succeed(request);
      default: {
        const result: ChargeResult = { outcome: 'declined', reason: 'unknown_token' };
        this.record('decline', `dc_${randomUUID()}`, request.idempotencyKey, request.amountCents);
        return result;
      }
    }
  }

  private succeed(request: ChargeRequest): ChargeResult {
    const chargeId = `ch_${randomUUID()}`;
    const result: ChargeResult = { outcome: 'succeeded', chargeId };
    this.charges.set(request.idempotencyKey, {
      result,
      amountCents: request.amountCents,
      refunded: false,
    });
    this.record('charge', chargeId, request.idempotencyKey, request.amountCents, {
      currency: request.currency,
    });
    return result;
  }

  private record(
    kind: LedgerEntry['kind'],
    id: string,
    idempotencyKey: string,
    amountCents: number,
    extra: Partial<LedgerEntry> = {},
  ): void {
    this.entries.push({
      kind,
      id,
      idempotencyKey,
      amountCents,
      at: new Date().toISOString(),
      ...extra,
    });
  }

  private async simulateLatency(): Promise<void> {
    if (this.settings.latencyMs > 0) await sleep(this.settings.latencyMs);
    if (this.settings.failureRate > 0 && Math.random() < this.settings.failureRate) {
      throw new ProviderError('injected provider failure');
    }
  }
}
