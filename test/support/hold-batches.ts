import { sql } from 'kysely';
import { expect } from 'vitest';
import type { CountedStatement } from './statement-counter.js';
import type { TestApp } from './test-app.js';
import { sleep } from './kit.js';

/** One hold request as the hold statement (`hold_batch`) received it. */
export interface BatchedHoldRequest {
  holdId: string;
  userId: string;
  seatIds?: string[];
  quantity?: number;
}

/** The hold statements among `statements`, each as the batch of requests it carried. */
export function holdBatches(statements: CountedStatement[]): BatchedHoldRequest[][] {
  return statements
    .filter((s) => /\bhold_batch\s*\(/.test(s.sql))
    .map((s) => JSON.parse(String(s.params[3])) as BatchedHoldRequest[]);
}

/**
 * Runs `fire` (which sends `requests` hold requests for the event) while a transaction of
 * the test locks the event's row, and lets it go once all but one of them are queued in the
 * hold batcher: the first request's statement waits on the lock (PostgreSQL) or on the one
 * connection (PGlite), so every later one queues behind it and they go in full batches.
 * Returns what `fire` returned.
 */
export async function withEventLockedUntilQueued<T>(
  t: TestApp,
  eventId: string,
  requests: number,
  fire: () => Promise<T>,
): Promise<T> {
  const holds = t.deps.booking.holds;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const blocker = t.deps.database.db.transaction().execute(async (trx) => {
    await sql`SELECT id FROM events WHERE id = ${eventId} FOR UPDATE`.execute(trx);
    locked();
    await released;
  });
  await isLocked;
  const answers = fire();
  const deadline = Date.now() + 30_000;
  let queued = holds.waiting;
  while (queued !== requests - 1 && Date.now() < deadline) {
    await sleep(5);
    queued = holds.waiting;
  }
  release();
  await blocker;
  const result = await answers;
  // Checked once the lock is gone, so a failure never leaves the app stuck.
  expect(queued, 'all but the first request queued behind the first statement').toBe(requests - 1);
  return result;
}
