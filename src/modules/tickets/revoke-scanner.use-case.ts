import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import { notFound } from '../../platform/errors.js';
import type { Principal } from '../../platform/principal.js';
import { recordAudit, type AuditContext } from '../audit/index.js';
import type { EventOwnership } from '../events/index.js';
import type { ScannerGrantRepository } from './scanner-grant.repository.js';

/** `DELETE /events/:id/scanners/:userId`: the grant ends; that user's next scan is refused. */
export class RevokeScanner {
  constructor(
    private readonly deps: {
      db: Kysely<DB>;
      grants: ScannerGrantRepository;
      ownership: EventOwnership;
    },
  ) {}

  async revoke(
    actor: Principal,
    eventId: string,
    userId: string,
    audit: AuditContext,
  ): Promise<void> {
    await this.deps.ownership.ownedEvent(actor, eventId);
    await this.deps.db.transaction().execute(async (trx) => {
      if (!(await this.deps.grants.revoke(eventId, userId, trx))) throw notFound('Scanner grant');
      await recordAudit(trx, {
        context: audit,
        action: 'event.scanner_revoked',
        target: { type: 'event', id: eventId },
        before: { userId },
      });
    });
  }
}
