import { closeRedis, type RedisClient } from './redis-client.js';
import type { CacheStore, PubSub } from '../../platform/ports/cache-store.js';

/** Groups are Redis hashes: one DEL drops every entry of a group, with no key scans. */
export class RedisCacheStore implements CacheStore {
  constructor(private readonly redis: RedisClient) {}

  async get(key: string): Promise<string | null> {
    return this.redis.get(`cache:${key}`);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(`cache:${key}`, value, 'EX', ttlSeconds);
  }

  async getInGroup(group: string, key: string): Promise<string | null> {
    return this.redis.hget(`cache:${group}`, key);
  }

  async setInGroup(group: string, key: string, value: string, ttlSeconds: number): Promise<void> {
    // The group expires as a whole, counted from its first entry, bounding staleness.
    await this.redis
      .multi()
      .hset(`cache:${group}`, key, value)
      .expire(`cache:${group}`, ttlSeconds, 'NX')
      .exec();
  }

  async delete(keysAndGroups: string[]): Promise<void> {
    // One DEL per key: on Redis Cluster the keys live in different slots.
    await Promise.all(keysAndGroups.map((k) => this.redis.del(`cache:${k}`)));
  }
}

/** Redis pub/sub needs a connection of its own for subscribing. */
export class RedisPubSub implements PubSub {
  private readonly handlers = new Map<string, Array<(message: string) => void>>();

  /** `namespace` separates deployments sharing one Redis (ioredis' keyPrefix skips channels). */
  constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly namespace: string,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      const name = channel.slice(this.namespace.length);
      for (const handler of this.handlers.get(name) ?? []) handler(message);
    });
    // After a reconnect (the subscriber is made with autoResubscribe off): a close racing this
    // must not leave a rejected promise behind, and a failure here is followed by the next
    // reconnect's 'ready'.
    subscriber.on('ready', () => {
      const channels = [...this.handlers.keys()].map((channel) => this.namespace + channel);
      if (channels.length > 0) this.subscriber.subscribe(...channels).catch(() => undefined);
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(this.namespace + channel, message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<void> {
    const existing = this.handlers.get(channel);
    this.handlers.set(channel, [...(existing ?? []), handler]);
    if (!existing) await this.subscriber.subscribe(this.namespace + channel);
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await closeRedis(this.subscriber);
  }
}
