import type { RedisClient } from './redis-client.js';
import type { TokenDenylist, TokenIdentity } from '../../platform/ports/token-denylist.js';

// Keys of one user share a hash tag, so the single MGET below also works on Redis Cluster.
const jtiKey = (userId: string, jti: string) => `denylist:{user:${userId}}:jti:${jti}`;
const sessionKey = (userId: string, sid: string) => `denylist:{user:${userId}}:sid:${sid}`;
const epochKey = (userId: string) => `denylist:{user:${userId}}:epoch`;

// Raises the stored epoch only, so a late writer can never lower it again.
const RAISE_EPOCH = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

/** Shared across instances: a token revoked by one is refused by all, in one round trip. */
export class RedisTokenDenylist implements TokenDenylist {
  constructor(private readonly redis: RedisClient) {}

  async revokeToken(userId: string, jti: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(jtiKey(userId, jti), '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)));
  }

  async revokeSession(userId: string, sessionId: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(
      sessionKey(userId, sessionId),
      '1',
      'EX',
      Math.max(1, Math.ceil(ttlSeconds)),
    );
  }

  async setUserEpoch(userId: string, epoch: number): Promise<void> {
    await this.redis.eval(RAISE_EPOCH, 1, epochKey(userId), String(epoch));
  }

  async isRevoked(token: TokenIdentity): Promise<boolean> {
    const [jti, sid, epoch] = await this.redis.mget(
      jtiKey(token.userId, token.jti),
      sessionKey(token.userId, token.sessionId),
      epochKey(token.userId),
    );
    return jti !== null || sid !== null || token.epoch < Number(epoch ?? 0);
  }
}
