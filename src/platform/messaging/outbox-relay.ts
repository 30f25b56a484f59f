import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../database/database.js';
import type { MessageBus } from '../ports/message-bus.js';

/** How long after raising the idle flag the relay looks at the outbox once more. */
const IDLE_RECHECK_MS = 50;

export interface RelaySettings {
  batchSize: number;
  /** Fallback poll when no NOTIFY arrives (a lost notification never strands a message). */
  pollMs: number;
}

/**
 * Publishes outbox rows to the bus, oldest first, and marks them sent once the broker has
 * confirmed them. Rows are claimed FOR UPDATE SKIP LOCKED, so relays on many instances never
 * publish the same row in the normal case; a relay that dies after publishing and before
 * marking leaves the rows to be published again (at-least-once: consumers deduplicate).
 */
export class OutboxRelay {
  private stopListening: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  published = 0;

  constructor(
    private readonly deps: {
      database: Database;
      bus: MessageBus;
      settings: RelaySettings;
      logger: Logger;
    },
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.stopListening = await this.deps.database
      .listen('evently_outbox', () => this.wake())
      .catch((error: unknown) => {
        this.deps.logger.warn({ err: error }, 'outbox LISTEN failed; polling only');
        return undefined;
      });
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.stopListening?.();
    await this.running;
  }

  /** Publishes one batch; returns how many rows it published. */
  async relayOnce(): Promise<number> {
    return this.deps.database.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{
        id: string;
        message_id: string;
        type: string;
        payload: Record<string, unknown>;
        trace_context: Record<string, string> | null;
      }>`
        SELECT id, message_id, type, payload, trace_context FROM outbox
        WHERE published_at IS NULL
        ORDER BY id
        LIMIT ${this.deps.settings.batchSize}
        FOR UPDATE SKIP LOCKED`.execute(trx);
      if (rows.length === 0) return 0;
      await this.deps.bus.publish(
        rows.map((r) => ({
          messageId: r.message_id,
          type: r.type,
          payload: r.payload,
          ...(r.trace_context ? { traceContext: r.trace_context } : {}),
        })),
      );
      await sql`
        UPDATE outbox SET published_at = now(), attempts = attempts + 1
        WHERE id = ANY(${rows.map((r) => r.id)}::bigint[])`.execute(trx);
      this.published += rows.length;
      return rows.length;
    });
  }

  /** Runs batches until the outbox is empty; coalesces wake-ups that arrive meanwhile. */
  private wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    // Outside whatever woke it (a NOTIFY may arrive inside a traced request): each message
    // carries its own writer's trace context, and a batch belongs to no single one of them.
    this.running = context
      .with(ROOT_CONTEXT, () => this.drain())
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: error }, 'outbox relay failed; will retry'),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        } else if (!this.stopped) {
          this.timer = setTimeout(() => this.wake(), this.deps.settings.pollMs);
          this.timer.unref();
        }
      });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && (await this.relayOnce()) === this.deps.settings.batchSize) {
      // a full batch: more are waiting
    }
    if (this.stopped) return;
    // Empty: ask the next writer for a NOTIFY (migration 011), then look once more, a moment
    // later, for rows of writers that saw no one waiting because they inserted just before
    // the flag went up and committed just after. (A statement slower than that moment is
    // left to the fallback poll.)
    await sql`UPDATE outbox_relay_idle SET idle = true WHERE id = 1 AND NOT idle`.execute(
      this.deps.database.db,
    );
    await new Promise((resolve) => setTimeout(resolve, IDLE_RECHECK_MS).unref());
    while (!this.stopped && (await this.relayOnce()) === this.deps.settings.batchSize) {
      // more arrived meanwhile
    }
  }
}
