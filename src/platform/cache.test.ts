import { describe, expect, it } from 'vitest';
import { MemoryPubSub, NoSharedCache } from '../infra/memory/memory-cache-store.js';
import { ReadCache } from './cache.js';
import { sleep } from '../../test/support/kit.js';

/** A load that counts its calls and answers `value()` after `ms`. */
function slowLoad(value: () => string, ms = 50) {
  const load = async () => {
    load.calls++;
    const answer = value();
    await sleep(ms);
    return answer;
  };
  load.calls = 0;
  return load;
}

const newCache = () =>
  new ReadCache(new NoSharedCache(), new MemoryPubSub(), {
    localTtlMs: 60_000,
    sharedTtlSeconds: 0,
  });

describe('ReadCache.getOrLoad', () => {
  it('when 500 readers miss the same key at once, then it loads once and all get the value', async () => {
    const cache = newCache();
    const load = slowLoad(() => '{"seats":20000}');
    const answers = await Promise.all(
      Array.from({ length: 500 }, () => cache.getOrLoad({ key: 'seats:1' }, load)),
    );
    expect(load.calls).toBe(1);
    expect(new Set(answers)).toEqual(new Set(['{"seats":20000}']));
    expect(cache.misses).toBe(1);
    expect(cache.hits).toBe(499);
  });

  it('when a write invalidates a key while it loads, then the old load is not cached and the next reader loads again', async () => {
    const cache = newCache();
    let version = 1;
    const load = slowLoad(() => `v${version}`);
    const before = cache.getOrLoad({ key: 'event:1' }, load);
    await sleep(10);
    version = 2; // the write commits, then invalidates
    await cache.invalidate([{ key: 'event:1' }]);
    const after = await cache.getOrLoad({ key: 'event:1' }, load);
    expect(await before).toBe('v1'); // its caller still gets what it read
    expect(after).toBe('v2');
    expect(load.calls).toBe(2);
    expect(await cache.getOrLoad({ key: 'event:1' }, load)).toBe('v2'); // cached now
    expect(load.calls).toBe(2);
  });

  it('when a group is invalidated, then loads under way for its pages are detached too', async () => {
    const cache = newCache();
    let version = 1;
    const load = slowLoad(() => `page-v${version}`);
    const inFlight = cache.getOrLoad({ group: 'events:list', key: 'p1' }, load);
    await sleep(10);
    version = 2;
    await cache.invalidate([{ group: 'events:list', key: '*' }]);
    await inFlight;
    expect(await cache.getOrLoad({ group: 'events:list', key: 'p1' }, load)).toBe('page-v2');
  });

  it('when a load fails, then every waiting reader sees the failure and the next one retries', async () => {
    const cache = newCache();
    let fail = true;
    const load = async () => {
      await sleep(20);
      if (fail) throw new Error('database away');
      return 'ok';
    };
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => cache.getOrLoad({ key: 'k' }, load)),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    fail = false;
    expect(await cache.getOrLoad({ key: 'k' }, load)).toBe('ok');
  });
});
