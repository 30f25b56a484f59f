import type { DependencyCheck } from '../../platform/health.js';

/**
 * The payment provider as the circuit breaker sees it: open (or isolated) is down, half-open
 * (one trial call let through) is degraded. Not required: bookings wait in their sagas while it
 * is away, and every other request is served.
 */
export function paymentHealthCheck(payments: { readonly circuitState: string }): DependencyCheck {
  return {
    name: 'payments',
    required: false,
    check: async () => {
      const state = payments.circuitState;
      if (state === 'open' || state === 'isolated') throw new Error(`circuit ${state}`);
      return state === 'half-open' ? 'degraded' : undefined;
    },
  };
}
