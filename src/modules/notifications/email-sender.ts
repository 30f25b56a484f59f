import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { Mailer } from '../../platform/ports/mailer.js';
import type { EmailRow, NotificationRepository } from './notification.repository.js';

const LEASE_MS = 60_000;
const MAX_ATTEMPTS = 10;

/**
 * Delivers queued emails. Each is claimed with a lease (SKIP LOCKED), so the fast path right
 * after a notification and the periodic sweep on any instance never send one twice.
 */
export class EmailSender {
  constructor(
    private readonly deps: {
      notifications: NotificationRepository;
      mailer: Mailer;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  async sendNow(emailId: string): Promise<void> {
    for (const email of await this.deps.notifications.claimEmails(
      this.deps.clock.now(),
      LEASE_MS,
      1,
      emailId,
    )) {
      await this.deliver(email);
    }
  }

  /** Sends the due emails; returns how many it tried. */
  async sendDue(limit = 50): Promise<number> {
    const due = await this.deps.notifications.claimEmails(this.deps.clock.now(), LEASE_MS, limit);
    for (const email of due) await this.deliver(email);
    return due.length;
  }

  private async deliver(email: EmailRow): Promise<void> {
    try {
      await this.deps.mailer.send({
        to: email.to_address,
        subject: email.subject,
        text: email.body,
      });
      await this.deps.notifications.markEmail(email.id, { sent: true });
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.deps.logger.warn(
        { emailId: email.id, attempts: email.attempts, err: text },
        'email not sent',
      );
      await this.deps.notifications.markEmail(email.id, {
        sent: false,
        error: text,
        final: email.attempts >= MAX_ATTEMPTS,
        attempts: email.attempts,
      });
    }
  }
}
