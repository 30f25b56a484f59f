import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import { writeOutbox } from '../../platform/outbox.js';
import type { HoldRepository, HoldRow } from './hold.repository.js';
import type { InventoryRepository } from './inventory.repository.js';

export interface ReleasedHold {
  holdId: string;
  eventId: string;
  seatIds: string[];
  quantity: number;
}

/** Gives a hold's seats back, in the caller's transaction, and announces it through the outbox. */
export class HoldReleaser {
  constructor(
    private readonly holds: HoldRepository,
    private readonly inventory: InventoryRepository,
  ) {}

  /**
   * `hold` must be locked by the caller (lockActive / lockExpired). The event's counters
   * follow the status change at COMMIT (migration 008), so the event row is locked last and
   * only inside the commit.
   */
  async release(
    hold: HoldRow,
    status: 'released' | 'expired',
    now: Date,
    trx: Kysely<DB>,
  ): Promise<ReleasedHold> {
    await this.holds.setStatus(hold.id, status, now, trx);
    const seatIds = await this.inventory.returnHeldSeats(hold.id, trx);
    const released = { holdId: hold.id, eventId: hold.event_id, seatIds, quantity: hold.quantity };
    await writeOutbox(trx, [
      {
        type: 'seats.released',
        aggregateType: 'event',
        aggregateId: hold.event_id,
        payload: { ...released, reason: status, userId: hold.user_id },
      },
    ]);
    return released;
  }

  /** Releases expired holds in scope; returns what was released. */
  async releaseExpired(
    now: Date,
    scope: { eventId?: string; seatIds?: string[]; limit: number },
    trx: Kysely<DB>,
  ): Promise<ReleasedHold[]> {
    const expired = await this.holds.lockExpired(now, scope, trx);
    // In (event, stock bucket) order, so the commit's counter updates lock the buckets in the
    // order every batch statement locks them: never a wait in a cycle (migration 013).
    expired.sort((a, b) =>
      a.event_id !== b.event_id ? (a.event_id < b.event_id ? -1 : 1) : a.bucket - b.bucket,
    );
    const released: ReleasedHold[] = [];
    for (const hold of expired) released.push(await this.release(hold, 'expired', now, trx));
    return released;
  }
}
