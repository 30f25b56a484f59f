import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { holdAndBook, inBatches, percentile, seatIdsOf } from './support/bookings.js';
import { createEvent, createVenue } from './support/fixtures.js';
import { sleep, type SmtpSink } from './support/smtp-sink.js';
import { createMailingTestApp, type SignedIn, type TestApp } from './support/test-app.js';

const BOOKINGS = 200;
const CONCURRENCY = 20;
const bus = process.env.AMQP_URL ? 'RabbitMQ' : 'the in-process bus';

// Measured, not asserted: how long after a booking commits its seat shows as sold on a live
// seat map, and its confirmation email reaches the SMTP server.
describe(`latency from commit to WebSocket and to email over ${bus}`, () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let socket: WebSocket | undefined;

  beforeAll(async () => {
    ({ smtp, t } = await createMailingTestApp({}, { workers: true }));
    await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise((resolve) => socket!.once('close', resolve));
      socket.close();
      await closed;
    }
    await t?.close();
    await smtp?.close();
  });

  it(`over ${BOOKINGS} bookings: prints median and p99 of commit→ws and commit→email`, async () => {
    const organizer = await t.signUp('organizer');
    const venue = await createVenue(t, organizer, { rows: 10, seatsPerRow: 10 });
    expect(venue.capacity).toBe(BOOKINGS);
    const event = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id });
    const seatIds = await seatIdsOf(t, event.id);
    expect(seatIds).toHaveLength(BOOKINGS);
    const users: SignedIn[] = await inBatches(seatIds, CONCURRENCY, () => t.signUp());

    const { port } = t.app.server.address() as AddressInfo;
    const soldAt = new Map<string, number>();
    let snapshot: (() => void) | undefined;
    const snapshotReceived = new Promise<void>((resolve) => (snapshot = resolve));
    socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/events/${event.id}/live`);
    socket.on('message', (data) => {
      const at = Date.now();
      const message = JSON.parse(String(data)) as {
        type: string;
        changes?: Array<{ seatId: string; status: string }>;
      };
      if (message.type === 'snapshot') snapshot?.();
      if (message.type !== 'seats') return;
      for (const change of message.changes ?? []) {
        if (change.status === 'sold' && !soldAt.has(change.seatId)) soldAt.set(change.seatId, at);
      }
    });
    await snapshotReceived;

    const bookings = await inBatches(seatIds, CONCURRENCY, (seatId, i) =>
      holdAndBook(t, users[i]!, event.id, { seatIds: [seatId] }),
    );
    const seatOf = new Map(bookings.map((b) => [b.id, b.tickets[0]!.seatId!]));
    expect(new Set(seatOf.values())).toEqual(new Set(seatIds));

    const emailFor = (bookingId: string) =>
      smtp.mails.filter(
        (m) => m.subject === 'Your booking is confirmed' && m.text.includes(bookingId),
      );
    await smtp.waitFor(
      () => bookings.every((b) => emailFor(b.id).length > 0) && soldAt.size === BOOKINGS,
      60_000,
      `${BOOKINGS} emails and ${BOOKINGS} sold seats on the live socket`,
    );
    await sleep(500);

    const rows = await t.deps.database.db
      .selectFrom('bookings')
      .select(['id', 'confirmed_at'])
      .where(
        'id',
        'in',
        bookings.map((b) => b.id),
      )
      .execute();
    expect(rows).toHaveLength(BOOKINGS);
    const toWs: number[] = [];
    const toEmail: number[] = [];
    for (const row of rows) {
      const committed = row.confirmed_at!.getTime();
      const mails = emailFor(row.id);
      expect(mails).toHaveLength(1);
      toEmail.push(mails[0]!.receivedAt - committed);
      toWs.push(soldAt.get(seatOf.get(row.id)!)! - committed);
    }
    toWs.sort((a, b) => a - b);
    toEmail.sort((a, b) => a - b);
    console.log(
      `latency commit→ws median ${percentile(toWs, 50)} ms p99 ${percentile(toWs, 99)} ms (${bus}, ${BOOKINGS} bookings, ${CONCURRENCY} at a time)`,
    );
    console.log(
      `latency commit→email median ${percentile(toEmail, 50)} ms p99 ${percentile(toEmail, 99)} ms (${bus}, ${BOOKINGS} bookings, ${CONCURRENCY} at a time)`,
    );
  }, 180_000);
});
