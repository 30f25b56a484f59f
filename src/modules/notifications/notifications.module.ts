import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../../platform/database/schema.js';
import { BackgroundLoop } from '../../platform/background-loop.js';
import type { Clock } from '../../platform/clock.js';
import type { DependencyCheck } from '../../platform/health.js';
import type { UserAccounts } from '../users/index.js';
import type { Mailer } from '../../platform/ports/mailer.js';
import type { ConsumerSpec } from '../../platform/ports/message-bus.js';
import { EmailSender } from './email-sender.js';
import { NotificationInbox } from './notification-inbox.js';
import { notificationConsumer } from './notification.consumer.js';
import { NotificationRepository } from './notification.repository.js';

export interface NotificationsModule {
  repository: NotificationRepository;
  /** `GET /me/notifications`, the unread count, marking read. */
  inbox: NotificationInbox;
  consumer: ConsumerSpec;
  /** Present when SMTP_URL is set. */
  emailSender?: EmailSender;
  loops: BackgroundLoop[];
  /** The SMTP server, when SMTP_URL is set; not required (emails wait in their table). */
  healthChecks: DependencyCheck[];
  close(): Promise<void>;
}

export function createNotificationsModule(input: {
  db: Kysely<DB>;
  users: Pick<UserAccounts, 'emailsOf'>;
  /** The mail adapter the composition root chose (SMTP_URL); none: in-app notifications only. */
  mailer?: Mailer;
  emailSweepMs: number;
  clock: Clock;
  logger: Logger;
}): NotificationsModule {
  const repository = new NotificationRepository(input.db);
  const { mailer } = input;
  const emailSender = mailer
    ? new EmailSender({
        notifications: repository,
        mailer,
        clock: input.clock,
        logger: input.logger,
      })
    : undefined;
  return {
    repository,
    inbox: new NotificationInbox({ notifications: repository, clock: input.clock }),
    emailSender,
    consumer: notificationConsumer({
      notifications: repository,
      users: input.users,
      emailEnabled: Boolean(emailSender),
      sendNow: (id) => emailSender?.sendNow(id) ?? Promise.resolve(),
      maxBatch: 64,
    }),
    loops: emailSender
      ? [
          new BackgroundLoop(
            'email-sender',
            input.emailSweepMs,
            async () => {
              while ((await emailSender.sendDue(50)) === 50) {
                // a full batch: more are waiting
              }
            },
            input.logger,
          ),
        ]
      : [],
    healthChecks: mailer ? [{ name: 'smtp', required: false, check: () => mailer.verify() }] : [],
    close: async () => mailer?.close(),
  };
}
