import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';

export interface ScannerGrant {
  event_id: string;
  user_id: string;
  granted_at: Date;
}

/** Who may check tickets in for an event besides its organizer and admins. */
export class ScannerGrantRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async isGranted(
    eventId: string,
    userId: string,
    executor: Kysely<DB> = this.db,
  ): Promise<boolean> {
    const row = await executor
      .selectFrom('event_scanners')
      .select('user_id')
      .where('event_id', '=', eventId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Grants once: a second grant answers the first one's row, and `created` says which. */
  async grant(
    grant: { eventId: string; userId: string; grantedBy: string },
    trx: Kysely<DB>,
  ): Promise<{ grant: ScannerGrant; created: boolean }> {
    const inserted = await trx
      .insertInto('event_scanners')
      .values({ event_id: grant.eventId, user_id: grant.userId, granted_by: grant.grantedBy })
      .onConflict((oc) => oc.columns(['event_id', 'user_id']).doNothing())
      .returning(['event_id', 'user_id', 'granted_at'])
      .executeTakeFirst();
    if (inserted) return { grant: inserted, created: true };
    const existing = await trx
      .selectFrom('event_scanners')
      .select(['event_id', 'user_id', 'granted_at'])
      .where('event_id', '=', grant.eventId)
      .where('user_id', '=', grant.userId)
      .executeTakeFirstOrThrow();
    return { grant: existing, created: false };
  }

  /** Removes a grant; false when there was none. */
  async revoke(eventId: string, userId: string, trx: Kysely<DB>): Promise<boolean> {
    const removed = await trx
      .deleteFrom('event_scanners')
      .where('event_id', '=', eventId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return removed.numDeletedRows > 0n;
  }
}
