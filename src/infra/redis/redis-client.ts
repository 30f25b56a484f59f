import { Cluster, Redis } from 'ioredis';

/** A single Redis or a Redis Cluster: every script's keys share a hash tag, so both work. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionSettings {
  url?: string;
  /** host:port seeds of a Redis Cluster (REDIS_CLUSTER_NODES); wins over url. */
  clusterNodes?: string[];
  keyPrefix?: string;
  maxRetriesPerRequest: number | null;
}

export function connectRedis(settings: RedisConnectionSettings): RedisClient {
  const options = {
    ...(settings.keyPrefix ? { keyPrefix: settings.keyPrefix } : {}),
    maxRetriesPerRequest: settings.maxRetriesPerRequest,
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
