import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryPubSub, NoSharedCache } from '../src/infra/memory/memory-cache-store.js';
import { MemoryInventoryGate } from '../src/infra/memory/memory-inventory-gate.js';
import { MemorySessionDirectory } from '../src/infra/memory/memory-session-directory.js';
import { MemoryTokenDenylist } from '../src/infra/memory/memory-token-denylist.js';
import { RedisCacheStore, RedisPubSub } from '../src/infra/redis/redis-cache-store.js';
import { RedisInventoryGate } from '../src/infra/redis/redis-inventory-gate.js';
import { RedisSessionDirectory } from '../src/infra/redis/redis-session-directory.js';
import { RedisTokenDenylist } from '../src/infra/redis/redis-token-denylist.js';
import type { CacheStore, PubSub } from '../src/platform/ports/cache-store.js';
import type { InventoryGate } from '../src/platform/ports/inventory-gate.js';
import type { SessionDirectory, SessionRecord } from '../src/platform/ports/session-directory.js';
import type { TokenDenylist, TokenIdentity } from '../src/platform/ports/token-denylist.js';
import { eventually } from './support/smtp-sink.js';
import { startThrowawayRedis, type ThrowawayRedis } from './support/throwaway-redis.js';
import { sleep } from './support/kit.js';

// Each port has an adapter for Redis (several instances share it) and one in process (the
// embedded mode): both must answer alike, so one suite per port runs against both. The shared
// Redis when the run has one, else a private one: both adapters always run. (The rate-limit
// store's suite is in src/platform/rate-limit.test.ts, the message bus's in
// message-bus-contract.test.ts, the mailer's in mailer-contract.test.ts.)
let throwaway: ThrowawayRedis | undefined;
let redisUrl: string;
const clients: Redis[] = [];

beforeAll(async () => {
  if (!process.env.REDIS_URL) throwaway = await startThrowawayRedis();
  redisUrl = process.env.REDIS_URL ?? throwaway!.url;
});
afterAll(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  await throwaway?.stop();
});

/** A client with a key prefix of its own, so suites never see each other's keys. */
function redis(): Redis {
  const client = new Redis(redisUrl, { keyPrefix: `test:contract:${randomUUID()}:` });
  clients.push(client);
  return client;
}

describe.each<[string, () => TokenDenylist]>([
  ['memory', () => new MemoryTokenDenylist()],
  ['redis', () => new RedisTokenDenylist(redis())],
])('TokenDenylist contract (%s)', (_name, make) => {
  const token = (overrides: Partial<TokenIdentity> = {}): TokenIdentity => ({
    jti: randomUUID(),
    sessionId: randomUUID(),
    userId: randomUUID(),
    epoch: 0,
    ...overrides,
  });

  it('revokes one token by its jti, leaving the user’s other tokens alone', async () => {
    const denylist = make();
    const revoked = token();
    const other = token({ userId: revoked.userId, sessionId: revoked.sessionId });
    await denylist.revokeToken(revoked.userId, revoked.jti, 60);
    expect(await denylist.isRevoked(revoked)).toBe(true);
    expect(await denylist.isRevoked(other)).toBe(false);
  });

  it('revokes every token of a session', async () => {
    const denylist = make();
    const first = token();
    const second = token({ userId: first.userId, sessionId: first.sessionId });
    const elsewhere = token({ userId: first.userId });
    await denylist.revokeSession(first.userId, first.sessionId, 60);
    expect(await denylist.isRevoked(first)).toBe(true);
    expect(await denylist.isRevoked(second)).toBe(true);
    expect(await denylist.isRevoked(elsewhere)).toBe(false);
  });

  it('refuses tokens issued before the user’s epoch; the epoch never goes back', async () => {
    const denylist = make();
    const old = token({ epoch: 1 });
    const current = token({ userId: old.userId, epoch: 2 });
    await denylist.setUserEpoch(old.userId, 2);
    await denylist.setUserEpoch(old.userId, 1);
    expect(await denylist.isRevoked(old)).toBe(true);
    expect(await denylist.isRevoked(current)).toBe(false);
  });

  it('forgets a revocation once its time to live has passed', async () => {
    const denylist = make();
    const revoked = token();
    await denylist.revokeToken(revoked.userId, revoked.jti, 1);
    expect(await denylist.isRevoked(revoked)).toBe(true);
    await sleep(1_100);
    expect(await denylist.isRevoked(revoked)).toBe(false);
  });
});

