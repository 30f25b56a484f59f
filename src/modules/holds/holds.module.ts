import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';
import type { ReadCache } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import type { InventoryGate } from '../../platform/ports/inventory-gate.js';
import type { EventLookup } from '../events/index.js';
import { HoldInventory } from './hold-inventory.js';
import { HoldReleaser } from './hold-releaser.js';
import { HoldSales } from './hold-sales.js';
import { HoldService, type HoldMetrics, type HoldSettings } from './hold.service.js';
import { HoldRepository } from './hold.repository.js';
import { InventoryRepository } from './inventory.repository.js';

export interface HoldsModule {
  /** Holds: create (the hold statement, batched), release, expire. */
  holds: HoldService;
  /** Paid holds turned into sales (the confirmation statement, batched). */
  sales: HoldSales;
  /** Hold and seat changes the bookings module makes in its own transactions. */
  inventory: HoldInventory;
}

/** The holds module: its repositories stay inside; other modules get these three. */
export function createHoldsModule(input: {
  db: Kysely<DB>;
  events: EventLookup;
  gate: InventoryGate;
  cache: ReadCache;
  clock: Clock;
  metrics: HoldMetrics;
  settings: HoldSettings;
}): HoldsModule {
  const repository = new HoldRepository(input.db);
  const seats = new InventoryRepository(input.db);
  const releaser = new HoldReleaser(repository, seats);
  return {
    holds: new HoldService({ ...input, holds: repository, releaser }),
    sales: new HoldSales(input.db, input.clock, { maxBatch: input.settings.maxBatch }),
    inventory: new HoldInventory({
      holds: repository,
      inventory: seats,
      releaser,
      events: input.events,
    }),
  };
}
