import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { DB } from '../../platform/database/schema.js';
import { AppError } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import type { AuditContext } from '../audit/index.js';
import type { CheckInAccess } from './check-in-access.js';
import { recordCheckIn } from './check-in-effects.js';
import type { TicketRepository } from './ticket.repository.js';
import type { CheckInView } from './ticket.schemas.js';
import { toCheckInView } from './ticket.view.js';

/**
 * `POST /events/:id/check-ins`: a scan at the door. Exactly one of any number of concurrent
 * scans of a code checks it in (the conditional UPDATE decides); every later one is told when
 * the first was.
 */
export class CheckIn {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      tickets: TicketRepository;
      access: CheckInAccess;
      clock: Clock;
    },
  ) {}

  async checkIn(
    actor: Principal,
    eventId: string,
    scanned: string,
    audit: AuditContext,
  ): Promise<CheckInView> {
    await this.deps.access.assertMayCheckIn(actor, eventId);
    // A USB scanner may add a newline or spaces around what it read.
    const code = scanned.trim();
    const checked = await this.deps.db.transaction().execute(async (trx) => {
      const at = this.deps.clock.now();
      const ticket = await this.deps.tickets.checkIn(eventId, code, at, trx);
      if (ticket) {
        await recordCheckIn(trx, { ticket, checkedInAt: at, source: { via: 'scan' }, audit });
      }
      return ticket;
    });
    if (checked) return toCheckInView(checked);
    throw await this.refusal(eventId, code);
  }

  /** Why the scan checked nothing in, read after the UPDATE found no valid ticket. */
  private async refusal(eventId: string, code: string): Promise<AppError> {
    const state = await this.deps.tickets.findStateByCode(eventId, code);
    if (!state) return new AppError('TICKET_NOT_FOUND', 'No ticket of this event has this code');
    if (state.status === 'checked_in') {
      const checkedInAt = state.checked_in_at!.toISOString();
      return new AppError('ALREADY_CHECKED_IN', `This ticket was checked in at ${checkedInAt}`, {
        checkedInAt,
      });
    }
    if (state.status === 'cancelled') {
      return new AppError('TICKET_NOT_VALID', 'This ticket was cancelled');
    }
    // Valid again can only mean the UPDATE's row changed and changed back in between, which
    // nothing in Evently does (check-ins are never undone); say so rather than guess.
    return new AppError('INVALID_STATE', 'The ticket changed while it was being checked in');
  }
}
