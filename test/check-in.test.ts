import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookedEvent, checkIns } from './support/check-ins.js';
import { eventually, expectProblem } from './support/kit.js';
import { LiveClient } from './support/live-client.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';

/**
 * Check-in at the door, online: one scan checks a ticket in, every later one is told when;
 * who may scan (organizer, admin, granted scanners) and what a check-in leaves behind (audit
 * row, outbox message, the live count). The API and worker roles run, so the live count
 * travels outbox → relay → bus → consumer → pub/sub → the socket, as in production.
 */

let t: TestApp;
let organizer: SignedIn;
let otherOrganizer: SignedIn;
let buyer: SignedIn;
let admin: SignedIn;
let base: string;
beforeAll(async () => {
  t = await createTestApp({ OUTBOX_POLL_MS: '100' });
  await t.deps.start({ api: true, workers: true });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the app is not listening');
  base = `ws://127.0.0.1:${address.port}/api/v1`;
  [organizer, otherOrganizer, buyer, admin] = await Promise.all([
    t.signUp('organizer'),
    t.signUp('organizer'),
    t.signUp(),
    t.signUp('admin'),
  ]);
});
afterAll(async () => {
  await Promise.all([...LiveClient.opened].map((c) => c.close()));
  await t?.close();
});

interface CheckedIn {
  ticketId: string;
  seat?: { section: string; row: string; number: number };
  holderName: string;
  checkedInAt: string;
}

describe('POST /api/v1/events/:id/check-ins', () => {
  it('checks a reserved ticket in once, with holder and seat; the next scan is told when', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer, {
      seating: 'reserved',
    });
    const first = await checkIns.scan(t, organizer, eventId, codes[0]!);
    expect(first.statusCode, first.body).toBe(200);
    const body = first.json<CheckedIn>();
    expect(body).toEqual({
      ticketId: booking.tickets[0]!.id,
      holderName: 'Test user',
      seat: { section: 'Stalls', row: 'A', number: 1 },
      checkedInAt: expect.any(String),
    });
    const again = await checkIns.scan(t, organizer, eventId, codes[0]!);
    const problem = expectProblem(again, 409, 'ALREADY_CHECKED_IN');
    expect(problem.checkedInAt).toBe(body.checkedInAt);

    const ticket = await t.inject({
      method: 'GET',
      url: `/api/v1/tickets/${body.ticketId}`,
      headers: buyer.auth,
    });
    expect(ticket.json()).toMatchObject({ status: 'checked_in', checkedInAt: body.checkedInAt });
  });

  it('answers a general-admission ticket without a seat, and accepts the code with a scanner newline', async () => {
    const { eventId, codes } = await bookedEvent(t, organizer, buyer);
    const response = await checkIns.scan(t, organizer, eventId, `${codes[0]!}\n`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<CheckedIn>().seat).toBeUndefined();
  });

  it('answers 404 TICKET_NOT_FOUND for an unknown code and for another event’s ticket', async () => {
    const one = await bookedEvent(t, organizer, buyer);
    const other = await bookedEvent(t, organizer, buyer);
    expectProblem(
      await checkIns.scan(t, organizer, one.eventId, 'no-such-code-0000000000'),
      404,
      'TICKET_NOT_FOUND',
    );
    expectProblem(
      await checkIns.scan(t, organizer, one.eventId, other.codes[0]!),
      404,
      'TICKET_NOT_FOUND',
    );
    // The other event's ticket is still valid at its own event.
    expect((await checkIns.scan(t, organizer, other.eventId, other.codes[0]!)).statusCode).toBe(
      200,
    );
  });

  it('answers 409 TICKET_NOT_VALID for a cancelled ticket, and leaves it cancelled', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer);
    const cancelled = await t.inject({
      method: 'POST',
      url: `/api/v1/bookings/${booking.id}/cancel`,
      headers: buyer.auth,
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expectProblem(await checkIns.scan(t, organizer, eventId, codes[0]!), 409, 'TICKET_NOT_VALID');
    const row = await t.deps.database.db
      .selectFrom('tickets')
      .select(['status', 'checked_in_at'])
      .where('id', '=', booking.tickets[0]!.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'cancelled', checked_in_at: null });
  });

  it('refuses a malformed body with a 400 problem naming the field', async () => {
    const { eventId } = await bookedEvent(t, organizer, buyer);
    for (const payload of [{}, { code: '' }, { code: 'x'.repeat(129) }, { code: 'a', extra: 1 }]) {
      const response = await t.inject({
        method: 'POST',
        url: `/api/v1/events/${eventId}/check-ins`,
        headers: organizer.auth,
        payload,
      });
      expect(expectProblem(response, 400, 'VALIDATION_FAILED').errors?.length).toBeGreaterThan(0);
    }
  });
});

