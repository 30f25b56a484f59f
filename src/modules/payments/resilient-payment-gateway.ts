import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from 'cockatiel';
import { Gauge, type Registry } from 'prom-client';
import {
  PaymentUnavailableError,
  type ChargeRequest,
  type PaymentGateway,
  type RefundRequest,
} from './payment-gateway.js';

export interface ResilienceSettings {
  timeoutMs: number;
  breakerResetMs: number;
  /** Consecutive failures that open the circuit. */
  breakerThreshold: number;
}

const STATE_NAMES: Record<CircuitState, string> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * Every call to the provider goes through a timeout and a circuit breaker; provider errors are
 * retried because every call is idempotent (charges and refunds carry idempotency keys).
 * Timeouts are not retried: the answer may still come, and the saga settles it later.
 */
export class ResilientPaymentGateway implements PaymentGateway {
  private readonly policy: IPolicy;
  private readonly breaker;

  constructor(
    private readonly inner: PaymentGateway,
    settings: ResilienceSettings,
    registry?: Registry,
  ) {
    const countsAsFailure = handleWhen(
      (error) => error instanceof PaymentUnavailableError || error instanceof TaskCancelledError,
    );
    this.breaker = circuitBreaker(countsAsFailure, {
      halfOpenAfter: settings.breakerResetMs,
      breaker: new ConsecutiveBreaker(settings.breakerThreshold),
    });
    const retryProviderErrors = retry(
      handleWhen(
        (error) => error instanceof PaymentUnavailableError && error.reason === 'provider_error',
      ),
      { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 200 }) },
    );
    this.policy = wrap(
      retryProviderErrors,
      this.breaker,
      timeout(settings.timeoutMs, TimeoutStrategy.Aggressive),
    );
    if (registry) {
      const breaker = this.breaker;
      new Gauge({
        name: 'payment_circuit_state',
        help: 'Payment provider circuit: 0 closed, 1 open, 2 half-open',
        registers: [registry],
        collect() {
          this.set(
            breaker.state === CircuitState.Open
              ? 1
              : breaker.state === CircuitState.HalfOpen
                ? 2
                : 0,
          );
        },
      });
    }
  }

  get circuitState(): string {
    return STATE_NAMES[this.breaker.state];
  }

  charge(request: ChargeRequest) {
    return this.run((signal) => this.inner.charge(request, signal));
  }

  refund(request: RefundRequest) {
    return this.run((signal) => this.inner.refund(request, signal));
  }

  settleCharge(idempotencyKey: string) {
    return this.run((signal) => this.inner.settleCharge(idempotencyKey, signal));
  }

  private async run<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await this.policy.execute(({ signal }) => call(signal));
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new PaymentUnavailableError('payment circuit is open', 'circuit_open');
      }
      if (error instanceof TaskCancelledError) {
        throw new PaymentUnavailableError('payment provider timed out', 'timeout');
      }
      throw error;
    }
  }
}
