import { createHash, randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-client.js';
import type { RateLimitDecision, RateLimitStore } from '../../platform/ports/rate-limit-store.js';
import { withTimeout } from '../../platform/timeout.js';

// KEYS[1] the window: a sorted set of allowed requests scored by time in ms.
// ARGV[1] limit, ARGV[2] window ms, ARGV[3] a member unique to this request.
// Time is the Redis server's, so instances with skewed clocks still share one window
// (scripts replicate their effects since Redis 5, so reading TIME before writing is allowed).
const HIT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  count = count + 1
  allowed = 1
end
local reset = 0
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, limit - count, reset}`;

const HIT_SHA = createHash('sha1').update(HIT).digest('hex');

/**
 * Windows shared by every instance. Callers put a hash tag in each key
 * (`ratelimit:{ip:…}:…`); the script touches that one key, so it runs on Redis Cluster.
 */
export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly timeoutMs = 500,
  ) {}

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    // Every request asks, so an answer that is not coming must not hold requests up: while
    // disconnected, fail at once instead of queueing behind reconnection attempts, and give
    // up on a reply that takes too long. The caller lets the request through either way.
    if (this.redis.status !== 'ready') throw new Error(`Redis connection is ${this.redis.status}`);
    const args = [key, String(limit), String(windowMs), randomUUID()] as const;
    const [allowed, remaining, resetMs] = (await withTimeout(
      this.run(args),
      this.timeoutMs,
      'Redis did not answer in time',
    )) as [number, number, number];
    return {
      allowed: allowed === 1,
      remaining,
      resetMs,
      retryAfterMs: allowed === 1 ? 0 : resetMs,
    };
  }

  // Every request runs the script, so it travels by hash once Redis has it cached.
  private async run(args: readonly [string, string, string, string]): Promise<unknown> {
    try {
      return await this.redis.evalsha(HIT_SHA, 1, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(HIT, 1, ...args);
    }
  }
}
