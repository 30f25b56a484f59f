import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookedEvent, checkIns } from './support/check-ins.js';
import { expectProblem } from './support/kit.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';

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

describe('POST /api/v1/events/:id/check-ins', () => {
  it('checks a reserved ticket in once, with holder and seat; the next scan is told when', async () => {
    const { eventId, booking, codes } = await bookedEvent(t, organizer, buyer, {
      seating: 'reserved',
    });
    const first = await checkIns.scan(t, organizer, eventId, codes[0]!);
    expect(first.statusCode, first.body).toBe(200);
    const body = first.json<{
      ticketId: string;
      seat: unknown;
      holderName: string;
      checkedInAt: string;
    }>();
    expect(body).toMatchObject({
      ticketId: booking.tickets[0]!.id,
      holderName: 'Test user',
      seat: { section: 'Stalls', row: 'A', number: 1 },
    });
    const again = await checkIns.scan(t, organizer, eventId, codes[0]!);
    const problem = expectProblem(again, 409, 'ALREADY_CHECKED_IN');
    expect(problem.checkedInAt).toBe(body.checkedInAt);
  });
});
