import type { CacheStore, PubSub } from '../../platform/ports/cache-store.js';

/**
 * The embedded mode has one process, so the in-process LRU in front is the whole cache and
 * this second level stores nothing.
 */
export class NoSharedCache implements CacheStore {
  async get(): Promise<string | null> {
    return null;
  }
  async set(): Promise<void> {}
  async getInGroup(): Promise<string | null> {
    return null;
  }
  async setInGroup(): Promise<void> {}
  async delete(): Promise<void> {}
}

/** Delivers messages to subscribers of this process only. */
export class MemoryPubSub implements PubSub {
  private readonly handlers = new Map<string, Array<(message: string) => void>>();

  async publish(channel: string, message: string): Promise<void> {
    for (const handler of this.handlers.get(channel) ?? []) handler(message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<void> {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
