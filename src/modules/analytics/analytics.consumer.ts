import { takeMessage } from '../../platform/messaging/idempotent-consumer.js';
import type { ConsumerSpec } from '../../platform/ports/message-bus.js';
import type { AnalyticsRepository } from './analytics.repository.js';

export const ANALYTICS_CONSUMER = 'analytics';

/**
 * Keeps the analytics roll-ups: each booking confirmation and cancellation is added exactly
 * once (the processed-messages row commits with the counters, in the same statement). Amounts
 * and times come from the booking row, the record, not from the message.
 */
export function analyticsConsumer(deps: { analytics: AnalyticsRepository }): ConsumerSpec {
  return {
    name: ANALYTICS_CONSUMER,
    bindings: ['booking.confirmed', 'booking.cancelled'],
    async handle(message) {
      const bookingId = message.payload.bookingId;
      if (typeof bookingId !== 'string') return;
      await deps.analytics.addBookingOnce({
        taken: takeMessage(ANALYTICS_CONSUMER, message),
        bookingId,
        kind: message.type === 'booking.cancelled' ? 'cancelled' : 'confirmed',
        shard: shardOf(bookingId),
      });
    },
  };
}

/** 0–7 from the booking id's random bits, so one hour's bookings spread over 8 rows. */
export const shardOf = (bookingId: string) => Number.parseInt(bookingId.slice(-2), 16) % 8;
