import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import { notFound } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import { recordAudit, type AuditContext } from '../audit/index.js';
import type { EventOwnership } from '../events/index.js';
import type { UserAccounts } from '../users/index.js';
import type { ScannerGrantRepository } from './scanner-grant.repository.js';
import type { ScannerGrantView } from './ticket.schemas.js';

/**
 * `POST /events/:id/scanners`: the organizer (or an admin) lets a user check tickets in for
 * this event. Granting twice is granting once: the answer is the standing grant.
 */
export class GrantScanner {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      grants: ScannerGrantRepository;
      ownership: EventOwnership;
      users: Pick<UserAccounts, 'findById'>;
    },
  ) {}

  async grant(
    actor: Principal,
    eventId: string,
    userId: string,
    audit: AuditContext,
  ): Promise<ScannerGrantView> {
    await this.deps.ownership.ownedEvent(actor, eventId);
    if (!(await this.deps.users.findById(userId))) throw notFound('User');
    const { grant } = await this.deps.db.transaction().execute(async (trx) => {
      const result = await this.deps.grants.grant(
        { eventId, userId, grantedBy: actor.userId },
        trx,
      );
      if (result.created) {
        await recordAudit(trx, {
          context: audit,
          action: 'event.scanner_granted',
          target: { type: 'event', id: eventId },
          after: { userId },
        });
      }
      return result;
    });
    return { eventId, userId, grantedAt: grant.granted_at.toISOString() };
  }
}
