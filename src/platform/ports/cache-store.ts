/**
 * The shared (second-level) cache. Entries are strings; a group is a set of entries that is
 * always dropped together (for instance every cached page of the event list), so nothing
 * ever has to scan keys by pattern.
 */
export interface CacheStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  getInGroup(group: string, key: string): Promise<string | null>;
  setInGroup(group: string, key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Deletes single keys and whole groups. */
  delete(keysAndGroups: string[]): Promise<void>;
}

/** Broadcast between instances (cache invalidation now, live updates later). */
export interface PubSub {
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}
