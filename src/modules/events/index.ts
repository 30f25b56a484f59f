// The events module's public entry: other modules import from here, never from its files.
export type { EventsModule } from './events.module.js';
export type { EventQueries, JsonText } from './event-queries.js';
export type { EventOwnership } from './event-rules.js';
export type { EventLookup, EventRow } from './event.repository.js';
export * from './event.schemas.js';
export { EventCacheKeys } from './event.cache-keys.js';
