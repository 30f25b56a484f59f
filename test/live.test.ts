import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, createVenue } from './support/fixtures.js';
import { LiveClient, type LiveMessage, type SeatStatus } from './support/live-client.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';
import { api } from './support/api.js';

/**
 * WS /api/v1/events/:id/live against a real listening server, with the API and worker roles
 * started in this process: holds, releases, bookings and cancellations travel outbox → relay →
 * bus (RabbitMQ when AMQP_URL is set, else in process) → live-update consumer → pub/sub (Redis
 * when REDIS_URL is set, else in process) → this instance's sockets.
 */

const WAIT_MS = 5_000;
/** How soon a change must reach a connected client after the HTTP answer that made it. */
const LIVE_WITHIN_MS = 1_000;
const SEATS = 20; // createVenue's default: 2 sections × 2 rows × 5 seats

interface Snapshot extends LiveMessage {
  type: 'snapshot';
  eventId: string;
  available: number;
  held: number;
  sold: number;
  seats: Array<{ seatId: string; status: SeatStatus }>;
}

const clients = LiveClient.opened;
let t: TestApp;
let base: string;
let organizer: SignedIn;
let buyer: SignedIn;
let venueId: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.deps.start({ api: true, workers: true });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the app is not listening');
  base = `ws://127.0.0.1:${address.port}/api/v1`;
  organizer = await t.signUp('organizer');
  buyer = await t.signUp('user');
  venueId = (await createVenue(t, organizer)).id;
});

afterEach(async () => {
  // A failed test must not leave a socket open (nor skew the connection gauge for the next).
  await Promise.all([...clients].map((c) => c.close()));
});

afterAll(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  await t?.close();
});

const liveUrl = (eventId: string) => `${base}/events/${eventId}/live`;

