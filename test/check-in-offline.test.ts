import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookedEvent, checkIns } from './support/check-ins.js';
import { expectProblem } from './support/kit.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';

/**
 * Offline scanning: a device downloads the manifest (code hashes, never codes), scans without
 * a network and sends its scans later; the earliest scan of a ticket wins, across devices and
 * against the online scans (docs/check-in.md).
 */

let t: TestApp;
let organizer: SignedIn;
let buyer: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  [organizer, buyer] = await Promise.all([t.signUp('organizer'), t.signUp()]);
});
afterAll(async () => {
  await t?.close();
});

const sha256 = (code: string) => createHash('sha256').update(code, 'utf8').digest('hex');
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();

interface Manifest {
  generatedAt: string;
  tickets: Array<{
    codeHash: string;
    seat?: { section: string; row: string; number: number };
    status: string;
    checkedInAt: string | null;
  }>;
}
interface SyncResult {
  results: Array<{ code: string; outcome: string; checkedInAt: string | null }>;
}

async function ticketOf(id: string) {
  const response = await t.inject({
    method: 'GET',
    url: `/api/v1/tickets/${id}`,
    headers: organizer.auth,
  });
  return response.json<{ status: string; checkedInAt: string | null }>();
}

async function checkInMessages(ticketId: string): Promise<number> {
  const rows = await t.deps.database.db
    .selectFrom('outbox')
    .select('id')
    .where('type', '=', 'ticket.checked_in')
    .where('aggregate_id', '=', ticketId)
    .execute();
  return rows.length;
}

describe('GET /api/v1/events/:id/check-ins/manifest', () => {
  it('lists every ticket by the SHA-256 of its code, with seat and status, and no code in plain text', async () => {
    const { eventId, codes, booking } = await bookedEvent(t, organizer, buyer, {
      seating: 'reserved',
      tickets: 4,
    });
    expect((await checkIns.scan(t, organizer, eventId, codes[1]!)).statusCode).toBe(200);
    const response = await checkIns.manifest(t, organizer, eventId);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    for (const code of codes) expect(response.body).not.toContain(code);
    for (const ticket of booking.tickets) expect(response.body).not.toContain(ticket.id);
    const manifest = response.json<Manifest>();
    expect(Date.parse(manifest.generatedAt)).not.toBeNaN();
    expect(manifest.tickets).toHaveLength(4);
    const byHash = new Map(manifest.tickets.map((x) => [x.codeHash, x]));
    for (const [i, code] of codes.entries()) {
      const line = byHash.get(sha256(code));
      expect(line, `the manifest line of ticket ${i}`).toBeDefined();
      expect(line!.codeHash).toMatch(/^[0-9a-f]{64}$/);
      expect(line!.seat).toMatchObject({ section: 'Stalls', row: 'A' });
      expect(line!.status).toBe(i === 1 ? 'checked_in' : 'valid');
      expect(line!.checkedInAt === null).toBe(i !== 1);
    }
  });

  it('shows cancelled tickets as cancelled and general admission without a seat', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer, { tickets: 2 });
    const cancelled = await t.inject({
      method: 'POST',
      url: `/api/v1/bookings/${booking.id}/cancel`,
      headers: buyer.auth,
    });
    expect(cancelled.statusCode).toBe(200);
    const manifest = (await checkIns.manifest(t, organizer, eventId)).json<Manifest>();
    expect(manifest.tickets.map((x) => x.status)).toEqual(['cancelled', 'cancelled']);
    expect(manifest.tickets.every((x) => x.seat === undefined)).toBe(true);
    expect(manifest.tickets.map((x) => x.codeHash).sort()).toEqual(codes.map(sha256).sort());
  });
});

