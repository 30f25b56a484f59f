import { Cluster, Redis } from 'ioredis';

/** A single Redis or a Redis Cluster: every script's keys share a hash tag, so both work. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionSettings {
  url?: string;
  /** host:port seeds of a Redis Cluster (REDIS_CLUSTER_NODES); wins over url. */
  clusterNodes?: string[];
  keyPrefix?: string;
  maxRetriesPerRequest: number | null;
  /**
   * Off for the pub/sub subscriber: ioredis' own resubscription after a reconnect leaves its
   * promise unhandled, so a close during it crashes the process; RedisPubSub resubscribes itself.
   */
  autoResubscribe?: boolean;
}

export function connectRedis(settings: RedisConnectionSettings): RedisClient {
  const options = {
    ...(settings.keyPrefix ? { keyPrefix: settings.keyPrefix } : {}),
    maxRetriesPerRequest: settings.maxRetriesPerRequest,
    ...(settings.autoResubscribe === false ? { autoResubscribe: false } : {}),
  };
  if (settings.clusterNodes && settings.clusterNodes.length > 0) {
    return new Cluster(
      settings.clusterNodes.map((node) => {
        const [host, port] = node.split(':');
        return { host: host ?? '127.0.0.1', port: Number(port ?? 6379) };
      }),
      { ...options, redisOptions: options, enableAutoPipelining: true },
    );
  }
  return new Redis(settings.url ?? 'redis://127.0.0.1:6379', {
    ...options,
    enableAutoPipelining: true,
  });
}

/**
 * Closes after the replies still awaited: `disconnect()` alone would reject them with
 * "Connection is closed", unhandled where ioredis sent them itself. Bounded, for a Redis that
 * is down or stalled.
 */
export async function closeRedis(client: RedisClient, boundMs = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, boundMs);
  });
  await Promise.race([
    client.quit().then(
      () => undefined,
      () => undefined,
    ),
    bound,
  ]);
  clearTimeout(timer);
  client.disconnect();
}
