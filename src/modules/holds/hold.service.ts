import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../infra/postgres/schema.js';
import type { ReadCache } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import type { CompleteInTransaction } from '../../platform/idempotency.js';
import { AppError, notFound } from '../../platform/errors.js';
import { writeOutbox } from '../../platform/outbox.js';
import type { InventoryGate } from '../../platform/ports/inventory-gate.js';
import { withSpan } from '../../platform/telemetry.js';
import type { AuditContext } from '../audit/audit-context.js';
import { recordAudit } from '../audit/audit-log.writer.js';
import type { Principal } from '../auth/auth.service.js';
import { EventCacheKeys } from '../events/event.cache-keys.js';
import type { EventRepository, EventRow } from '../events/event.repository.js';
import type { BookingMetrics } from '../bookings/booking.metrics.js';
import type { HoldReleaser, ReleasedHold } from './hold-releaser.js';
import type { HoldRepository } from './hold.repository.js';
import type { CreateHoldInput, HoldView } from './hold.schemas.js';
import { isSoldOutAtCommit } from './inventory-refusals.js';
import type { InventoryRepository } from './inventory.repository.js';

export interface HoldSettings {
  ttlSeconds: number;
  /**
   * Commit holds without waiting for the WAL flush: the event row's lock (taken inside the
   * commit) is then released sooner. A crash of PostgreSQL itself may forget the holds of its
   * last moments (never a sale: a confirmation's own flush covers the hold it converts).
   */
  asyncCommit: boolean;
}

