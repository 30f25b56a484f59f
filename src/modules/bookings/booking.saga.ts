import { Type, type Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { Clock } from '../../platform/clock.js';
import { writeOutbox } from '../../platform/outbox.js';
import {
  SagaLeaseLost,
  type SagaRepository,
  type SagaRow,
} from '../../platform/saga/saga.repository.js';
import { sagaPayload } from '../../platform/saga/saga-payload.js';
import { activeTraceContext, withSpan } from '../../platform/telemetry.js';
import { AuditContextSchema, SYSTEM_AUDIT_CONTEXT, recordAudit } from '../audit/index.js';
import type { HoldInventory, HoldRow, HoldSales, ReleasedHold } from '../holds/index.js';
import { soldBooking } from './sold-booking.js';
import { PaymentUnavailableError, type PaymentGateway } from '../payments/index.js';
import type { BookingMetrics } from './booking.metrics.js';
import type { BookingRepository, BookingWithDetails } from './booking.repository.js';

export const BOOKING_SAGA = 'booking';

/** A span per saga step run (`saga.step <step>`), inside the drive's `saga.<type>` span. */
export function withStepSpan<T>(saga: SagaRow, work: () => Promise<T>): Promise<T> {
  return withSpan(
    `saga.step ${saga.step}`,
    {
      'evently.saga.id': saga.id,
      'evently.saga.type': saga.type,
      'evently.saga.step': saga.step,
      ...(saga.booking_id ? { 'evently.booking.id': saga.booking_id } : {}),
    },
    work,
  );
}

/** Why a booking failed; also the error code its request answers with. */
export type BookingFailure =
  'PAYMENT_DECLINED' | 'PAYMENT_UNAVAILABLE' | 'HOLD_EXPIRED' | 'SALES_CLOSED';

const BookingSagaPayloadSchema = Type.Object({
  holdId: Type.String(),
  userId: Type.String(),
  eventId: Type.String(),
  token: Type.String(),
  amountCents: Type.Integer({ minimum: 0 }),
  currency: Type.String(),
  chargeId: Type.Optional(Type.String()),
  refunded: Type.Optional(Type.Boolean()),
  failure: Type.Optional(
    Type.Union([
      Type.Literal('PAYMENT_DECLINED'),
      Type.Literal('PAYMENT_UNAVAILABLE'),
      Type.Literal('HOLD_EXPIRED'),
      Type.Literal('SALES_CLOSED'),
    ]),
  ),
  /** The request that asked for the booking; its outcomes are audited in its name. */
  audit: Type.Optional(Type.Union([AuditContextSchema, Type.Null()])),
});
export type BookingSagaPayload = Static<typeof BookingSagaPayloadSchema>;
/** Written by start_booking_batch (migrations/012) and by every step; read by every step. */
export const bookingSagaPayload = sagaPayload(BookingSagaPayloadSchema);

export interface SagaSettings {
  /** How long a driver owns a saga before another instance may take it over. */
  leaseMs: number;
  /** When a step must wait for the provider, how long until it is tried again. */
  retryDelayMs: number;
}

export interface SagaEffects {
  /** Holds released as compensation (cache and fast-path bookkeeping happen after commit). */
  released: ReleasedHold[];
  eventIds: Set<string>;
  /** The booking as its confirmation left it (its answer needs no second read). */
  confirmed?: BookingWithDetails;
}

/**
 * The booking saga, step by step:
 *   charge → confirm                                   (happy path)
 *   charge → settle_charge → refund → release          (the provider's answer was lost)
 *   charge → confirm → refund → release                (hold expired before confirmation)
 * A decline, or a circuit that refused to call, fails the booking and keeps the hold.
 * Every step is persisted before the next one runs and is safe to run twice: charges and
 * refunds carry idempotency keys, and database steps are conditional updates.
 */
export class BookingSaga {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      sagas: SagaRepository;
      bookings: BookingRepository;
      inventory: HoldInventory;
      sales: HoldSales;
      gateway: PaymentGateway;
      clock: Clock;
      metrics: BookingMetrics;
      settings: SagaSettings;
    },
  ) {}

  /** Runs steps until the saga ends or has to wait; returns the saga as persisted. */
  async drive(start: SagaRow, effects: SagaEffects): Promise<SagaRow> {
    let saga = start;
    for (let steps = 0; steps < 10; steps++) {
      if (saga.status !== 'running' && saga.status !== 'compensating') return saga;
      const current = saga;
      const next = await withStepSpan(current, () => this.runStep(current, effects));
      if (next.waiting) return next.saga;
      saga = next.saga;
    }
    return saga;
  }

  private async runStep(
    saga: SagaRow,
    effects: SagaEffects,
  ): Promise<{ saga: SagaRow; waiting?: boolean }> {
    const payload = bookingSagaPayload.read(saga);
    const bookingId = saga.booking_id!;
    switch (saga.step) {
      case 'charge':
        return this.charge(saga, bookingId, payload);
      case 'settle_charge':
        return this.settle(saga, bookingId, payload);
      case 'confirm':
        return this.confirm(saga, bookingId, payload, effects);
      case 'refund':
        return this.refund(saga, bookingId, payload);
      case 'release':
        return this.release(saga, bookingId, payload, effects);
      default:
        throw new Error(`unknown booking saga step ${saga.step}`);
    }
  }

  private async charge(saga: SagaRow, bookingId: string, payload: BookingSagaPayload) {
    try {
      const result = await this.deps.gateway.charge({
        idempotencyKey: bookingId,
        amountCents: payload.amountCents,
        currency: payload.currency,
        token: payload.token,
      });
      if (result.outcome === 'declined') {
        return {
          saga: await this.failKeepingHold(saga, bookingId, 'PAYMENT_DECLINED', result.reason),
        };
      }
      // Straight on to the confirmation (its own step, not persisted first): the sale
      // records the charge with itself. A crash before it commits leaves the saga at
      // `charge`, and charging again under the same idempotency key (the booking id) returns
      // this charge, never a second one.
      const charged = { ...payload, chargeId: result.chargeId };
      return {
        saga: { ...saga, step: 'confirm', payload: bookingSagaPayload.write(charged) },
      };
    } catch (error) {
      if (!(error instanceof PaymentUnavailableError)) throw error;
      // Nothing reached the provider this time. Only a first attempt proves nothing was ever
      // charged: a resumed saga's earlier attempt (before a crash) may have gone through.
      const neverSent = error.reason === 'circuit_open' || error.reason === 'unreachable';
      if (neverSent && saga.attempts === 0) {
        return {
          saga: await this.failKeepingHold(saga, bookingId, 'PAYMENT_UNAVAILABLE', error.message),
        };
      }
      // The charge may or may not have happened: find out later, never guess.
      return {
        saga: await this.later(
          saga,
          'settle_charge',
          { ...payload, failure: 'PAYMENT_UNAVAILABLE' },
          error.message,
        ),
        waiting: true,
      };
    }
  }

  /**
   * After a lost answer: a charge that exists is refunded; none means nothing happened, and the
   * provider voids the key so that nothing can (a charge still on its way is refused).
   */
  private async settle(saga: SagaRow, bookingId: string, payload: BookingSagaPayload) {
    let record;
    try {
      record = await this.deps.gateway.settleCharge(bookingId);
    } catch (error) {
      return {
        saga: await this.later(saga, 'settle_charge', payload, errorText(error)),
        waiting: true,
      };
    }
    if (record?.status === 'pending') {
      return {
        saga: await this.later(saga, 'settle_charge', payload, 'charge still in flight'),
        waiting: true,
      };
    }
    if (!record) {
      return {
        saga: await this.failKeepingHold(
          saga,
          bookingId,
          'PAYMENT_UNAVAILABLE',
          'provider failed; nothing was charged',
        ),
      };
    }
    const next = { ...payload, chargeId: record.chargeId, refunded: record.status === 'refunded' };
    return {
      saga: await this.advance(
        saga,
        record.status === 'refunded' ? 'release' : 'refund',
        next,
        'compensating',
      ),
    };
  }

  private async confirm(
    saga: SagaRow,
    bookingId: string,
    payload: BookingSagaPayload,
    effects: SagaEffects,
  ): Promise<{ saga: SagaRow }> {
    const now = this.deps.clock.now();
    const answer = await this.deps.sales.sell(payload.eventId, {
      sagaId: saga.id,
      lockedUntil: saga.locked_until,
      bookingId,
      holdId: payload.holdId,
      userId: payload.userId,
      chargeId: payload.chargeId!,
      amountCents: payload.amountCents,
      currency: payload.currency,
      payload: bookingSagaPayload.write(payload),
      audit: payload.audit ?? SYSTEM_AUDIT_CONTEXT,
      traceContext: activeTraceContext() ?? null,
    });
    effects.eventIds.add(payload.eventId);
    switch (answer.outcome) {
      case 'CONFIRMED': {
        effects.confirmed = soldBooking(answer.detail!);
        this.deps.metrics.sagaFinished(BOOKING_SAGA, 'confirmed', saga.created_at);
        return {
          saga: {
            ...saga,
            step: 'done',
            status: 'completed',
            payload: bookingSagaPayload.write(payload),
            locked_until: null,
            finished_at: now,
            updated_at: now,
          },
        };
      }
      case 'SETTLED':
      case 'LEASE_LOST':
        // Someone else finished this booking, or drives its saga now (this driver's step
        // outlived its lease): the saga row says how it stands, and this driver stops.
        throw new SagaLeaseLost(saga.id);
      case 'LATE':
      case 'CLOSED': {
        // Paid too late (the hold expired or was released), or the event was cancelled:
        // the seats are not this booking's. Give them back and refund.
        // Read before the transaction: it only words the failure, and the embedded database's
        // one connection belongs to the transaction until it ends.
        const status =
          answer.outcome === 'CLOSED'
            ? 'cancelled'
            : await this.deps.inventory.eventStatus(payload.eventId);
        const next = await this.deps.db.transaction().execute(async (trx) => {
          const hold = await this.deps.inventory.lockActive(payload.holdId, trx);
          return this.paidTooLate(trx, saga, payload, hold, status, now, effects);
        });
        return { saga: next };
      }
    }
  }

  /** The charge went through but the seats cannot be sold: release the hold, then refund. */
  private async paidTooLate(
    trx: Kysely<DB>,
    saga: SagaRow,
    payload: BookingSagaPayload,
    hold: HoldRow | undefined,
    eventStatus: string | undefined,
    now: Date,
    effects: SagaEffects,
  ): Promise<SagaRow> {
    if (hold) effects.released.push(await this.deps.inventory.release(hold, 'expired', now, trx));
    const failure: BookingFailure = eventStatus === 'published' ? 'HOLD_EXPIRED' : 'SALES_CLOSED';
    return this.deps.sagas.update(
      saga,
      {
        step: 'refund',
        status: 'compensating',
        payload: { ...payload, failure },
        lockedUntil: this.lease(now),
      },
      trx,
    );
  }

  private async refund(saga: SagaRow, bookingId: string, payload: BookingSagaPayload) {
    if (!payload.chargeId || payload.refunded)
      return { saga: await this.advance(saga, 'release', payload, 'compensating') };
    try {
      await this.deps.gateway.refund({
        idempotencyKey: `refund:${bookingId}`,
        chargeId: payload.chargeId,
        amountCents: payload.amountCents,
      });
    } catch (error) {
      return { saga: await this.later(saga, 'refund', payload, errorText(error)), waiting: true };
    }
    return {
      saga: await this.advance(saga, 'release', { ...payload, refunded: true }, 'compensating'),
    };
  }

  /** The last compensation: seats back, booking failed, the refund recorded. */
  private async release(
    saga: SagaRow,
    bookingId: string,
    payload: BookingSagaPayload,
    effects: SagaEffects,
  ) {
    const now = this.deps.clock.now();
    const failure = payload.failure ?? 'PAYMENT_UNAVAILABLE';
    const next = await this.deps.db.transaction().execute(async (trx) => {
      const hold = await this.deps.inventory.lockActive(payload.holdId, trx);
      if (hold)
        effects.released.push(await this.deps.inventory.release(hold, 'released', now, trx));
      await this.deps.bookings.fail(
        bookingId,
        failure,
        payload.refunded ? payload.amountCents : 0,
        now,
        trx,
      );
      await this.announceFailure(trx, bookingId, payload, failure);
      if (payload.refunded && payload.chargeId) {
        // Recorded with the compensation that completes it, so each refund has one row.
        await recordAudit(trx, {
          context: payload.audit ?? SYSTEM_AUDIT_CONTEXT,
          action: 'payment.refunded',
          target: { type: 'booking', id: bookingId },
          after: {
            amountCents: payload.amountCents,
            currency: payload.currency,
            chargeId: payload.chargeId,
            reason: failure,
          },
        });
      }
      return this.deps.sagas.update(
        saga,
        { step: 'done', status: 'compensated', lockedUntil: null, finishedAt: now },
        trx,
      );
    });
    effects.eventIds.add(payload.eventId);
    this.deps.metrics.sagaFinished(BOOKING_SAGA, 'compensated', saga.created_at);
    return { saga: next };
  }

  /** Fails a booking before any money moved; the hold stays so the buyer can try again. */
  private async failKeepingHold(
    saga: SagaRow,
    bookingId: string,
    failure: BookingFailure,
    reason: string,
  ) {
    const now = this.deps.clock.now();
    const payload = bookingSagaPayload.read(saga);
    const next = await this.deps.db.transaction().execute(async (trx) => {
      await this.deps.bookings.fail(bookingId, failure, 0, now, trx);
      await this.announceFailure(trx, bookingId, payload, failure);
      return this.deps.sagas.update(
        saga,
        {
          step: 'done',
          status: 'compensated',
          lastError: reason,
          lockedUntil: null,
          finishedAt: now,
          payload: { ...payload, failure },
        },
        trx,
      );
    });
    this.deps.metrics.sagaFinished(BOOKING_SAGA, failure.toLowerCase(), saga.created_at);
    return next;
  }

  /** The failure's message and audit row, in the transaction that fails the booking. */
  private async announceFailure(
    trx: Kysely<DB>,
    bookingId: string,
    payload: BookingSagaPayload,
    failure: BookingFailure,
  ) {
    await recordAudit(trx, {
      context: payload.audit ?? SYSTEM_AUDIT_CONTEXT,
      action: 'booking.failed',
      target: { type: 'booking', id: bookingId },
      before: { status: 'pending' },
      after: {
        status: 'failed',
        failure,
        eventId: payload.eventId,
        holdId: payload.holdId,
        refundCents: payload.refunded ? payload.amountCents : 0,
      },
    });
    await writeOutbox(trx, [
      {
        type: 'booking.failed',
        aggregateType: 'booking',
        aggregateId: bookingId,
        payload: {
          bookingId,
          userId: payload.userId,
          eventId: payload.eventId,
          failure,
          refunded: Boolean(payload.refunded),
        },
      },
    ]);
  }

  private advance(
    saga: SagaRow,
    step: string,
    payload: BookingSagaPayload,
    status: 'running' | 'compensating' = 'running',
  ) {
    return this.deps.sagas.update(saga, {
      step,
      status: saga.status === 'compensating' ? 'compensating' : status,
      payload: bookingSagaPayload.write(payload),
      lockedUntil: this.lease(this.deps.clock.now()),
    });
  }

  /** Persists the step and hands the saga to the recovery loop after a delay. */
  private later(saga: SagaRow, step: string, payload: BookingSagaPayload, error: string) {
    const status = step === 'settle_charge' ? 'running' : 'compensating';
    return this.deps.sagas.update(saga, {
      step,
      status: saga.status === 'compensating' ? 'compensating' : status,
      payload: bookingSagaPayload.write(payload),
      lastError: error,
      lockedUntil: new Date(this.deps.clock.now().getTime() + this.deps.settings.retryDelayMs),
    });
  }

  private lease(now: Date): Date {
    return new Date(now.getTime() + this.deps.settings.leaseMs);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
