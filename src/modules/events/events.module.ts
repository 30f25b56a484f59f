import type { ReadCache } from '../../platform/cache.js';
import type { VenueLookup } from '../venues/index.js';
import { CancelEvent, type OnEventCancelled } from './cancel-event.use-case.js';
import { CreateEvent } from './create-event.use-case.js';
import { EventQueries } from './event-queries.js';
import { EventOwnership } from './event-rules.js';
import type { EventRepository } from './event.repository.js';
import { PublishEvent } from './publish-event.use-case.js';
import { UpdateEvent } from './update-event.use-case.js';

/** The events use cases, one per file, with the catalog reads and the ownership rule. */
export interface EventsModule {
  create: CreateEvent;
  update: UpdateEvent;
  publish: PublishEvent;
  cancel: CancelEvent;
  queries: EventQueries;
  ownership: EventOwnership;
}

export function createEventsModule(deps: {
  events: EventRepository;
  venues: VenueLookup;
  cache: ReadCache;
  onCancelled: OnEventCancelled;
}): EventsModule {
  const { events, cache } = deps;
  const ownership = new EventOwnership(events);
  return {
    create: new CreateEvent({ events, venues: deps.venues }),
    update: new UpdateEvent({ events, venues: deps.venues, ownership, cache }),
    publish: new PublishEvent({ events, venues: deps.venues, ownership, cache }),
    cancel: new CancelEvent({ events, ownership, cache, onCancelled: deps.onCancelled }),
    queries: new EventQueries({ events, cache }),
    ownership,
  };
}
