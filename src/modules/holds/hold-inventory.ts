import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { HoldReleaser, ReleasedHold } from './hold-releaser.js';
import type { HoldRepository, HoldRow } from './hold.repository.js';
import type { InventoryRepository } from './inventory.repository.js';

/**
 * What the bookings module may do to holds and seats outside the booking path's statements,
 * always in its own transaction: give a paid-too-late or compensated hold back, release an
 * event's holds when it is cancelled, return a cancelled booking's seats.
 */
export class HoldInventory {
  constructor(
    private readonly holds: HoldRepository,
    private readonly inventory: InventoryRepository,
    private readonly releaser: HoldReleaser,
  ) {}

  /** The hold, locked for a state change; undefined when it is not active any more. */
  lockActive(trx: Kysely<DB>, holdId: string): Promise<HoldRow | undefined> {
    return this.holds.lockActive(trx, holdId);
  }

  /** Gives a locked hold's seats back and announces it; counters move at COMMIT. */
  release(
    trx: Kysely<DB>,
    hold: HoldRow,
    status: 'released' | 'expired',
    now: Date,
  ): Promise<ReleasedHold> {
    return this.releaser.release(trx, hold, status, now);
  }

  /** Releases every active hold of an event (it is being cancelled). */
  async releaseAllOfEvent(trx: Kysely<DB>, eventId: string, now: Date): Promise<ReleasedHold[]> {
    const released: ReleasedHold[] = [];
    for (const hold of await this.holds.lockActiveOfEvent(trx, eventId)) {
      released.push(await this.releaser.release(trx, hold, 'released', now));
    }
    return released;
  }

  /** The event's status, unlocked: enough to word a failure. */
  eventStatus(trx: Kysely<DB>, eventId: string): Promise<string | undefined> {
    return this.inventory.eventStatus(trx, eventId);
  }

  /** sold → available for a cancelled booking's seats (and the event's counters). */
  returnSold(
    trx: Kysely<DB>,
    eventId: string,
    bookingId: string,
    quantity: number,
  ): Promise<string[]> {
    return this.inventory.returnSold(trx, eventId, bookingId, quantity);
  }
}