export class HoldService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly holds: HoldRepository,
    private readonly inventory: InventoryRepository,
    private readonly releaser: HoldReleaser,
    private readonly events: EventRepository,
    private readonly gate: InventoryGate,
    private readonly cache: ReadCache,
    private readonly clock: Clock,
    private readonly metrics: BookingMetrics,
    private readonly settings: HoldSettings,
  ) {}

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
    completeInTransaction?: CompleteInTransaction,
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
      const view = await this.db
        .transaction()
        .execute((trx) =>
          this.holdInTransaction(trx, actor, eventId, input, async (view) => {
            await recordAudit(trx, {
              context: audit,
              action: 'hold.created',
              target: { type: 'hold', id: view.id },
              after: {
                eventId,
                seatIds: view.seatIds,
                quantity: view.quantity,
                totalCents: view.totalCents,
                currency: view.currency,
                expiresAt: view.expiresAt,
              },
            });
            await completeInTransaction?.(trx, { statusCode: 201, body: view });
          }),
        )
        .catch(async (error: unknown) => {
          // The counters move at COMMIT; there CHECK (available >= 0) refuses an oversell.
          // The gate learns what is left from the refusal, so the next requests that cannot
          // fit are turned away before they reach the database.
          if (!isSoldOutAtCommit(error)) throw error;
          await this.rememberAvailable(eventId);
          throw new AppError('SOLD_OUT', `Fewer than ${quantity} tickets are left`);
        });
      await this.cache.invalidate(EventCacheKeys.forEvent(eventId));
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

  /** The holder gives the hold up; its seats are available at once. */
  async release(actor: Principal, holdId: string, audit: AuditContext): Promise<void> {
    const released = await this.db.transaction().execute(async (trx) => {
      const hold = await this.holds.findById(trx, holdId);
      if (!hold || (hold.user_id !== actor.userId && actor.role !== 'admin'))
        throw notFound('Hold');
      const locked = await this.holds.lockActive(trx, holdId);
      if (!locked) {
        throw new AppError(
          'INVALID_STATE',
          `The hold is ${hold.status === 'active' ? 'changing' : hold.status}`,
        );
      }
      const released = await this.releaser.release(trx, locked, 'released', this.clock.now());
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
      .execute((trx) => this.releaser.releaseExpired(trx, this.clock.now(), { limit }));
    await this.afterRelease(released);
    return released.length;
  }

  async activeHolds(): Promise<number> {
    return this.holds.activeCount(this.db, this.clock.now());
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

  private async holdInTransaction(
    trx: Kysely<DB>,
    actor: Principal,
    eventId: string,
    input: CreateHoldInput,
    /** The request's own writes (audit, idempotent response), in the same transaction. */
    alsoRecord: (view: HoldView) => Promise<void>,
  ): Promise<HoldView> {
    const now = this.clock.now();
    await this.holds.lockUserOnEvent(trx, actor.userId, eventId, {
      asyncCommit: this.settings.asyncCommit,
    });
    const found = await this.holds.eventWithTicketsOfUser(trx, actor.userId, eventId, now);
    if (!found || found.event.status === 'draft') throw notFound('Event');
    const { event, owned } = found;
    assertOnSale(event, now);

    const reserved = 'seatIds' in input;
    if (reserved !== (event.seating === 'reserved')) {
      throw new AppError(
        'VALIDATION_FAILED',
        reserved
          ? 'This event is general admission: ask for a quantity'
          : 'This event has reserved seats: ask for seatIds',
        {
          errors: [
            {
              field: reserved ? 'seatIds' : 'quantity',
              message: `not accepted for ${event.seating} seating`,
            },
          ],
        },
      );
    }
    const quantity = 'seatIds' in input ? input.seatIds.length : input.quantity;
    if (owned + quantity > event.max_tickets_per_user) {
      throw new AppError(
        'TICKET_LIMIT_EXCEEDED',
        `At most ${event.max_tickets_per_user} tickets per person; you have ${owned}`,
      );
    }

    const holdId = randomUUID();
    const expiresAt = new Date(now.getTime() + this.settings.ttlSeconds * 1000);
    let seatIds: string[] = [];
    let totalCents: number;
    // Expired holds in the way are freed first (an expired hold never blocks anyone).
    await this.releaser.releaseExpired(
      trx,
      now,
      'seatIds' in input
        ? { seatIds: input.seatIds, limit: input.seatIds.length }
        : { eventId, limit: 100 },
    );
    if ('seatIds' in input) {
      const seats = await this.inventory.lockAvailableSeats(trx, eventId, input.seatIds);
      if (seats.length < input.seatIds.length) {
        const got = new Set(seats.map((s) => s.id));
        const existing = new Set(await this.inventory.existingSeatIds(trx, eventId, input.seatIds));
        const unknown = input.seatIds.filter((id) => !existing.has(id));
        if (unknown.length > 0) {
          throw new AppError('VALIDATION_FAILED', 'Some seats are not seats of this event', {
            errors: unknown.map((id) => ({
              field: 'seatIds',
              message: `${id} is not a seat of this event`,
            })),
          });
        }
        throw new AppError('SEAT_UNAVAILABLE', 'Some of the seats are already held or sold', {
          unavailableSeatIds: input.seatIds.filter((id) => !got.has(id)),
        });
      }
      seatIds = seats.map((s) => s.id);
      totalCents = seats.reduce((sum, s) => sum + s.price_cents, 0);
    } else {
      totalCents = input.quantity * event.price_cents;
    }

    await this.holds.insert(trx, {
      id: holdId,
      event_id: eventId,
      user_id: actor.userId,
      quantity,
      total_cents: totalCents,
      currency: event.currency,
      expires_at: expiresAt,
    });
    if (reserved) {
      await this.inventory.markSeatsHeld(trx, holdId, seatIds);
      await this.holds.insertSeats(trx, holdId, seatIds);
    }
    await writeOutbox(trx, [
      {
        type: 'seats.held',
        aggregateType: 'event',
        aggregateId: eventId,
        payload: {
          holdId,
          eventId,
          userId: actor.userId,
          seatIds,
          quantity,
          expiresAt: expiresAt.toISOString(),
        },
      },
    ]);
    const view: HoldView = {
      id: holdId,
      eventId,
      seatIds,
      quantity,
      totalCents,
      currency: event.currency,
      expiresAt: expiresAt.toISOString(),
    };
    await alsoRecord(view);
    // The event row is every hold's and every sale's hot spot: the hold's insert moves its
    // counters at COMMIT (migration 008), so its lock lasts the commit and no round trip.
    return view;
  }
}

function assertOnSale(event: EventRow, now: Date): void {
  if (event.status === 'cancelled') throw new AppError('SALES_CLOSED', 'The event was cancelled');
  const opens = event.sales_start_at;
  const closes = event.sales_end_at ?? event.starts_at;
  if (opens && now < opens) {
    throw new AppError('SALES_CLOSED', `Sales open at ${opens.toISOString()}`);
  }
  if (now >= closes) throw new AppError('SALES_CLOSED', 'Sales for this event have ended');
}