describe.each<[string, () => SessionDirectory]>([
  ['memory', () => new MemorySessionDirectory()],
  ['redis', () => new RedisSessionDirectory(redis(), 3600)],
])('SessionDirectory contract (%s)', (_name, make) => {
  const session = (userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord => ({
    id: randomUUID(),
    userId,
    ip: '203.0.113.7',
    userAgent: 'contract-test',
    createdAt: new Date(Date.now() - 60_000),
    lastUsedAt: new Date(Date.now() - 1_000),
    expiresAt: new Date(Date.now() + 3_600_000),
    ...overrides,
  });
  const byId = (sessions: SessionRecord[] | undefined) => (sessions ?? []).map((s) => s.id).sort();

  it('does not know a user until loaded, then lists what was loaded and put', async () => {
    const directory = make();
    const userId = randomUUID();
    const first = session(userId);
    await directory.put(first);
    expect(await directory.list(userId)).toBeUndefined();
    const loaded = session(userId);
    await directory.load(userId, [loaded]);
    expect(byId(await directory.list(userId))).toEqual([first.id, loaded.id].sort());
    const later = session(userId);
    await directory.put(later);
    expect(byId(await directory.list(userId))).toEqual([first.id, loaded.id, later.id].sort());
  });

  it('keeps the field values it was given', async () => {
    const directory = make();
    const userId = randomUUID();
    const one = session(userId, { ip: null, userAgent: null });
    await directory.load(userId, [one]);
    expect(await directory.list(userId)).toEqual([one]);
  });

  it('a load keeps newer writes: a put made meanwhile is not overwritten', async () => {
    const directory = make();
    const userId = randomUUID();
    const stale = session(userId, { lastUsedAt: new Date(Date.now() - 50_000) });
    const fresh = { ...stale, lastUsedAt: new Date() };
    await directory.put(fresh);
    await directory.load(userId, [stale]);
    const [listed] = (await directory.list(userId)) ?? [];
    expect(listed?.lastUsedAt.toISOString()).toBe(fresh.lastUsedAt.toISOString());
  });

  it('removes ended sessions, drops expired ones when read, and forgets a user whole', async () => {
    const directory = make();
    const userId = randomUUID();
    const kept = session(userId);
    const ended = session(userId);
    const expired = session(userId, { expiresAt: new Date(Date.now() - 1) });
    await directory.load(userId, [kept, ended, expired]);
    await directory.remove(userId, [ended.id]);
    expect(byId(await directory.list(userId))).toEqual([kept.id]);
    await directory.forget(userId);
    expect(await directory.list(userId)).toBeUndefined();
  });
});

describe.each<[string, () => InventoryGate]>([
  ['memory', () => new MemoryInventoryGate({ lockMs: 300, rememberSeconds: 1 })],
  ['redis', () => new RedisInventoryGate(redis(), { lockMs: 300, rememberSeconds: 1 })],
])('InventoryGate contract (%s)', (_name, make) => {
  it('admits when it knows nothing, and collapses one user’s double click into one attempt', async () => {
    const gate = make();
    const eventId = randomUUID();
    const [user, other] = [randomUUID(), randomUUID()];
    expect(await gate.admit(eventId, user, 2)).toBe('admit');
    expect(await gate.admit(eventId, user, 2)).toBe('busy');
    expect(await gate.admit(eventId, other, 2)).toBe('admit');
    await gate.done(eventId, user);
    expect(await gate.admit(eventId, user, 2)).toBe('admit');
  });

  it('lets a user in again once the lock has lapsed, even without done', async () => {
    const gate = make();
    const [eventId, user] = [randomUUID(), randomUUID()];
    expect(await gate.admit(eventId, user, 1)).toBe('admit');
    await sleep(350);
    expect(await gate.admit(eventId, user, 1)).toBe('admit');
  });

  it('answers sold_out from remembered inventory, only while it is remembered', async () => {
    const gate = make();
    const eventId = randomUUID();
    await gate.remember(eventId, 1);
    expect(await gate.admit(eventId, randomUUID(), 2)).toBe('sold_out');
    expect(await gate.admit(eventId, randomUUID(), 1)).toBe('admit');
    await sleep(1_100);
    expect(await gate.admit(eventId, randomUUID(), 2)).toBe('admit');
  });
});

describe.each<[string, () => { pubsub: PubSub; peer: PubSub }]>([
  [
    'memory',
    () => {
      // One process: the peer is the same broadcaster.
      const pubsub = new MemoryPubSub();
      return { pubsub, peer: pubsub };
    },
  ],
  [
    'redis',
    () => {
      const namespace = `contract-${randomUUID()}:`;
      const make = () => {
        // As the composition root makes the subscriber (it resubscribes by itself).
        const subscriber = new Redis(redisUrl, { autoResubscribe: false });
        clients.push(subscriber);
        return new RedisPubSub(redis(), subscriber, namespace);
      };
      return { pubsub: make(), peer: make() };
    },
  ],
])('PubSub contract (%s)', (_name, make) => {
  it('delivers to every subscriber of the channel, in order, and to no other channel', async () => {
    const { pubsub, peer } = make();
    const got: string[] = [];
    const elsewhere: string[] = [];
    await peer.subscribe('news', (m) => void got.push(`a:${m}`));
    await peer.subscribe('news', (m) => void got.push(`b:${m}`));
    await peer.subscribe('other', (m) => void elsewhere.push(m));
    await pubsub.publish('news', '1');
    await pubsub.publish('news', '2');
    await eventually(() => got.length === 4, 'both messages to both subscribers');
    expect(got.filter((m) => m.startsWith('a:'))).toEqual(['a:1', 'a:2']);
    expect(got.filter((m) => m.startsWith('b:'))).toEqual(['b:1', 'b:2']);
    expect(elsewhere).toEqual([]);
    await pubsub.close();
    await peer.close();
  });

  it('delivers nothing after close', async () => {
    const { pubsub, peer } = make();
    const got: string[] = [];
    await peer.subscribe('news', (m) => void got.push(m));
    await peer.close();
    await pubsub.publish('news', 'late').catch(() => undefined);
    await sleep(100);
    expect(got).toEqual([]);
    await pubsub.close();
  });
});

// The shared cache may forget anything at any time (the embedded mode's twin remembers
// nothing: one process, its in-process LRU is the whole cache), so what both must keep is
// safety: never a value that was not set, never one across groups, never one after its
// delete or its expiry. Only a storing adapter must also give back what it was given.
describe.each<[string, () => CacheStore, { stores: boolean }]>([
  ['memory', () => new NoSharedCache(), { stores: false }],
  ['redis', () => new RedisCacheStore(redis()), { stores: true }],
])('CacheStore contract (%s)', (_name, make, { stores }) => {
  it('answers null for keys and group entries that were never set', async () => {
    const cache = make();
    expect(await cache.get(`nothing-${randomUUID()}`)).toBeNull();
    expect(await cache.getInGroup(`group-${randomUUID()}`, 'page-1')).toBeNull();
  });

  it('gives back what was set, and nothing of one group under another', async () => {
    const cache = make();
    await cache.set('event:1', '{"id":1}', 60);
    await cache.setInGroup('list:a', 'page-1', '["a"]', 60);
    const stored = {
      key: await cache.get('event:1'),
      entry: await cache.getInGroup('list:a', 'page-1'),
      otherGroup: await cache.getInGroup('list:b', 'page-1'),
      otherEntry: await cache.getInGroup('list:a', 'page-2'),
    };
    expect(stored.otherGroup).toBeNull();
    expect(stored.otherEntry).toBeNull();
    if (stores) expect(stored).toMatchObject({ key: '{"id":1}', entry: '["a"]' });
    else expect(stored).toMatchObject({ key: null, entry: null });
  });

  it('forgets deleted keys and whole groups at once, leaving the rest', async () => {
    const cache = make();
    await cache.set('event:1', 'one', 60);
    await cache.set('event:2', 'two', 60);
    await cache.setInGroup('list:a', 'page-1', 'p1', 60);
    await cache.setInGroup('list:a', 'page-2', 'p2', 60);

    await cache.delete(['event:1', 'list:a']);

    expect(await cache.get('event:1')).toBeNull();
    expect(await cache.getInGroup('list:a', 'page-1')).toBeNull();
    expect(await cache.getInGroup('list:a', 'page-2')).toBeNull();
    expect(await cache.get('event:2')).toBe(stores ? 'two' : null);
    await cache.delete([`never-set-${randomUUID()}`]); // deleting nothing is no error
  });

  it('forgets an entry after its time to live, and a group a time to live after its first entry', async () => {
    const cache = make();
    await cache.set('short', 'value', 1);
    await cache.setInGroup('list:short', 'page-1', 'p1', 1);
    await sleep(600);
    // A later entry does not extend the group: staleness stays bounded by the first one.
    await cache.setInGroup('list:short', 'page-2', 'p2', 60);
    await eventually(
      async () =>
        (await cache.get('short')) === null &&
        (await cache.getInGroup('list:short', 'page-1')) === null &&
        (await cache.getInGroup('list:short', 'page-2')) === null,
      'the entries and the group to expire',
      3_000,
    );
  });
});
