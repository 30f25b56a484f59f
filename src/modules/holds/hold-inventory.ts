import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { EventLookup } from '../events/index.js';
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
    private readonly deps: {
      holds: HoldRepository;
      inventory: InventoryRepository;
      releaser: HoldReleaser;
      events: EventLookup;
    },
  ) {}

  /** The hold, locked for a state change; undefined when it is not active any more. */
  lockActive(holdId: string, trx: Kysely<DB>): Promise<HoldRow | undefined> {
    return this.deps.holds.lockActive(holdId, trx);
  }

  /** Gives a locked hold's seats back and announces it; counters move at COMMIT. */
  release(
    hold: HoldRow,
    status: 'released' | 'expired',
    now: Date,
    trx: Kysely<DB>,
  ): Promise<ReleasedHold> {
    return this.deps.releaser.release(hold, status, now, trx);
  }

  /** Releases every active hold of an event (it is being cancelled). */
  async releaseAllOfEvent(eventId: string, now: Date, trx: Kysely<DB>): Promise<ReleasedHold[]> {
    const released: ReleasedHold[] = [];
    for (const hold of await this.deps.holds.lockActiveOfEvent(eventId, trx)) {
      released.push(await this.deps.releaser.release(hold, 'released', now, trx));
    }
    return released;
  }

  /** The event's status, unlocked (from the events module): enough to word a failure. */
  async eventStatus(eventId: string): Promise<string | undefined> {
    return (await this.deps.events.findById(eventId))?.status;
  }

  /** sold → available for a cancelled booking's seats (and the event's counters). */
  returnSold(
    sale: { eventId: string; bookingId: string; holdId: string | null; quantity: number },
    trx: Kysely<DB>,
  ): Promise<string[]> {
    return this.deps.inventory.returnSold(sale, trx);
  }
}
