/** What a payment provider can answer to a charge. A decline is an answer, not an error. */
export type ChargeResult =
  { outcome: 'succeeded'; chargeId: string } | { outcome: 'declined'; reason: string };

export interface ChargeRequest {
  /** The booking id: a provider charges one key at most once, however often it is asked. */
  idempotencyKey: string;
  amountCents: number;
  currency: string;
  token: string;
}

export interface RefundRequest {
  idempotencyKey: string;
  chargeId: string;
  amountCents: number;
}

export interface ChargeRecord {
  chargeId: string;
  /** pending: the provider is still working on it; ask again later. */
  status: 'pending' | 'succeeded' | 'refunded';
  amountCents: number;
}

/**
 * The provider could not give an answer: an error on its side, a timeout, no connection, or
 * our circuit breaker refusing to call it. Whether money moved is unknown until asked again.
 */
export class PaymentUnavailableError extends Error {
  override name = 'PaymentUnavailableError';
  constructor(
    message: string,
    readonly reason: 'provider_error' | 'timeout' | 'circuit_open' | 'unreachable',
  ) {
    super(message);
  }
}

export interface PaymentGateway {
  charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeResult>;
  refund(request: RefundRequest, signal?: AbortSignal): Promise<{ refundId: string }>;
  /**
   * Settles an unknown outcome (the answer to a charge was lost): the charge made under this
   * key, `pending` while the provider is still making it. When there is none, the provider
   * voids the key, refusing every later charge under it, so `null` is final: a request that
   * is still on its way (sent before a crash, a timeout, a lost connection) can no longer
   * take money after the booking was failed as "nothing charged".
   */
  settleCharge(idempotencyKey: string, signal?: AbortSignal): Promise<ChargeRecord | null>;
}
