import Fastify, { type FastifyInstance } from 'fastify';
import { PaymentLedger, ProviderError, type LedgerSettings } from './payment-ledger.js';

/**
 * `evently payments-sim`: a stand-alone payment provider for tests and demos, with latency
 * and failure injection and a ledger that can be inspected at GET /ledger.
 */
export function buildPaymentSimulator(settings: LedgerSettings): {
  app: FastifyInstance;
  ledger: PaymentLedger;
} {
  const ledger = new PaymentLedger(settings);
  const app = Fastify({ logger: false });
  const failed = (error: unknown) => {
    if (error instanceof ProviderError) return { status: 502, body: { error: error.message } };
    throw error;
  };

  app.post<{
    Body: { idempotencyKey: string; amountCents: number; currency: string; token: string };
  }>('/charges', async (request, reply) => {
    try {
      const result = await ledger.charge(request.body);
      if (result.outcome === 'declined') return reply.status(402).send(result);
      return reply.status(201).send(result);
    } catch (error) {
      const { status, body } = failed(error);
      return reply.status(status).send(body);
    }
  });

  app.post<{ Body: { idempotencyKey: string; chargeId: string; amountCents: number } }>(
    '/refunds',
    async (request, reply) => {
      try {
        return reply.status(201).send(await ledger.refund(request.body));
      } catch (error) {
        const { status, body } = failed(error);
        return reply.status(status).send(body);
      }
    },
  );

  app.get<{ Params: { key: string } }>('/charges/:key', async (request, reply) => {
    try {
      const charge = await ledger.findCharge(request.params.key);
      return charge ? charge : reply.status(404).send({ error: 'no such charge' });
    } catch (error) {
      const { status, body } = failed(error);
      return reply.status(status).send(body);
    }
  });

  // Settling a lost answer: the charge, or the key voided so nothing can be charged under it.
  app.post<{ Params: { key: string } }>('/charges/:key/settle', async (request, reply) => {
    try {
      return (await ledger.settleCharge(request.params.key)) ?? { status: 'voided' };
    } catch (error) {
      const { status, body } = failed(error);
      return reply.status(status).send(body);
    }
  });

  app.get('/ledger', async () => ({ entries: ledger.entries }));
  app.get('/health', async () => ({ status: 'ok' }));
  return { app, ledger };
}
