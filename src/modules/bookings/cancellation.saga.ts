import { Type, type Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { Clock } from '../../platform/clock.js';
import { writeOutbox } from '../../platform/outbox.js';
import type { SagaRepository, SagaRow } from '../../platform/saga/saga.repository.js';
import { sagaPayload } from '../../platform/saga/saga-payload.js';
import { AuditContextSchema, SYSTEM_AUDIT_CONTEXT, recordAudit } from '../audit/index.js';
import type { HoldInventory } from '../holds/index.js';
import type { PaymentGateway } from '../payments/index.js';
import type { BookingMetrics } from './booking.metrics.js';
import type { BookingRepository } from './booking.repository.js';
import { withStepSpan, type SagaEffects, type SagaSettings } from './booking.saga.js';

export const CANCELLATION_SAGA = 'cancellation';

const CancellationPayloadSchema = Type.Object({
  bookingId: Type.String(),
  eventId: Type.String(),
  userId: Type.String(),
  chargeId: Type.Union([Type.String(), Type.Null()]),
  amountCents: Type.Integer({ minimum: 0 }),
  reason: Type.Union([Type.Literal('requested'), Type.Literal('event_cancelled')]),
  refunded: Type.Optional(Type.Boolean()),
  /** Who asked: the booking's holder, the event's organizer or an admin (or the event's cancel). */
  audit: Type.Optional(Type.Union([AuditContextSchema, Type.Null()])),
});
export type CancellationPayload = Static<typeof CancellationPayloadSchema>;
export const cancellationPayload = sagaPayload(CancellationPayloadSchema);

/**
 * Cancelling a confirmed booking: refund → return the seats and void the tickets. The refund
 * comes first so a seat is never resold while its money is still held; a refund the provider
 * cannot take now is retried by the recovery loop until it goes through.
 */
export class CancellationSaga {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      sagas: SagaRepository;
      bookings: BookingRepository;
      inventory: HoldInventory;
      gateway: PaymentGateway;
      clock: Clock;
      metrics: BookingMetrics;
      settings: SagaSettings;
    },
  ) {}

  async drive(start: SagaRow, effects: SagaEffects): Promise<SagaRow> {
    let saga = start;
    const payload = cancellationPayload.read(saga);
    if (saga.step === 'refund') {
      const refunding = saga;
      const next = await withStepSpan(refunding, async () => {
        if (payload.chargeId && !payload.refunded && payload.amountCents > 0) {
          try {
            await this.deps.gateway.refund({
              idempotencyKey: `refund:${payload.bookingId}`,
              chargeId: payload.chargeId,
              amountCents: payload.amountCents,
            });
          } catch (error) {
            const waiting = await this.deps.sagas.update(refunding, {
              lastError: error instanceof Error ? error.message : String(error),
              lockedUntil: new Date(
                this.deps.clock.now().getTime() + this.deps.settings.retryDelayMs,
              ),
            });
            return { saga: waiting, waiting: true };
          }
        }
        const refunded = await this.deps.sagas.update(refunding, {
          step: 'return_seats',
          payload: cancellationPayload.write({ ...payload, refunded: true }),
          lockedUntil: new Date(this.deps.clock.now().getTime() + this.deps.settings.leaseMs),
        });
        return { saga: refunded, waiting: false };
      });
      if (next.waiting) return next.saga;
      saga = next.saga;
    }
    if (saga.step !== 'return_seats') return saga;
    return withStepSpan(saga, () => this.returnSeats(saga, payload, effects));
  }

  /** The last step: seats back, tickets and booking cancelled, the message written. */
  private async returnSeats(
    saga: SagaRow,
    payload: CancellationPayload,
    effects: SagaEffects,
  ): Promise<SagaRow> {
    const now = this.deps.clock.now();
    const done = await this.deps.db.transaction().execute(async (trx) => {
      const booking = await this.deps.bookings.lockById(payload.bookingId, trx);
      if (booking?.status === 'confirmed') {
        const seatIds = await this.deps.inventory.returnSold(
          {
            eventId: booking.event_id,
            bookingId: booking.id,
            holdId: booking.hold_id,
            quantity: booking.quantity,
          },
          trx,
        );
        await this.deps.bookings.cancelTickets(booking.id, trx);
        await this.deps.bookings.cancel(booking.id, payload.amountCents, now, trx);
        await this.audit(trx, booking.id, booking.currency, payload);
        await writeOutbox(trx, [
          {
            type: 'booking.cancelled',
            aggregateType: 'booking',
            aggregateId: booking.id,
            payload: {
              bookingId: booking.id,
              userId: booking.user_id,
              eventId: booking.event_id,
              quantity: booking.quantity,
              refundCents: payload.amountCents,
              currency: booking.currency,
              seatIds,
              reason: payload.reason,
            },
          },
        ]);
      }
      return this.deps.sagas.update(
        saga,
        { step: 'done', status: 'completed', lockedUntil: null, finishedAt: now },
        trx,
      );
    });
    effects.eventIds.add(payload.eventId);
    this.deps.metrics.sagaFinished(CANCELLATION_SAGA, 'cancelled', saga.created_at);
    return done;
  }

  /** The refund and the cancellation, recorded once: with the transaction that completes them. */
  private async audit(
    trx: Kysely<DB>,
    bookingId: string,
    currency: string,
    payload: CancellationPayload,
  ): Promise<void> {
    const context = payload.audit ?? SYSTEM_AUDIT_CONTEXT;
    const target = { type: 'booking', id: bookingId };
    if (payload.chargeId && payload.amountCents > 0) {
      await recordAudit(trx, {
        context,
        action: 'payment.refunded',
        target,
        after: {
          amountCents: payload.amountCents,
          currency,
          chargeId: payload.chargeId,
          reason: payload.reason,
        },
      });
    }
    await recordAudit(trx, {
      context,
      action: 'booking.cancelled',
      target,
      before: { status: 'confirmed' },
      after: {
        status: 'cancelled',
        refundCents: payload.amountCents,
        reason: payload.reason,
        eventId: payload.eventId,
      },
    });
  }
}
