import type { SessionDirectory, SessionRecord } from '../../platform/ports/session-directory.js';
import type { RedisClient } from './redis-client.js';

// One hash per user (session id → JSON) under the user's hash tag, plus a marker field that
// says the hash was loaded from PostgreSQL: without it the hash may hold only recent writes.
const sessionsKey = (userId: string) => `sessions:{user:${userId}}`;
const LOADED = '~loaded';

// Adds the loaded sessions without overwriting a newer write made meanwhile, then marks it.
const LOAD = `
for i = 2, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], '${LOADED}', '1')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`;

interface StoredSession {
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
}

/** Session records shared by every instance; expired ones are dropped as they are read. */
export class RedisSessionDirectory implements SessionDirectory {
  /** @param ttlSeconds how long a session can live (the refresh-token lifetime). */
  constructor(
    private readonly redis: RedisClient,
    private readonly ttlSeconds: number,
  ) {}

  async put(session: SessionRecord): Promise<void> {
    await this.redis
      .multi()
      .hset(sessionsKey(session.userId), session.id, encode(session))
      .expire(sessionsKey(session.userId), this.ttlSeconds)
      .exec();
  }

  async remove(userId: string, sessionIds: string[]): Promise<void> {
    if (sessionIds.length > 0) await this.redis.hdel(sessionsKey(userId), ...sessionIds);
  }

  async list(userId: string): Promise<SessionRecord[] | undefined> {
    const stored = await this.redis.hgetall(sessionsKey(userId));
    if (stored[LOADED] === undefined) return undefined;
    const now = Date.now();
    const live: SessionRecord[] = [];
    const expired: string[] = [];
    for (const [id, json] of Object.entries(stored)) {
      if (id === LOADED) continue;
      const session = decode(userId, id, json);
      if (session.expiresAt.getTime() > now) live.push(session);
      else expired.push(id);
    }
    await this.remove(userId, expired);
    return live;
  }

  async forget(userId: string): Promise<void> {
    await this.redis.del(sessionsKey(userId));
  }

  async load(userId: string, sessions: SessionRecord[]): Promise<void> {
    const fields = sessions.flatMap((s) => [s.id, encode(s)]);
    await this.redis.eval(LOAD, 1, sessionsKey(userId), String(this.ttlSeconds), ...fields);
  }
}

function encode(session: SessionRecord): string {
  const stored: StoredSession = {
    ip: session.ip,
    userAgent: session.userAgent,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
  };
  return JSON.stringify(stored);
}

function decode(userId: string, id: string, json: string): SessionRecord {
  const stored = JSON.parse(json) as StoredSession;
  return {
    id,
    userId,
    ip: stored.ip,
    userAgent: stored.userAgent,
    createdAt: new Date(stored.createdAt),
    lastUsedAt: new Date(stored.lastUsedAt),
    expiresAt: new Date(stored.expiresAt),
  };
}
