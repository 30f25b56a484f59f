import type { CacheKey } from '../../platform/cache.js';
import type { EventListFilters } from './event.schemas.js';

const LIST_GROUP = 'events:list';

/** Every cache entry the catalog reads, and which ones a write to an event makes stale. */
export const EventCacheKeys = {
  detail: (id: string): CacheKey => ({ key: `event:{${id}}:detail` }),
  seats: (id: string): CacheKey => ({ key: `event:{${id}}:seats` }),
  list(filters: EventListFilters): CacheKey {
    const { limit, cursor, q, city, from, to, status } = filters;
    return { group: LIST_GROUP, key: JSON.stringify([limit, cursor, q, city, from, to, status]) };
  },
  lists: (): CacheKey[] => [{ group: LIST_GROUP, key: '' }],
  forEvent: (id: string): CacheKey[] => [
    EventCacheKeys.detail(id),
    EventCacheKeys.seats(id),
    ...EventCacheKeys.lists(),
  ],
};
