import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { ReadCache } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, notFound } from '../../platform/errors.js';
import { GroupCommitter } from '../../platform/group-commit.js';
import type { IdempotentCompletion } from '../../platform/idempotency.js';
import type { InventoryGate } from '../../platform/ports/inventory-gate.js';
import { activeTraceContext, withSpan } from '../../platform/telemetry.js';
import { type AuditContext, recordAudit } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import { EventCacheKeys } from '../events/index.js';
import type { EventLookup } from '../events/index.js';
import { holdViewOrRefusal } from './hold-answers.js';
import { HoldBatchStatement, type HoldAnswer, type HoldRequest } from './hold-batch.statement.js';
import type { HoldReleaser, ReleasedHold } from './hold-releaser.js';
import type { HoldRepository } from './hold.repository.js';
import type { CreateHoldInput, HoldView } from './hold.schemas.js';

export interface HoldSettings {
  ttlSeconds: number;
  /**
   * Commit holds without waiting for the WAL flush. A crash of PostgreSQL itself may forget
   * the holds of its last moments (never a sale: a confirmation's own flush covers the hold
   * it converts).
   */
  asyncCommit: boolean;
  /** The most hold requests of one event sent in one statement. */
  maxBatch: number;
}

/** The outcome counter holds report to (the booking metrics implement it). */
export interface HoldMetrics {
  operation(operation: 'hold', outcome: string): void;
}

export interface HoldServiceDeps {
  db: Kysely<DB>;
  holds: HoldRepository;
  releaser: HoldReleaser;
  events: EventLookup;
  gate: InventoryGate;
  cache: ReadCache;
  clock: Clock;
  metrics: HoldMetrics;
  settings: HoldSettings;
}

export class HoldService {
  private readonly db: Kysely<DB>;
  private readonly holds: HoldRepository;
  private readonly releaser: HoldReleaser;
  private readonly events: EventLookup;
  private readonly gate: InventoryGate;
  private readonly cache: ReadCache;
  private readonly clock: Clock;
  private readonly metrics: HoldMetrics;
  private readonly settings: HoldSettings;
  private readonly statement: HoldBatchStatement;
  /** Hold requests of one event that arrive together share one statement. */
  private readonly batches: GroupCommitter<HoldRequest, HoldAnswer>;

  constructor(deps: HoldServiceDeps) {
    ({
      db: this.db,
      holds: this.holds,
      releaser: this.releaser,
      events: this.events,
      gate: this.gate,
      cache: this.cache,
      clock: this.clock,
      metrics: this.metrics,
      settings: this.settings,
    } = deps);
    this.statement = new HoldBatchStatement(this.db, { asyncCommit: this.settings.asyncCommit });
    this.batches = new GroupCommitter((eventId, requests) => this.holdBatch(eventId, requests), {
      maxBatch: this.settings.maxBatch,
    });
  }

  /** Hold requests queued for the next statement (tests line batches up with it). */
  get waiting(): number {
    return this.batches.waiting;
  }

  /**
   * Holds seats (reserved) or a quantity (general admission) for `ttlSeconds`, all or nothing.
   * The gate may turn a request away early; the transaction below is what guarantees.
   */
  async create(...args: Parameters<HoldService['createHold']>): Promise<HoldView> {
    return withSpan('hold.create', { 'evently.event.id': args[1] }, () => this.createHold(...args));
  }