describe('who may check tickets in', () => {
  it('refuses the ticket’s own holder and a plain user with 403, another organizer with 403', async () => {
    const { eventId, codes } = await bookedEvent(t, organizer, buyer);
    const stranger = await t.signUp();
    for (const who of [buyer, stranger, otherOrganizer]) {
      expectProblem(await checkIns.scan(t, who, eventId, codes[0]!), 403, 'FORBIDDEN');
      expectProblem(await checkIns.manifest(t, who, eventId), 403, 'FORBIDDEN');
      expectProblem(
        await checkIns.sync(t, who, eventId, [
          { code: codes[0]!, scannedAt: new Date().toISOString(), deviceId: 'd' },
        ]),
        403,
        'FORBIDDEN',
      );
    }
    const row = await t.deps.database.db
      .selectFrom('tickets')
      .select('status')
      .where('code', '=', codes[0]!)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('valid');
  });

  it('lets a granted scanner check in until the grant is revoked; an admin always', async () => {
    const { eventId, codes } = await bookedEvent(t, organizer, buyer, { tickets: 3 });
    const scanner = await t.signUp();
    const granted = await checkIns.grant(t, organizer, eventId, scanner.id);
    expect(granted.statusCode, granted.body).toBe(201);
    expect(granted.json()).toEqual({ eventId, userId: scanner.id, grantedAt: expect.any(String) });
    // Granting again is the same grant.
    const again = await checkIns.grant(t, organizer, eventId, scanner.id);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(granted.json());

    expect((await checkIns.scan(t, scanner, eventId, codes[0]!)).statusCode).toBe(200);
    expect((await checkIns.manifest(t, scanner, eventId)).statusCode).toBe(200);
    expect((await checkIns.revoke(t, organizer, eventId, scanner.id)).statusCode).toBe(204);
    expectProblem(await checkIns.scan(t, scanner, eventId, codes[1]!), 403, 'FORBIDDEN');
    expectProblem(await checkIns.revoke(t, organizer, eventId, scanner.id), 404, 'NOT_FOUND');
    expect((await checkIns.scan(t, admin, eventId, codes[2]!)).statusCode).toBe(200);
  });

  it('grants only on the organizer’s own event, to a user who exists', async () => {
    const { eventId } = await bookedEvent(t, organizer, buyer);
    const someone = await t.signUp();
    expectProblem(await checkIns.grant(t, organizer, eventId, randomUUID()), 404, 'NOT_FOUND');
    expectProblem(await checkIns.grant(t, otherOrganizer, eventId, someone.id), 403, 'FORBIDDEN');
    expectProblem(await checkIns.grant(t, buyer, eventId, someone.id), 403, 'FORBIDDEN');
    expectProblem(await checkIns.grant(t, organizer, randomUUID(), someone.id), 404, 'NOT_FOUND');
    const count = await t.deps.database.db
      .selectFrom('event_scanners')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('event_id', '=', eventId)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it('a grant is for one event only', async () => {
    const one = await bookedEvent(t, organizer, buyer);
    const other = await bookedEvent(t, organizer, buyer);
    const scanner = await t.signUp();
    await checkIns.grant(t, organizer, one.eventId, scanner.id);
    expectProblem(
      await checkIns.scan(t, scanner, other.eventId, other.codes[0]!),
      403,
      'FORBIDDEN',
    );
  });
});

describe('what a check-in leaves behind', () => {
  it('records ticket.checked_in in the audit log, naming the scanner, never the code', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer);
    const scanned = await checkIns.scan(t, organizer, eventId, codes[0]!);
    expect(scanned.statusCode).toBe(200);
    const log = await t.inject({
      method: 'GET',
      url: '/api/v1/admin/audit-log',
      headers: admin.auth,
      query: { action: 'ticket.checked_in', actor: organizer.id },
    });
    const entries = log
      .json<{ items: Array<Record<string, unknown>> }>()
      .items.filter((e) => e.targetId === booking.tickets[0]!.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actorId: organizer.id,
      actorRole: 'organizer',
      targetType: 'ticket',
      requestId: scanned.headers['x-request-id'],
      before: { status: 'valid' },
      after: { status: 'checked_in', eventId, bookingId: booking.id, via: 'scan' },
    });
    expect(JSON.stringify(entries[0])).not.toContain(codes[0]!);
  });

  it('writes one ticket.checked_in outbox message per ticket, without the code', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer);
    await Promise.all(
      Array.from({ length: 5 }, () => checkIns.scan(t, organizer, eventId, codes[0]!)),
    );
    const messages = await t.deps.database.db
      .selectFrom('outbox')
      .select(['type', 'payload'])
      .where('type', '=', 'ticket.checked_in')
      .where('aggregate_id', '=', booking.tickets[0]!.id)
      .execute();
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload).toMatchObject({ eventId, ticketId: booking.tickets[0]!.id });
    expect(JSON.stringify(messages[0]!.payload)).not.toContain(codes[0]!);
  });

  it('pushes {type: "checkins", checkedIn, total} to the event’s live channel', async () => {
    const { eventId, codes } = await bookedEvent(t, organizer, buyer, { tickets: 3 });
    const client = await LiveClient.open(`${base}/events/${eventId}/live`);
    await client.waitFor('the snapshot', (m) => m.type === 'snapshot');
    expect((await checkIns.scan(t, organizer, eventId, codes[0]!)).statusCode).toBe(200);
    const first = await client.waitFor('a check-in count', (m) => m.type === 'checkins');
    expect(first.message).toEqual({ type: 'checkins', checkedIn: 1, total: 3 });
    expect((await checkIns.scan(t, organizer, eventId, codes[1]!)).statusCode).toBe(200);
    const second = await client.waitFor('the next count', (m) => m.type === 'checkins', {
      after: first.index,
    });
    expect(second.message).toEqual({ type: 'checkins', checkedIn: 2, total: 3 });
    await client.close();
  });

  it('the outbox message is relayed (published) like every other', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer);
    await checkIns.scan(t, organizer, eventId, codes[0]!);
    await eventually(async () => {
      const row = await t.deps.database.db
        .selectFrom('outbox')
        .select('published_at')
        .where('type', '=', 'ticket.checked_in')
        .where('aggregate_id', '=', booking.tickets[0]!.id)
        .executeTakeFirst();
      return row?.published_at != null;
    }, 'the check-in message to be published');
  });
});
