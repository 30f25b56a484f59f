// The events module's public entry: other modules import from here, never from its files.
export type { EventService, JsonText } from './event.service.js';
export type { EventLookup, EventRow } from './event.repository.js';
export * from './event.schemas.js';
export { EventCacheKeys } from './event.cache-keys.js';
