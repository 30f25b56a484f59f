import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheStore, PubSub } from './ports/cache-store.js';

const INVALIDATION_CHANNEL = 'cache-invalidate';

export interface CacheKey {
  key: string;
  /** Entries in a group are dropped together (e.g. every page of a list). */
  group?: string;
}

export interface ReadCacheOptions {
  localTtlMs: number;
  sharedTtlSeconds: number;
  maxLocalEntries?: number;
}

/**
 * Two-level read cache: a short-lived LRU in this process in front of the shared store.
 * A write invalidates both levels here and tells the other instances to drop their LRU
 * entries; the LRU's short TTL bounds staleness even if a broadcast were missed.
 */
export class ReadCache {
  private readonly local: LRUCache<string, string>;
  private readonly instanceId = randomUUID();
  private readonly requests: Counter<'level' | 'result'> | undefined;
  /**
   * Reads under way, by local key: concurrent misses share one trip to the shared level and,
   * when that misses too, one load (a flash sale's thousand readers of a just-invalidated
   * seat map cause one rebuild and one 2 MB Redis read, not a thousand). An
   * invalidation removes them from here, and a read no longer here stores nothing: what it
   * read before the write is never cached.
   */
  private readonly loading = new Map<string, Promise<string>>();
  /** Reads answered from either level, and reads that had to load. */
  hits = 0;
  misses = 0;

  constructor(
    private readonly shared: CacheStore,
    private readonly pubsub: PubSub,
    private readonly options: ReadCacheOptions,
    private readonly onError: (error: unknown) => void = () => undefined,
    registry?: Registry,
  ) {
    this.local = new LRUCache({
      max: options.maxLocalEntries ?? 5000,
      ttl: Math.max(1, options.localTtlMs),
    });
    if (!registry) return;
    this.requests = new Counter({
      name: 'cache_requests_total',
      help: 'Catalog cache lookups by level (local, shared) and result (hit, miss)',
      labelNames: ['level', 'result'],
      registers: [registry],
    });
    const ratio = () => {
      const total = this.hits + this.misses;
      return total === 0 ? 0 : this.hits / total;
    };
    new Gauge({
      name: 'cache_hit_ratio',
      help: 'Catalog reads answered by either cache level over all reads since start (0 when none)',
      registers: [registry],
      collect() {
        this.set(ratio());
      },
    });
  }

  /** Subscribes to other instances' invalidations; call once at start. */
  async start(): Promise<void> {
    await this.pubsub.subscribe(INVALIDATION_CHANNEL, (message) => {
      const { from, entries } = JSON.parse(message) as { from: string; entries: CacheKey[] };
      if (from !== this.instanceId) this.dropLocal(entries);
    });
  }

  /** Returns the cached JSON text for `id`, or loads, stores and returns it. */
  async getOrLoad(id: CacheKey, load: () => Promise<string>): Promise<string> {
    const enabled = this.options.localTtlMs > 0 || this.options.sharedTtlSeconds > 0;
    if (!enabled) return load();
    const localKey = localKeyOf(id);
    const local = this.options.localTtlMs > 0 ? this.local.get(localKey) : undefined;
    if (this.options.localTtlMs > 0) this.count('local', local !== undefined);
    if (local !== undefined) {
      this.hits++;
      return local;
    }
    const underway = this.loading.get(localKey);
    if (underway) {
      this.hits++;
      return underway;
    }
    const flight: Promise<string> = this.readThrough(
      id,
      localKey,
      load,
      () => this.loading.get(localKey) !== flight,
    );
    this.loading.set(localKey, flight);
    try {
      return await flight;
    } finally {
      if (this.loading.get(localKey) === flight) this.loading.delete(localKey);
    }
  }

  /** The shared level, else the loader; stores what it got unless a write made it stale. */
  private async readThrough(
    id: CacheKey,
    localKey: string,
    load: () => Promise<string>,
    isStale: () => boolean,
  ): Promise<string> {
    const shared = await this.readShared(id);
    if (this.options.sharedTtlSeconds > 0) this.count('shared', shared !== null);
    if (shared !== null) {
      this.hits++;
      if (this.options.localTtlMs > 0 && !isStale()) this.local.set(localKey, shared);
      return shared;
    }
    this.misses++;
    const value = await load();
    if (!isStale()) {
      if (this.options.localTtlMs > 0) this.local.set(localKey, value);
      await this.writeShared(id, value);
    }
    return value;
  }

  /**
   * Drops entries everywhere. The write that made them stale has already committed, so a
   * failing shared store must not fail the request: the shared TTL then bounds staleness.
   */
  async invalidate(entries: CacheKey[]): Promise<void> {
    this.dropLocal(entries);
    const sharedKeys = new Set(entries.map((e) => e.group ?? e.key));
    try {
      await this.shared.delete([...sharedKeys]);
      await this.pubsub.publish(
        INVALIDATION_CHANNEL,
        JSON.stringify({ from: this.instanceId, entries }),
      );
    } catch (error) {
      this.onError(error);
    }
  }

  private count(level: 'local' | 'shared', hit: boolean): void {
    this.requests?.inc({ level, result: hit ? 'hit' : 'miss' });
  }

  private dropLocal(entries: CacheKey[]): void {
    for (const entry of entries) {
      if (!entry.group) {
        this.local.delete(localKeyOf(entry));
        this.loading.delete(localKeyOf(entry));
        continue;
      }
      const prefix = `${entry.group}|`;
      for (const key of this.local.keys()) if (key.startsWith(prefix)) this.local.delete(key);
      for (const key of this.loading.keys()) if (key.startsWith(prefix)) this.loading.delete(key);
    }
  }

  // The shared level is an accelerator: when it fails, reads go to the database instead.
  private async readShared(id: CacheKey): Promise<string | null> {
    if (this.options.sharedTtlSeconds <= 0) return null;
    try {
      return await (id.group ? this.shared.getInGroup(id.group, id.key) : this.shared.get(id.key));
    } catch (error) {
      this.onError(error);
      return null;
    }
  }

  private async writeShared(id: CacheKey, value: string): Promise<void> {
    const ttl = this.options.sharedTtlSeconds;
    if (ttl <= 0) return;
    try {
      if (id.group) await this.shared.setInGroup(id.group, id.key, value, ttl);
      else await this.shared.set(id.key, value, ttl);
    } catch (error) {
      this.onError(error);
    }
  }
}

function localKeyOf(id: CacheKey): string {
  return id.group ? `${id.group}|${id.key}` : id.key;
}
