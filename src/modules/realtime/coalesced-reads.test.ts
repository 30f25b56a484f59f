import { describe, expect, it } from 'vitest';
import { CoalescedReads } from './coalesced-reads.js';

/** A load whose reads finish only when the test says so; each read answers its own number. */
function controlledLoad() {
  const started: Array<{ key: string; finish: (error?: Error) => void }> = [];
  const load = (key: string) =>
    new Promise<string>((resolve, reject) => {
      const n = started.length + 1;
      started.push({
        key,
        finish: (error) => (error ? reject(error) : resolve(`${key}#${n}`)),
      });
    });
  return { started, load };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CoalescedReads', () => {
  it('gives callers that ask during a read the next read, shared, never the one under way', async () => {
    const { started, load } = controlledLoad();
    const reads = new CoalescedReads(load);
    const first = reads.read('e1');
    const during = [reads.read('e1'), reads.read('e1'), reads.read('e1')];
    expect(started).toHaveLength(1);
    started[0]!.finish();
    expect(await first).toBe('e1#1');
    await tick();
    // The three late callers share one read, which started after the first had finished.
    expect(started).toHaveLength(2);
    started[1]!.finish();
    expect(await Promise.all(during)).toEqual(['e1#2', 'e1#2', 'e1#2']);
  });

  it('starts a read at once when none is under way, and keeps keys apart', async () => {
    const { started, load } = controlledLoad();
    const reads = new CoalescedReads(load);
    const a = reads.read('a');
    const b = reads.read('b');
    expect(started.map((s) => s.key)).toEqual(['a', 'b']);
    started[1]!.finish();
    started[0]!.finish();
    expect([await a, await b]).toEqual(['a#1', 'b#2']);
    await tick();
    const again = reads.read('a');
    expect(started).toHaveLength(3);
    started[2]!.finish();
    expect(await again).toBe('a#3');
  });

  it('rejects the callers of a failed read and still serves the ones queued behind it', async () => {
    const { started, load } = controlledLoad();
    const reads = new CoalescedReads(load);
    const failing = reads.read('e1');
    const queued = reads.read('e1');
    started[0]!.finish(new Error('connection lost'));
    await expect(failing).rejects.toThrow('connection lost');
    await tick();
    started[1]!.finish();
    expect(await queued).toBe('e1#2');
  });
});
