import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis, type RedisClient } from '../src/infra/redis/redis-client.js';
import { RedisPubSub } from '../src/infra/redis/redis-cache-store.js';
import { eventually } from './support/smtp-sink.js';
import { startThrowawayRedis, type ThrowawayRedis } from './support/throwaway-redis.js';

// Cache invalidations travel over Redis pub/sub: after Redis restarts they must arrive again,
// and closing the app while the subscriber reconnects must not crash the process.
describe('Redis pub/sub across a Redis restart', () => {
  let redis: ThrowawayRedis | undefined;
  const clients: RedisClient[] = [];

  function pubsubOn(url: string): { pubsub: RedisPubSub; subscriber: RedisClient } {
    // As the composition root makes them.
    const publisher = connectRedis({ url, maxRetriesPerRequest: 2 });
    const subscriber = connectRedis({ url, maxRetriesPerRequest: null });
    for (const client of [publisher, subscriber]) {
      client.on('error', () => undefined);
      clients.push(client);
    }
    return { pubsub: new RedisPubSub(publisher, subscriber, 'reconnect-test:'), subscriber };
  }

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await redis?.stop();
  });

  it('delivers messages published after the restart to the channels subscribed before it', async () => {
    redis = await startThrowawayRedis();
    const port = Number(new URL(redis.url).port);
    const { pubsub, subscriber } = pubsubOn(redis.url);
    const received: string[] = [];
    await pubsub.subscribe('invalidate', (message) => void received.push(message));
    await pubsub.publish('invalidate', 'before');
    await eventually(() => received.includes('before'), 'the message before the restart');

    await redis.stop();
    const reconnected = new Promise((resolve) => subscriber.once('ready', resolve));
    redis = await startThrowawayRedis(port);
    await reconnected;
    await eventually(
      async () => {
        await pubsub.publish('invalidate', 'after');
        return received.includes('after');
      },
      'a message after the restart',
      10_000,
      100,
    );
  }, 30_000);

  it('closing at the moment the subscriber reconnects leaves no unhandled rejection', async () => {
    redis = await startThrowawayRedis();
    const port = Number(new URL(redis.url).port);
    const { pubsub, subscriber } = pubsubOn(redis.url);
    await pubsub.subscribe('invalidate', () => undefined);

    const unhandled: unknown[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      await redis.stop();
      // The app shutting down in the instant the connection is ready again, before the
      // resubscription is answered.
      const closed = new Promise<void>((resolve) =>
        subscriber.once('ready', () => void pubsub.close().then(resolve)),
      );
      redis = await startThrowawayRedis(port);
      await closed;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  }, 30_000);
});
