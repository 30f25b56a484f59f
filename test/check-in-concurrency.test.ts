import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookedEvent, checkIns } from './support/check-ins.js';
import {
  createTestApp,
  usingRealDatabase,
  type SignedIn,
  type TestApp,
} from './support/test-app.js';

/**
 * Exactly once under concurrency: scanners at several doors read the same code at the same
 * moment. Against PostgreSQL the requests really run side by side (a pool of 20 connections,
 * and with services a second instance on its own pool); embedded, PGlite takes them in turn
 * and the answer must be the same.
 */

let t: TestApp;
let organizer: SignedIn;
let buyer: SignedIn;
/** The instances scans are spread over: one embedded, two with a real database. */
let doors: Array<Pick<TestApp, 'inject'>>;
beforeAll(async () => {
  t = await createTestApp();
  [organizer, buyer] = await Promise.all([t.signUp('organizer'), t.signUp()]);
  doors = [t];
  if (usingRealDatabase) doors.push((await t.anotherInstance()).app);
});
afterAll(async () => {
  await t?.close();
});

/** The tickets' check-in state, with the messages and audit rows their check-ins wrote. */
async function recorded(ticketIds: string[]) {
  const { rows } = await sql<{
    id: string;
    status: string;
    checked_in_at: Date | null;
    messages: number;
    audits: number;
  }>`
    SELECT t.id, t.status, t.checked_in_at,
      (SELECT count(*)::int FROM outbox o
        WHERE o.type = 'ticket.checked_in' AND o.aggregate_id = t.id) AS messages,
      (SELECT count(*)::int FROM audit_log a
        WHERE a.action = 'ticket.checked_in' AND a.target_id = t.id::text) AS audits
    FROM tickets t WHERE t.id = ANY(${ticketIds}::uuid[])`.execute(t.deps.database.db);
  return rows;
}

describe('POST /api/v1/events/:id/check-ins under concurrency', () => {
  it('20 scanners on one code: exactly one 200, nineteen 409 carrying its checkedInAt', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        checkIns.scan(doors[i % doors.length]!, organizer, eventId, codes[0]!),
      ),
    );
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, ...Array<number>(19).fill(409)]);
    const winner = responses.find((r) => r.statusCode === 200)!.json<{ checkedInAt: string }>();
    for (const refused of responses.filter((r) => r.statusCode === 409)) {
      expect(refused.json()).toMatchObject({
        code: 'ALREADY_CHECKED_IN',
        checkedInAt: winner.checkedInAt,
      });
    }
    const [row] = await recorded([booking.tickets[0]!.id]);
    expect(row).toMatchObject({ status: 'checked_in', messages: 1, audits: 1 });
    expect(row!.checked_in_at!.toISOString()).toBe(winner.checkedInAt);
  });

  it('200 scans over 100 tickets, each scanned twice at once: exactly 100 check-ins', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer, { tickets: 100 });
    expect(codes).toHaveLength(100);
    // Both scans of a ticket go out together, every ticket at once, to different instances.
    const scans = codes.flatMap((code) => [code, code]);
    const started = Date.now();
    const responses = await Promise.all(
      scans.map((code, i) => checkIns.scan(doors[i % doors.length]!, organizer, eventId, code)),
    );
    const elapsedMs = Date.now() - started;
    const ok = responses.filter((r) => r.statusCode === 200);
    const already = responses.filter((r) => r.statusCode === 409);
    expect(ok).toHaveLength(100);
    expect(already).toHaveLength(100);
    expect(already.every((r) => r.json<{ code: string }>().code === 'ALREADY_CHECKED_IN')).toBe(
      true,
    );
    // Each ticket won exactly once.
    const winners = new Set(ok.map((r) => r.json<{ ticketId: string }>().ticketId));
    expect(winners.size).toBe(100);
    const rows = await recorded(booking.tickets.map((x) => x.id));
    expect(rows).toHaveLength(100);
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'checked_in', messages: 1, audits: 1 });
      expect(row.checked_in_at).not.toBeNull();
    }
    const counts = await t.deps.services.tickets.counts.countsOf(eventId);
    expect(counts).toEqual({ checkedIn: 100, total: 100 });
    console.info(`200 concurrent scans over 100 tickets: 100 × 200, 100 × 409 in ${elapsedMs} ms`);
  });
});
