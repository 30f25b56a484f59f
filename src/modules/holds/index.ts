// The holds module's public entry: other modules import from here, never from its files.
export { createHoldsModule, type HoldsModule } from './holds.module.js';
export type { HoldService, HoldMetrics, HoldSettings } from './hold.service.js';
export type { HoldSales } from './hold-sales.js';
export type { HoldInventory } from './hold-inventory.js';
export type { HoldRow } from './hold.repository.js';
export type { ReleasedHold } from './hold-releaser.js';
export type { SaleAnswer, SaleRequest, SoldBookingJson } from './sale-batch.statement.js';
export { holdRoutes } from './hold.routes.js';
export { IdempotencyKeyHeader } from './hold.schemas.js';