describe('POST /api/v1/events/:id/check-ins/sync', () => {
  it('the earliest scan wins across two devices, whichever syncs first', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer);
    const [code] = codes as [string];
    const later = ago(60);
    const earlier = ago(300);
    // Device A scanned later but syncs first: the ticket is checked in at its time.
    const a = await checkIns.sync(t, organizer, eventId, [
      { code, scannedAt: later, deviceId: 'door-a' },
    ]);
    expect(a.statusCode, a.body).toBe(200);
    expect(a.json<SyncResult>().results).toEqual([
      { code, outcome: 'checked_in', checkedInAt: later },
    ]);
    // Device B scanned earlier: its scan wins and moves the check-in back.
    const b = await checkIns.sync(t, organizer, eventId, [
      { code, scannedAt: earlier, deviceId: 'door-b' },
    ]);
    expect(b.json<SyncResult>().results).toEqual([
      { code, outcome: 'checked_in', checkedInAt: earlier },
    ]);
    expect(await ticketOf(booking.tickets[0]!.id)).toMatchObject({
      status: 'checked_in',
      checkedInAt: earlier,
    });
    // Device A sending its batch again changes nothing and learns the time that stands.
    const resent = await checkIns.sync(t, organizer, eventId, [
      { code, scannedAt: later, deviceId: 'door-a' },
    ]);
    expect(resent.json<SyncResult>().results).toEqual([
      { code, outcome: 'already_checked_in', checkedInAt: earlier },
    ]);
    // An online scan now is told the earliest time; one message was sent, not two.
    expect(
      expectProblem(await checkIns.scan(t, organizer, eventId, code), 409, 'ALREADY_CHECKED_IN')
        .checkedInAt,
    ).toBe(earlier);
    expect(await checkInMessages(booking.tickets[0]!.id)).toBe(1);
  });

  it('an offline scan earlier than an online check-in moves it back; a later one does not', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer);
    const [code] = codes as [string];
    const online = (await checkIns.scan(t, organizer, eventId, code)).json<{
      checkedInAt: string;
    }>();
    const after = new Date(Date.parse(online.checkedInAt) + 1000).toISOString();
    const notLater = await checkIns.sync(t, organizer, eventId, [
      { code, scannedAt: after, deviceId: 'd1' },
    ]);
    expect(notLater.json<SyncResult>().results[0]).toEqual({
      code,
      outcome: 'already_checked_in',
      checkedInAt: online.checkedInAt,
    });
    const before = ago(600);
    const earlier = await checkIns.sync(t, organizer, eventId, [
      { code, scannedAt: before, deviceId: 'd2' },
    ]);
    expect(earlier.json<SyncResult>().results[0]).toEqual({
      code,
      outcome: 'checked_in',
      checkedInAt: before,
    });
    expect((await ticketOf(booking.tickets[0]!.id)).checkedInAt).toBe(before);
  });

  it('answers each scan of a mixed batch in order', async () => {
    const { eventId, codes } = await bookedEvent(t, organizer, buyer, { tickets: 3 });
    const otherEvent = await bookedEvent(t, organizer, buyer);
    const online = (await checkIns.scan(t, organizer, eventId, codes[1]!)).json<{
      checkedInAt: string;
    }>();
    const unknown = randomBytes(16).toString('base64url');
    const scans = [
      { code: codes[0]!, scannedAt: ago(30), deviceId: 'door-a' },
      { code: codes[1]!, scannedAt: new Date(Date.now() + 1000).toISOString(), deviceId: 'door-a' },
      { code: unknown, scannedAt: ago(20), deviceId: 'door-a' },
      { code: otherEvent.codes[0]!, scannedAt: ago(20), deviceId: 'door-b' },
      { code: codes[2]!, scannedAt: ago(10), deviceId: 'door-b' },
      // The same ticket scanned earlier at another door, listed after the later scan.
      { code: codes[2]!, scannedAt: ago(40), deviceId: 'door-a' },
    ];
    const response = await checkIns.sync(t, organizer, eventId, scans);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<SyncResult>().results).toEqual([
      { code: codes[0], outcome: 'checked_in', checkedInAt: scans[0]!.scannedAt },
      { code: codes[1], outcome: 'already_checked_in', checkedInAt: online.checkedInAt },
      { code: unknown, outcome: 'not_found', checkedInAt: null },
      { code: otherEvent.codes[0], outcome: 'not_found', checkedInAt: null },
      { code: codes[2], outcome: 'already_checked_in', checkedInAt: scans[5]!.scannedAt },
      { code: codes[2], outcome: 'checked_in', checkedInAt: scans[5]!.scannedAt },
    ]);
    // The other event's ticket was not touched.
    expect(
      (await checkIns.scan(t, organizer, otherEvent.eventId, otherEvent.codes[0]!)).statusCode,
    ).toBe(200);
  });

  it('answers not_valid for a cancelled ticket of the event', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer, { tickets: 2 });
    await t.inject({
      method: 'POST',
      url: `/api/v1/bookings/${booking.id}/cancel`,
      headers: buyer.auth,
    });
    const response = await checkIns.sync(t, organizer, eventId, [
      { code: codes[0]!, scannedAt: ago(5), deviceId: 'd' },
    ]);
    expect(response.json<SyncResult>().results).toEqual([
      { code: codes[0], outcome: 'not_valid', checkedInAt: null },
    ]);
  });

  it('counts a scan time in the future as now', async () => {
    const { eventId, codes } = await bookedEvent(t, organizer, buyer);
    const sent = Date.now();
    const response = await checkIns.sync(t, organizer, eventId, [
      {
        code: codes[0]!,
        scannedAt: new Date(sent + 3_600_000).toISOString(),
        deviceId: 'fast-clock',
      },
    ]);
    const [result] = response.json<SyncResult>().results;
    expect(result!.outcome).toBe('checked_in');
    expect(Date.parse(result!.checkedInAt!)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(result!.checkedInAt!)).toBeGreaterThanOrEqual(sent - 1000);
  });

  it('two devices syncing the same tickets at once: each ticket checked in once, at its earliest scan', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer, { tickets: 20 });
    const deviceA = codes.map((code, i) => ({
      code,
      scannedAt: ago(100 + (i % 2) * 50),
      deviceId: 'a',
    }));
    const deviceB = codes.map((code) => ({ code, scannedAt: ago(125), deviceId: 'b' }));
    const [a, b] = await Promise.all([
      checkIns.sync(t, organizer, eventId, deviceA),
      checkIns.sync(t, organizer, eventId, [...deviceB].reverse()),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    for (const [i, ticket] of booking.tickets.entries()) {
      const earliest = [deviceA[i]!.scannedAt, deviceB[i]!.scannedAt].sort()[0];
      expect((await ticketOf(ticket.id)).checkedInAt, `ticket ${i}`).toBe(earliest);
      expect(await checkInMessages(ticket.id)).toBe(1);
    }
  });

  it('refuses a batch over 500 scans, an empty one and a malformed scan with a 400 naming the field', async () => {
    const { eventId, codes } = await bookedEvent(t, organizer, buyer);
    const scan = { code: codes[0]!, scannedAt: ago(1), deviceId: 'd' };
    const tooMany = expectProblem(
      await checkIns.sync(t, organizer, eventId, Array<typeof scan>(501).fill(scan)),
      400,
      'VALIDATION_FAILED',
    );
    expect(JSON.stringify(tooMany.errors)).toContain('scans');
    expectProblem(await checkIns.sync(t, organizer, eventId, []), 400, 'VALIDATION_FAILED');
    const badTime = expectProblem(
      await checkIns.sync(t, organizer, eventId, [{ ...scan, scannedAt: 'yesterday' }]),
      400,
      'VALIDATION_FAILED',
    );
    expect(JSON.stringify(badTime.errors)).toContain('scannedAt');
    // Nothing was checked in by the refused batches; 500 is still accepted.
    const manifest = (await checkIns.manifest(t, organizer, eventId)).json<Manifest>();
    expect(manifest.tickets.map((x) => x.status)).toEqual(['valid']);
    const full = await checkIns.sync(t, organizer, eventId, Array<typeof scan>(500).fill(scan));
    expect(full.statusCode, full.body).toBe(200);
    const outcomes = full.json<SyncResult>().results.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 'checked_in')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'already_checked_in')).toHaveLength(499);
  });
});
