import type { Kysely } from 'kysely';
import type { DB } from './database/schema.js';
import { activeTraceContext } from './telemetry.js';

export interface OutboxMessage {
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload: Record<string, unknown>;
}

/**
 * Records messages in the caller's transaction, so they exist exactly when the change they
 * describe was committed. A relay publishes them later.
 */
export async function writeOutbox(trx: Kysely<DB>, messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  // The writer's trace, so the consumers' spans continue it; null when nothing is traced.
  const carrier = activeTraceContext();
  const traceContext = carrier ? JSON.stringify(carrier) : null;
  await trx
    .insertInto('outbox')
    .values(
      messages.map((m) => ({
        type: m.type,
        aggregate_type: m.aggregateType,
        aggregate_id: m.aggregateId,
        payload: JSON.stringify(m.payload),
        trace_context: traceContext,
      })),
    )
    .execute();
}
