import {
  PaymentUnavailableError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
  type RefundRequest,
} from './payment-gateway.js';
import { ProviderError, type PaymentLedger } from './payment-ledger.js';

/** The in-process provider of the embedded mode (and of most tests). */
export class SimulatedPaymentGateway implements PaymentGateway {
  constructor(readonly ledger: PaymentLedger) {}

  charge(request: ChargeRequest): Promise<ChargeResult> {
    return this.call(() => this.ledger.charge(request));
  }

  refund(request: RefundRequest): Promise<{ refundId: string }> {
    return this.call(() => this.ledger.refund(request));
  }

  settleCharge(idempotencyKey: string) {
    return this.call(() => this.ledger.settleCharge(idempotencyKey));
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ProviderError)
        throw new PaymentUnavailableError(error.message, 'provider_error');
      throw error;
    }
  }
}
