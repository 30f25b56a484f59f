import { sql, type Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import type { DB } from '../database/schema.js';
import type { MessageBus } from '../ports/message-bus.js';
import { withTimeout } from '../timeout.js';

/** A scrape must answer even when the broker hangs: a queue not checked by then is left out. */
const QUEUE_CHECK_TIMEOUT_MS = 1000;
/** The two outbox gauges share one query per scrape. */
const OUTBOX_READING_REUSE_MS = 500;

interface OutboxReading {
  pending: number;
  lagSeconds: number;
}

/**
 * The asynchronous pipeline's Prometheus gauges, all read at scrape time: the outbox backlog
 * and its age, each consumer's queue depth and its dead letters not yet retried. A reading
 * that fails never fails the scrape: a database gauge keeps its last value, a queue's depth is
 * left out while the broker cannot be asked.
 */
export function registerMessagingMetrics(input: {
  registry: Registry;
  db: Kysely<DB>;
  bus: MessageBus;
  /** Dead letters not yet retried, per consumer (their owner answers). */
  deadLettersByConsumer: () => Promise<Array<{ consumer: string; count: number }>>;
  /** The consumers whose queues and dead letters are always reported, at 0 when empty. */
  consumers: () => string[];
}): void {
  const { registry, db, bus } = input;
  let outbox: { at: number; reading: Promise<OutboxReading> } | undefined;
  const readOutbox = () => {
    if (!outbox || Date.now() - outbox.at > OUTBOX_READING_REUSE_MS) {
      outbox = { at: Date.now(), reading: queryOutbox(db) };
    }
    return outbox.reading;
  };

  new Gauge({
    name: 'outbox_pending_messages',
    help: 'Outbox rows not yet published to the bus',
    registers: [registry],
    async collect() {
      await readOutbox().then(
        (r) => this.set(r.pending),
        () => undefined,
      );
    },
  });
  new Gauge({
    name: 'outbox_lag_seconds',
    help: 'Age of the oldest unpublished outbox row in seconds (0 when none)',
    registers: [registry],
    async collect() {
      await readOutbox().then(
        (r) => this.set(r.lagSeconds),
        () => undefined,
      );
    },
  });
  new Gauge({
    name: 'queue_depth',
    help: "Messages waiting in each consumer's queue",
    labelNames: ['consumer'],
    registers: [registry],
    async collect() {
      await Promise.all(
        input.consumers().map(async (consumer) => {
          const depth = await withTimeout(
            bus.queueDepth(consumer),
            QUEUE_CHECK_TIMEOUT_MS,
            'timed out',
          ).catch(() => undefined);
          // An old depth would look like a live one: while the broker is away there is none.
          if (depth === undefined) this.remove({ consumer });
          else this.set({ consumer }, depth);
        }),
      );
    },
  });
  new Gauge({
    name: 'dead_letters',
    help: 'Dead-lettered messages not yet retried, per consumer',
    labelNames: ['consumer'],
    registers: [registry],
    async collect() {
      const rows = await input.deadLettersByConsumer().catch(() => undefined);
      if (!rows) return;
      // Consumers whose letters were all retried drop back to 0 instead of keeping a stale count.
      this.reset();
      for (const consumer of input.consumers()) this.set({ consumer }, 0);
      for (const row of rows) this.set({ consumer: row.consumer }, Number(row.count));
    },
  });
}

async function queryOutbox(db: Kysely<DB>): Promise<OutboxReading> {
  // Both read only unpublished rows, through the partial index outbox_unpublished_idx.
  const { rows } = await sql<{ pending: number; lag_seconds: number }>`
    SELECT count(*)::int AS pending,
      GREATEST(0, COALESCE(EXTRACT(EPOCH FROM now() - (
        SELECT created_at FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 1
      )), 0))::float8 AS lag_seconds
    FROM outbox WHERE published_at IS NULL`.execute(db);
  const row = rows[0];
  return { pending: Number(row?.pending ?? 0), lagSeconds: Number(row?.lag_seconds ?? 0) };
}