  private async createHold(
    actor: Principal,
    eventId: string,
    input: CreateHoldInput,
    audit: AuditContext,
    completion?: IdempotentCompletion,
  ): Promise<HoldView> {
    const quantity = 'seatIds' in input ? input.seatIds.length : input.quantity;
    const admission = await this.admit(eventId, actor.userId, quantity);
    if (admission === 'sold_out') {
      this.metrics.operation('hold', 'sold_out');
      throw new AppError('SOLD_OUT', 'Not enough tickets left for this request');
    }
    if (admission === 'busy') {
      this.metrics.operation('hold', 'busy');
      throw new AppError(
        'HOLD_IN_PROGRESS',
        'Another hold request of yours for this event is running',
      );
    }
    try {
      const request: HoldRequest = {
        holdId: randomUUID(),
        userId: actor.userId,
        ...('seatIds' in input ? { seatIds: input.seatIds } : { quantity: input.quantity }),
        expiresAt: new Date(
          this.clock.now().getTime() + this.settings.ttlSeconds * 1000,
        ).toISOString(),
        audit,
        idempotency: completion ? { scope: completion.key.scope, key: completion.key.key } : null,
        traceContext: activeTraceContext() ?? null,
      };
      const answer = await this.batches.submit(eventId, request);
      if (answer.outcome === 'SOLD_OUT') {
        // The gate learns what is left from the refusal, so the next requests that cannot
        // fit are turned away before they reach the database.
        const left = Number(answer.detail?.available ?? 0);
        await this.gate.remember(eventId, left).catch(() => undefined);
      }
      const view = holdViewOrRefusal(eventId, request, answer, this.clock.now());
      completion?.storedWithEffect();
      this.metrics.operation('hold', 'success');
      return view;
    } catch (error) {
      this.metrics.operation(
        'hold',
        error instanceof AppError ? error.code.toLowerCase() : 'error',
      );
      throw error;
    } finally {
      if (admission === 'admit') await this.gate.done(eventId, actor.userId).catch(() => undefined);
    }
  }

  /** Sends one event's batch of hold requests as one statement. */
  private async holdBatch(eventId: string, requests: HoldRequest[]): Promise<HoldAnswer[]> {
    const answers = await this.statement.run(eventId, this.clock.now(), requests);
    // One invalidation per batch: every hold in it changed the event's counts.
    if (answers.some((a) => a.outcome === 'HELD')) {
      await this.cache.invalidate(EventCacheKeys.forEvent(eventId)).catch(() => undefined);
    }
    return answers;
  }

  /** The holder gives the hold up; its seats are available at once. */
  async release(actor: Principal, holdId: string, audit: AuditContext): Promise<void> {
    const released = await this.db.transaction().execute(async (trx) => {
      const hold = await this.holds.findById(holdId, trx);
      if (!hold || (hold.user_id !== actor.userId && actor.role !== 'admin'))
        throw notFound('Hold');
      const locked = await this.holds.lockActive(holdId, trx);
      if (!locked) {
        throw new AppError(
          'INVALID_STATE',
          `The hold is ${hold.status === 'active' ? 'changing' : hold.status}`,
        );
      }
      const released = await this.releaser.release(locked, 'released', this.clock.now(), trx);
      await recordAudit(trx, {
        context: audit,
        action: 'hold.released',
        target: { type: 'hold', id: holdId },
        before: { status: locked.status },
        after: { status: 'released', eventId: locked.event_id, quantity: locked.quantity },
      });
      return released;
    });
    await this.afterRelease([released]);
  }

  /** Releases expired holds (the sweeper); returns how many. */
  async releaseExpired(limit = 200): Promise<number> {
    const released = await this.db
      .transaction()
      .execute((trx) => this.releaser.releaseExpired(this.clock.now(), { limit }, trx));
    await this.afterRelease(released);
    return released.length;
  }

  async activeHolds(): Promise<number> {
    return this.holds.activeCount(this.clock.now());
  }

  async afterRelease(released: ReleasedHold[]): Promise<void> {
    const events = new Set(released.map((r) => r.eventId));
    for (const eventId of events) {
      await this.rememberAvailable(eventId);
      await this.cache.invalidate(EventCacheKeys.forEvent(eventId));
    }
  }

  private async admit(eventId: string, userId: string, quantity: number) {
    try {
      return await this.gate.admit(eventId, userId, quantity);
    } catch {
      // The gate is an accelerator; without it every request goes to the database.
      return 'unchecked' as const;
    }
  }

  /**
   * Tells the gate what PostgreSQL has left now. Only after a release or a refusal: a
   * successful hold leaves the remembered figure too high, which costs nothing but a trip to
   * the database, while reading it back after every hold would cost one on every hold.
   */
  private async rememberAvailable(eventId: string): Promise<void> {
    const event = await this.events.findById(eventId).catch(() => undefined);
    if (event) await this.gate.remember(eventId, event.available).catch(() => undefined);
  }
}