async function reservedEvent(options: { publish?: boolean } = {}) {
  const event = await createEvent(t, organizer, { seating: 'reserved', venueId, ...options });
  const seats = await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}/seats` });
  const ids =
    seats.statusCode === 200
      ? seats
          .json<{
            sections: Array<{ rows: Array<{ seats: Array<{ id: string; status: SeatStatus }> }> }>;
          }>()
          .sections.flatMap((s) => s.rows.flatMap((r) => r.seats.map((seat) => seat.id)))
      : [];
  return { id: event.id, seatIds: ids };
}

async function connectWithSnapshot(eventId: string) {
  const client = await LiveClient.open(liveUrl(eventId));
  const snapshot = await client.waitFor('snapshot', (m) => m.type === 'snapshot');
  return { client, snapshot: snapshot.message as Snapshot, snapshotIndex: snapshot.index };
}

async function counts(eventId: string) {
  const response = await t.inject({ method: 'GET', url: `/api/v1/events/${eventId}` });
  expect(response.statusCode).toBe(200);
  const { available, held, sold } = response.json<{
    available: number;
    held: number;
    sold: number;
  }>();
  return { available, held, sold };
}

/**
 * Waits for the `seats` message naming exactly `seatIds` with `status`, and the availability
 * message that goes with it (sent right after it, with the counts read after the change).
 */
async function expectPush(
  client: LiveClient,
  after: number,
  seatIds: string[],
  status: SeatStatus,
  availability: { available: number; held: number; sold: number },
  answeredAt: number,
) {
  const seats = await client.waitFor(
    `seats ${status} for ${seatIds.join(', ')}`,
    (m) =>
      m.type === 'seats' &&
      Array.isArray(m.changes) &&
      (m.changes as Array<{ seatId: string; status: string }>).some(
        (c) => seatIds.includes(c.seatId) && c.status === status,
      ),
    { after },
  );
  const changes = seats.message.changes as Array<{ seatId: string; status: string }>;
  expect([...changes].sort((a, b) => a.seatId.localeCompare(b.seatId))).toEqual(
    [...seatIds].sort().map((seatId) => ({ seatId, status })),
  );
  const next = await client.waitFor('availability', () => true, { after: seats.index });
  expect(next.message).toEqual({ type: 'availability', ...availability });
  const latencyMs = seats.at - answeredAt;
  expect(latencyMs, `${status} pushed ${latencyMs} ms after the HTTP answer`).toBeLessThanOrEqual(
    LIVE_WITHIN_MS,
  );
  return { index: next.index, latencyMs };
}

async function metricValue(): Promise<number> {
  const response = await t.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  const line = /^websocket_connections (\d+)$/m.exec(response.body);
  expect(line, 'websocket_connections in /metrics').not.toBeNull();
  return Number(line![1]);
}

async function gaugeBecomes(expected: number): Promise<number> {
  const deadline = Date.now() + WAIT_MS;
  let value = await metricValue();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    value = await metricValue();
  }
  return value;
}

describe('WS /events/:id/live', () => {
  it('sends a snapshot on connect with every seat and the counts', async () => {
    const event = await reservedEvent();
    expect(event.seatIds).toHaveLength(SEATS);
    const first = await connectWithSnapshot(event.id);
    expect(first.snapshotIndex).toBe(0);
    expect(first.snapshot).toMatchObject({
      type: 'snapshot',
      eventId: event.id,
      available: SEATS,
      held: 0,
      sold: 0,
    });
    expect(first.snapshot.seats.map((s) => s.seatId).sort()).toEqual([...event.seatIds].sort());
    expect(first.snapshot.seats.every((s) => s.status === 'available')).toBe(true);

    // A client connecting later sees the state of the moment, not the state at publication.
    const held = event.seatIds.slice(0, 3);
    const hold = await api.hold(t, buyer, event.id, { seatIds: held });
    expect(hold.statusCode, hold.body).toBe(201);
    const later = await connectWithSnapshot(event.id);
    expect(later.snapshot).toMatchObject({
      available: SEATS - 3,
      held: 3,
      sold: 0,
    });
    expect(await counts(event.id)).toEqual({ available: SEATS - 3, held: 3, sold: 0 });
    expect(later.snapshot.seats).toHaveLength(SEATS);
    for (const seat of later.snapshot.seats) {
      expect(seat.status, seat.seatId).toBe(held.includes(seat.seatId) ? 'held' : 'available');
    }
  });

  it('pushes a hold, a release, a booking and a cancellation, each with its availability', async () => {
    const event = await reservedEvent();
    const other = await reservedEvent();
    const { client, snapshotIndex } = await connectWithSnapshot(event.id);
    const { client: second } = await connectWithSnapshot(event.id);
    const { client: bystander } = await connectWithSnapshot(other.id);
    const latencies: Record<string, number> = {};
    // The event's figures with `held` and `sold` seats taken.
    const availability = (held: number, sold: number) => ({
      available: SEATS - held - sold,
      held,
      sold,
    });
    // The watching client's pushes in order: each is looked for after the one before.
    let cursor = snapshotIndex;
    const nextPush = async (
      seatIds: string[],
      status: SeatStatus,
      figures: ReturnType<typeof availability>,
      answeredAt: number,
    ) => {
      const pushed = await expectPush(client, cursor, seatIds, status, figures, answeredAt);
      cursor = pushed.index;
      return pushed.latencyMs;
    };

    // Hold two seats → held.
    const firstPair = event.seatIds.slice(0, 2);
    const hold = await api.hold(t, buyer, event.id, { seatIds: firstPair });
    expect(hold.statusCode, hold.body).toBe(201);
    let answeredAt = Date.now();
    latencies.hold = await nextPush(firstPair, 'held', availability(2, 0), answeredAt);
    // Every client of the event gets it.
    await expectPush(second, 0, firstPair, 'held', availability(2, 0), answeredAt);

    // Release it → available again.
    const release = await t.inject({
      method: 'DELETE',
      url: `/api/v1/holds/${hold.json<{ id: string }>().id}`,
      headers: buyer.auth,
    });
    expect(release.statusCode, release.body).toBe(204);
    answeredAt = Date.now();
    latencies.release = await nextPush(firstPair, 'available', availability(0, 0), answeredAt);

    // Hold three others and book them → held, then sold.
    const booked = event.seatIds.slice(5, 8);
    const hold2 = await api.hold(t, buyer, event.id, { seatIds: booked });
    expect(hold2.statusCode, hold2.body).toBe(201);
    await nextPush(booked, 'held', availability(3, 0), Date.now());
    const booking = await t.inject({
      method: 'POST',
      url: '/api/v1/bookings',
      headers: { ...buyer.auth, 'idempotency-key': randomUUID() },
      payload: { holdId: hold2.json<{ id: string }>().id, payment: { token: 'tok_visa' } },
    });
    expect(booking.statusCode, booking.body).toBe(201);
    expect(booking.json()).toMatchObject({ status: 'confirmed' });
    answeredAt = Date.now();
    latencies.booking = await nextPush(booked, 'sold', availability(0, 3), answeredAt);

    // Cancel the booking → available again.
    const cancel = await t.inject({
      method: 'POST',
      url: `/api/v1/bookings/${booking.json<{ id: string }>().id}/cancel`,
      headers: buyer.auth,
    });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(cancel.json()).toMatchObject({ status: 'cancelled' });
    answeredAt = Date.now();
    latencies.cancellation = await nextPush(booked, 'available', availability(0, 0), answeredAt);

    // The pushes describe the state the API reports.
    expect(await counts(event.id)).toEqual({ available: SEATS, held: 0, sold: 0 });
    // Nothing more arrived than the four changes (plus the hold before the booking) ...
    const seen = client.received.slice(snapshotIndex + 1).map((r) => r.message.type);
    expect(seen).toEqual(Array.from({ length: 5 }, () => ['seats', 'availability']).flat());
    // ... and a client of another event heard none of it.
    await new Promise((r) => setTimeout(r, 200));
    expect(bystander.received.map((r) => r.message.type)).toEqual(['snapshot']);
    console.log(
      `[live] change → WebSocket after the HTTP answer: ${Object.entries(latencies)
        .map(([k, v]) => `${k} ${v} ms`)
        .join(', ')}`,
    );
  });

  it('answers a draft event with an error and closes the socket', async () => {
    const draft = await reservedEvent({ publish: false });
    const client = await LiveClient.open(liveUrl(draft.id));
    const error = await client.waitFor('error', (m) => m.type === 'error');
    expect(error.message).toEqual({ type: 'error', code: 'NOT_FOUND' });
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(client.received.map((r) => r.message.type)).toEqual(['error']);
  });

  it('answers an unknown event with an error and closes the socket', async () => {
    const client = await LiveClient.open(liveUrl(randomUUID()));
    const error = await client.waitFor('error', (m) => m.type === 'error');
    expect(error.message).toEqual({ type: 'error', code: 'NOT_FOUND' });
    expect((await client.closed).code).toBe(1008);
    expect(client.received.map((r) => r.message.type)).toEqual(['error']);
  });

  it('answers a malformed id with an error and closes the socket', async () => {
    const client = await LiveClient.open(liveUrl('not-a-uuid'));
    const error = await client.waitFor('error', (m) => m.type === 'error');
    expect(error.message).toEqual({ type: 'error', code: 'VALIDATION_FAILED' });
    expect((await client.closed).code).toBe(1008);
    expect(client.received.map((r) => r.message.type)).toEqual(['error']);
  });

  it('counts connected clients in the websocket_connections gauge', async () => {
    const before = await gaugeBecomes(0);
    expect(before).toBe(0);
    const a = await reservedEvent();
    const b = await reservedEvent();
    const one = await connectWithSnapshot(a.id);
    const two = await connectWithSnapshot(a.id);
    const three = await connectWithSnapshot(b.id);
    expect(await metricValue()).toBe(3);

    // Refused sockets are not counted, once closed.
    const refused = await LiveClient.open(liveUrl(randomUUID()));
    await refused.closed;
    const malformed = await LiveClient.open(liveUrl('nope'));
    await malformed.closed;
    expect(await gaugeBecomes(3)).toBe(3);

    await two.client.close();
    expect(await gaugeBecomes(2)).toBe(2);
    // A client that vanishes without a close handshake is dropped too.
    three.client.socket.terminate();
    await three.client.closed;
    expect(await gaugeBecomes(1)).toBe(1);
    await one.client.close();
    expect(await gaugeBecomes(0)).toBe(0);
  });
});
