import {
  PaymentUnavailableError,
  type ChargeRecord,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
  type RefundRequest,
} from './payment-gateway.js';

const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Talks to a payment provider over HTTP (the shipped simulator speaks the same protocol). */
export class HttpPaymentGateway implements PaymentGateway {
  constructor(private readonly baseUrl: string) {}

  async charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeResult> {
    const response = await this.send('POST', '/charges', request, signal);
    const body = (await response.json()) as { chargeId?: string; reason?: string };
    if (response.status === 402) return { outcome: 'declined', reason: body.reason ?? 'declined' };
    if (response.ok && body.chargeId) return { outcome: 'succeeded', chargeId: body.chargeId };
    throw new PaymentUnavailableError(`provider answered ${response.status}`, 'provider_error');
  }

  async refund(request: RefundRequest, signal?: AbortSignal): Promise<{ refundId: string }> {
    const response = await this.send('POST', '/refunds', request, signal);
    const body = (await response.json()) as { refundId?: string };
    if (response.ok && body.refundId) return { refundId: body.refundId };
    throw new PaymentUnavailableError(`provider answered ${response.status}`, 'provider_error');
  }

  async findCharge(idempotencyKey: string, signal?: AbortSignal): Promise<ChargeRecord | null> {
    const response = await this.send(
      'GET',
      `/charges/${encodeURIComponent(idempotencyKey)}`,
      undefined,
      signal,
    );
    if (response.status === 404) return null;
    if (!response.ok)
      throw new PaymentUnavailableError(`provider answered ${response.status}`, 'provider_error');
    return (await response.json()) as ChargeRecord;
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<Response> {
    try {
      return await fetch(new URL(path, this.baseUrl), {
        method,
        signal,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      // Only a connection that was never made proves nothing was sent; a connection lost
      // after sending may have charged, so that outcome must be asked about later.
      const code = (error as { cause?: { code?: string } }).cause?.code ?? '';
      throw new PaymentUnavailableError(
        `provider unreachable: ${error instanceof Error ? error.message : 'error'} ${code}`.trim(),
        NEVER_CONNECTED.has(code) ? 'unreachable' : 'provider_error',
      );
    }
  }
}
