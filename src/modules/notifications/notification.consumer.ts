import { batchedConsumer } from '../../platform/messaging/batched-consumer.js';
import type { BusMessage, ConsumerSpec } from '../../platform/ports/message-bus.js';
import type { UserAccounts } from '../users/index.js';
import type { NotificationRepository } from './notification.repository.js';

export const NOTIFICATIONS_CONSUMER = 'notifications';

interface Rendered {
  userId: string;
  type: string;
  title: string;
  body: string;
}

const money = (cents: unknown, currency: unknown) =>
  `${(Number(cents ?? 0) / 100).toFixed(2)} ${String(currency ?? '')}`.trim();

/** What a message means to the person it concerns, or null when it concerns nobody. */
function render(message: BusMessage): Rendered | null {
  const p = message.payload;
  const userId = typeof p.userId === 'string' ? p.userId : null;
  if (!userId) return null;
  switch (message.type) {
    case 'booking.confirmed':
      return {
        userId,
        type: 'booking.confirmed',
        title: 'Your booking is confirmed',
        body: `Booking ${String(p.bookingId)}: ${String(p.quantity)} ticket(s), ${money(p.totalCents, p.currency)}.`,
      };
    case 'booking.cancelled':
      return p.reason === 'event_cancelled'
        ? {
            userId,
            type: 'event.cancelled',
            title: 'An event you booked was cancelled',
            body: `Booking ${String(p.bookingId)} was cancelled with the event; ${money(p.refundCents, p.currency)} refunded.`,
          }
        : {
            userId,
            type: 'booking.cancelled',
            title: 'Your booking is cancelled',
            body: `Booking ${String(p.bookingId)} is cancelled; ${money(p.refundCents, p.currency)} refunded.`,
          };
    default:
      return null;
  }
}

/**
 * Turns booking events into in-app notifications and queued emails, once per message, one
 * statement per batch of messages. The emails are sent after the commit (and retried by the
 * email sender until the server takes them).
 */
export function notificationConsumer(deps: {
  notifications: NotificationRepository;
  /** The users module's accounts: where the emails go. */
  users: Pick<UserAccounts, 'emailsOf'>;
  emailEnabled: boolean;
  sendNow: (emailId: string) => Promise<void>;
  maxBatch: number;
}): ConsumerSpec {
  return batchedConsumer(
    {
      name: NOTIFICATIONS_CONSUMER,
      bindings: ['booking.confirmed', 'booking.cancelled'],
      async handleBatch(messages) {
        const notifications = messages.flatMap((message) => {
          const rendered = render(message);
          if (!rendered) return [];
          const data = { ...message.payload, messageId: message.messageId };
          return [{ ...rendered, messageId: message.messageId, data }];
        });
        const emails = deps.emailEnabled
          ? await deps.users.emailsOf([...new Set(notifications.map((n) => n.userId))])
          : new Map<string, string>();
        const emailIds = await deps.notifications.insertOnce({
          consumer: NOTIFICATIONS_CONSUMER,
          notifications: notifications.map((n) => ({ ...n, email: emails.get(n.userId) ?? null })),
        });
        for (const emailId of emailIds) await deps.sendNow(emailId).catch(() => undefined);
      },
    },
    { maxBatch: deps.maxBatch },
  );
}
