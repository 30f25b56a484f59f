// The venues module's public entry: other modules import from here, never from its files.
export type { VenueLookup, VenueRow } from './venue.repository.js';
export type { VenueLayoutView } from './venue.schemas.js';
export type { VenueService } from './venue.service.js';
