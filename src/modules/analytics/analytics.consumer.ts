import type { Kysely } from 'kysely';
import type { DB } from '../../infra/postgres/schema.js';
import { processOnce } from '../../platform/messaging/idempotent-consumer.js';
import type { ConsumerSpec } from '../../platform/ports/message-bus.js';
import type { AnalyticsFact, AnalyticsRepository } from './analytics.repository.js';

export const ANALYTICS_CONSUMER = 'analytics';

/**
 * Keeps the analytics roll-ups: each booking confirmation and cancellation is added exactly
 * once (the processed-messages row commits with the counters). Amounts and times come from
 * the booking row, the record, not from the message.
 */
export function analyticsConsumer(deps: {
  db: Kysely<DB>;
  analytics: AnalyticsRepository;
}): ConsumerSpec {
  return {
    name: ANALYTICS_CONSUMER,
    bindings: ['booking.confirmed', 'booking.cancelled'],
    async handle(message) {
      const bookingId = message.payload.bookingId;
      if (typeof bookingId !== 'string') return;
      await processOnce(deps.db, ANALYTICS_CONSUMER, message, async (trx) => {
        const booking = await trx
          .selectFrom('bookings')
          .select([
            'event_id',
            'quantity',
            'total_cents',
            'refund_cents',
            'confirmed_at',
            'cancelled_at',
          ])
          .where('id', '=', bookingId)
          .executeTakeFirst();
        if (!booking) return;
        const fact = factOf(message.type, booking, shardOf(bookingId));
        if (fact) await deps.analytics.apply(trx, fact);
      });
    },
  };
}

/** 0–7 from the booking id's random bits, so one hour's bookings spread over 8 rows. */
export const shardOf = (bookingId: string) => Number.parseInt(bookingId.slice(-2), 16) % 8;

function factOf(
  type: string,
  booking: {
    event_id: string;
    quantity: number;
    total_cents: number;
    refund_cents: number;
    confirmed_at: Date | null;
    cancelled_at: Date | null;
  },
  shard: number,
): AnalyticsFact | null {
  const none = {
    shard,
    bookings: 0,
    tickets: 0,
    revenueCents: 0,
    cancellations: 0,
    cancelledTickets: 0,
    refundedCents: 0,
  };
  if (type === 'booking.confirmed' && booking.confirmed_at) {
    return {
      ...none,
      eventId: booking.event_id,
      at: booking.confirmed_at,
      bookings: 1,
      tickets: booking.quantity,
      revenueCents: booking.total_cents,
    };
  }
  if (type === 'booking.cancelled' && booking.cancelled_at) {
    return {
      ...none,
      eventId: booking.event_id,
      at: booking.cancelled_at,
      cancellations: 1,
      cancelledTickets: booking.quantity,
      refundedCents: booking.refund_cents,
    };
  }
  return null;
}
