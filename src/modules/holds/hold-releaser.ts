import type { Kysely } from 'kysely';
import type { DB } from '../../infra/postgres/schema.js';
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
   * `hold` must be locked by the caller (lockActive / lockExpired). With `deferCounters` the
   * event's counters are left to the caller, who folds them into its own single update: the
   * event row must be the last lock a transaction takes (holds, then seats, then the event).
   */
  async release(
    trx: Kysely<DB>,
    hold: HoldRow,
    status: 'released' | 'expired',
    now: Date,
    options: { deferCounters?: boolean } = {},
  ): Promise<ReleasedHold> {
    await this.holds.setStatus(trx, hold.id, status, now);
    const seatIds = await this.inventory.returnHeldSeats(trx, hold.id);
    if (!options.deferCounters) {
      await this.inventory.returnHeldCount(trx, hold.event_id, hold.quantity);
    }
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
    trx: Kysely<DB>,
    now: Date,
    scope: { eventId?: string; seatIds?: string[]; limit: number },
    options: { deferCounters?: boolean } = {},
  ): Promise<ReleasedHold[]> {
    const expired = await this.holds.lockExpired(trx, now, scope);
    // One event row at a time in id order: concurrent sweepers never wait on each other in a cycle.
    expired.sort((a, b) => (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));
    const released: ReleasedHold[] = [];
    for (const hold of expired)
      released.push(await this.release(trx, hold, 'expired', now, options));
    return released;
  }
}
