import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdAndBook, seatIdsOf, type Booked } from './support/bookings.js';
import { createEvent, createVenue } from './support/fixtures.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';
import { api } from './support/api.js';

const HEADER = [
  'booking_id',
  'booking_status',
  'booked_at',
  'confirmed_at',
  'cancelled_at',
  'quantity',
  'total_cents',
  'refund_cents',
  'currency',
  'attendee_name',
  'attendee_email',
  'ticket_id',
  'ticket_code',
  'ticket_status',
  'section',
  'row',
  'seat',
];
const col = Object.fromEntries(HEADER.map((name, i) => [name, i])) as Record<string, number>;

/**
 * A strict, incremental RFC 4180 reader: every record ends with CRLF; a field is either plain
 * (no quote, comma, CR or LF) or quoted, with quotes inside doubled. Text that does not parse
 * (a bare LF, a stray quote, a missing final CRLF) is left over, and end() throws on it.
 */
class CsvReader {
  private static readonly FIELD = /"((?:[^"]|"")*)"(,|\r\n)|([^",\r\n]*)(,|\r\n)/y;
  private pending = '';
  private record: string[] = [];

  constructor(private readonly onRecord: (record: string[]) => void) {}

  push(text: string): void {
    this.pending += text;
    const field = CsvReader.FIELD;
    field.lastIndex = 0;
    let consumed = 0;
    for (let m = field.exec(this.pending); m; m = field.exec(this.pending)) {
      this.record.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[3]!);
      if ((m[2] ?? m[4]) === '\r\n') {
        this.onRecord(this.record);
        this.record = [];
        consumed = field.lastIndex;
      }
    }
    // The fields of an unfinished record are read again with the rest of it.
    this.record = [];
    this.pending = this.pending.slice(consumed);
  }

  end(): void {
    if (this.pending !== '') {
      throw new Error(`not RFC 4180 CSV from: ${JSON.stringify(this.pending.slice(0, 200))}`);
    }
  }
}

function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  const reader = new CsvReader((r) => records.push(r));
  reader.push(text);
  reader.end();
  return records;
}

let t: TestApp;
let base: string;
let admin: SignedIn;

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1`;
  admin = await t.signUp('admin');
});
afterAll(async () => {
  await t?.close();
});

const csvUrl = (eventId: string) => `/api/v1/events/${eventId}/bookings.csv`;

/** Registers a user through the API under the given display name, signed in. */
async function registerNamed(name: string): Promise<SignedIn> {
  const email = `named-${crypto.randomUUID()}@example.test`;
  const password = 'correct horse battery';
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { email, password, name },
  });
  expect(response.statusCode).toBe(201);
  const body = response.json<{
    user: { id: string; name: string };
    accessToken: string;
    refreshToken: string;
  }>();
  expect(body.user.name).toBe(name);
  return {
    id: body.user.id,
    email,
    password,
    role: 'user',
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    auth: { authorization: `Bearer ${body.accessToken}` },
  };
}

/** What the export promises for text: a spreadsheet must not run it as a formula. */
const defused = (text: string) => (/^[=+\-@]/.test(text) ? `'${text}` : text);

interface BookingView extends Booked {
  userId: string;
  quantity: number;
  refundCents: number;
  currency: string;
  createdAt: string;
  confirmedAt: string | null;
  cancelledAt: string | null;
  tickets: Array<{ id: string; seatId: string | null; code: string; status: string }>;
}

describe('GET /api/v1/events/:id/bookings.csv', () => {
  it('when an event has confirmed, cancelled and failed bookings, then it lists one RFC 4180 line per ticket (one for a booking without tickets) with amounts, attendee and seat, an apostrophe before typed text a spreadsheet would run as a formula, and ticket codes verbatim', async () => {
    const organizer = await t.signUp('organizer');
    const venue = await createVenue(t, organizer, { rows: 2, seatsPerRow: 5 });
    const event = await createEvent(t, organizer, { seating: 'reserved', venueId: venue.id });
    const seatIds = await seatIdsOf(t, event.id);
    const map = (await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}/seats` })).json<{
      sections: Array<{
        name: string;
        rows: Array<{ label: string; seats: Array<{ id: string; number: number }> }>;
      }>;
    }>();
    const seatOf = new Map(
      map.sections.flatMap((s) =>
        s.rows.flatMap((r) =>
          r.seats.map((seat) => [seat.id, [s.name, r.label, String(seat.number)]] as const),
        ),
      ),
    );

    const hostileName = '=HYPERLINK("https://evil.test/?a=1,b=2","Click me"), Esq.';
    const hostile = await registerNamed(hostileName);
    const alice = await t.signUp();
    const bob = await t.signUp();
    const carol = await t.signUp();
    const people = new Map([
      [hostile.id, { name: hostileName, email: hostile.email }],
      [alice.id, { name: 'Test user', email: alice.email }],
      [bob.id, { name: 'Test user', email: bob.email }],
      [carol.id, { name: 'Test user', email: carol.email }],
    ]);

    const aliceBooking = await holdAndBook(t, alice, event.id, { seatIds: seatIds.slice(0, 2) });
    // Ticket codes are base64url: one in 64 starts with '-'. Make sure one does (it must not
    // be altered the way typed text that looks like a formula is).
    await t.deps.database.db
      .updateTable('tickets')
      .set({ code: `-${aliceBooking.tickets[0]!.code}` })
      .where('id', '=', aliceBooking.tickets[0]!.id)
      .execute();
    await holdAndBook(t, hostile, event.id, { seatIds: [seatIds[2]!] });
    const cancelled = await holdAndBook(t, bob, event.id, { seatIds: seatIds.slice(10, 13) });
    const cancel = await t.inject({
      method: 'POST',
      url: `/api/v1/bookings/${cancelled.id}/cancel`,
      headers: bob.auth,
    });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json()).toMatchObject({ status: 'cancelled', refundCents: 7500 });
    // A declined payment leaves a failed booking without tickets.
    const held = await api.hold(t, carol, event.id, { seatIds: [seatIds[19]!] });
    expect(held.statusCode).toBe(201);
    const declined = await t.inject({
      method: 'POST',
      url: '/api/v1/bookings',
      headers: carol.auth,
      payload: { holdId: held.json<{ id: string }>().id, payment: { token: 'tok_declined' } },
    });
    expect(declined.statusCode).toBe(402);

    // What the API says about each booking, read by the organizer.
    const ids = await t.deps.database.db
      .selectFrom('bookings')
      .select('id')
      .where('event_id', '=', event.id)
      .execute();
    expect(ids).toHaveLength(4);
    const bookings: BookingView[] = [];
    for (const { id } of ids) {
      const response = await t.inject({
        method: 'GET',
        url: `/api/v1/bookings/${id}`,
        headers: organizer.auth,
      });
      expect(response.statusCode).toBe(200);
      bookings.push(response.json<BookingView>());
    }
    bookings.sort((a, b) =>
      a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1,
    );
    expect(bookings.map((b) => [b.status, b.quantity, b.totalCents, b.refundCents])).toEqual(
      expect.arrayContaining([
        ['confirmed', 2, 5000, 0],
        ['confirmed', 1, 2500, 0],
        ['cancelled', 3, 7500, 7500],
        ['failed', 1, 2500, 0],
      ]),
    );
    const expected = bookings.flatMap((b) => {
      const person = people.get(b.userId)!;
      const bookingPart = [
        b.id,
        b.status,
        b.createdAt,
        b.confirmedAt ?? '',
        b.cancelledAt ?? '',
        String(b.quantity),
        String(b.totalCents),
        String(b.refundCents),
        b.currency,
        defused(person.name),
        defused(person.email),
      ];
      if (b.tickets.length === 0) return [[...bookingPart, '', '', '', '', '', '']];
      return [...b.tickets]
        .sort((x, y) => (x.id < y.id ? -1 : 1))
        .map((ticket) => [
          ...bookingPart,
          ticket.id,
          ticket.code,
          ticket.status,
          ...seatOf.get(ticket.seatId!)!,
        ]);
    });

    const response = await t.inject({
      method: 'GET',
      url: csvUrl(event.id),
      headers: organizer.auth,
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="event-${event.id}-bookings.csv"`,
    );
    const text = response.body;
    expect(text.startsWith(`${HEADER.join(',')}\r\n`)).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    // RFC 4180 on the wire: the whole field quoted, inner quotes doubled, apostrophe first.
    expect(text).toContain(
      `,"'=HYPERLINK(""https://evil.test/?a=1,b=2"",""Click me""), Esq.",${hostile.email},`,
    );

    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(HEADER);
    expect(rows).toEqual(expected);
    expect(rows).toHaveLength(2 + 1 + 3 + 1);
    expect(new Set(rows.map((r) => r[col.currency!]))).toEqual(new Set(['EUR']));

    // The cancelled booking's tickets are all cancelled and carry the refund.
    const ofCancelled = rows.filter((r) => r[col.booking_id!] === cancelled.id);
    expect(ofCancelled).toHaveLength(3);
    for (const r of ofCancelled) {
      expect(r[col.booking_status!]).toBe('cancelled');
      expect(r[col.ticket_status!]).toBe('cancelled');
      expect(r[col.refund_cents!]).toBe('7500');
      expect(r[col.cancelled_at!]).not.toBe('');
      expect(r[col.section!]).toBe('Circle');
    }
    const hostileRows = rows.filter((r) => r[col.attendee_email!] === hostile.email);
    expect(hostileRows.map((r) => r[col.attendee_name!])).toEqual([`'${hostileName}`]);
    const codes = rows.map((r) => r[col.ticket_code!]);
    // Codes are ours, not typed by anyone: verbatim, so a check-in list matches byte for byte.
    expect(codes).toContain(`-${aliceBooking.tickets[0]!.code}`);
    const failed = rows.filter((r) => r[col.booking_status!] === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.slice(col.ticket_id)).toEqual(['', '', '', '', '', '']);
  });
});

describe('GET /api/v1/events/:id/bookings.csv with section and row labels that look like formulas', () => {
  it('when an organizer named a section and a row like formulas, then they get an apostrophe too', async () => {
    const organizer = await t.signUp('organizer');
    const venue = await t.inject({
      method: 'POST',
      url: '/api/v1/venues',
      headers: organizer.auth,
      payload: {
        name: 'Formula Hall',
        address: '1 Test Street',
        city: 'Testville',
        timezone: 'Europe/Berlin',
        sections: [{ name: '=SUM(A1:A9)', rows: [{ label: '+1', seats: 2 }] }],
      },
    });
    expect(venue.statusCode).toBe(201);
    const event = await createEvent(t, organizer, {
      seating: 'reserved',
      venueId: venue.json<{ id: string }>().id,
    });
    const buyer = await t.signUp();
    const [seatId] = await seatIdsOf(t, event.id);
    await holdAndBook(t, buyer, event.id, { seatIds: [seatId!] });

    const response = await t.inject({
      method: 'GET',
      url: csvUrl(event.id),
      headers: organizer.auth,
    });
    expect(response.statusCode).toBe(200);
    const [, line] = parseCsv(response.body);
    expect([line![col.section!], line![col.row!]]).toEqual(["'=SUM(A1:A9)", "'+1"]);
  });
});

describe('GET /api/v1/events/:id/bookings.csv access', () => {
  it('when the organizer or an admin asks, then 200; another organizer or a plain user: 403 FORBIDDEN; no token: 401; a non-uuid id: 400; an unknown or someone else’s draft event: 404', async () => {
    const organizer = await t.signUp('organizer');
    const otherOrganizer = await t.signUp('organizer');
    const user = await t.signUp();
    const event = await createEvent(t, organizer, { capacity: 5 });
    const draft = await createEvent(t, organizer, { capacity: 5, publish: false });
    await holdAndBook(t, user, event.id);
    const get = (url: string, who?: SignedIn) =>
      t.inject({ method: 'GET', url, headers: who ? who.auth : {} });

    for (const who of [organizer, admin]) {
      const response = await get(csvUrl(event.id), who);
      expect(response.statusCode).toBe(200);
      expect(parseCsv(response.body)).toHaveLength(2);
    }
    expect((await get(csvUrl(draft.id), organizer)).statusCode).toBe(200);

    const problem = async (
      url: string,
      who: SignedIn | undefined,
      status: number,
      code: string,
    ) => {
      const response = await get(url, who);
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ status, code });
      expect(response.body).not.toContain(user.email);
    };
    await problem(csvUrl(event.id), otherOrganizer, 403, 'FORBIDDEN');
    await problem(csvUrl(event.id), user, 403, 'FORBIDDEN');
    await problem(csvUrl(event.id), undefined, 401, 'UNAUTHENTICATED');
    await problem('/api/v1/events/not-a-uuid/bookings.csv', organizer, 400, 'VALIDATION_FAILED');
    await problem(csvUrl(crypto.randomUUID()), admin, 404, 'NOT_FOUND');
    await problem(csvUrl(draft.id), otherOrganizer, 404, 'NOT_FOUND');
  });
});

const BULK = 10_000;

/**
 * 10,000 confirmed one-ticket bookings, inserted with SQL (through the API it would take
 * minutes). Attendee names and emails are long and multi-byte, so the document is large:
 * holding it in memory whole would show in the heap. Booking times come in threes, so equal
 * times straddle the 1000-row batch boundaries.
 */
async function bulkEvent(): Promise<{ eventId: string; organizer: SignedIn; order: string[] }> {
  const organizer = await t.signUp('organizer');
  const event = await createEvent(t, organizer, { capacity: BULK });
  const db = t.deps.database.db;
  const tag = event.id.slice(0, 8);
  await sql`
    INSERT INTO users (email, name, password_hash)
    SELECT repeat('📧', 230) || '-' || ${tag} || '-' || i || '@x.test',
           repeat('💡', 194) || ' ' || i, 'not-a-hash'
    FROM generate_series(1, ${BULK}) AS i`.execute(db);
  await sql`
    INSERT INTO bookings (event_id, user_id, status, quantity, total_cents, currency,
                          payment_ref, created_at, updated_at, confirmed_at)
    SELECT ${event.id}, u.id, 'confirmed', 1, 2500, 'EUR', 'bulk',
           timestamptz '2030-01-01T00:00:00Z' + (u.n / 3) * interval '1 millisecond',
           now(), timestamptz '2030-01-01T00:00:01Z'
    FROM (SELECT id, row_number() OVER (ORDER BY random()) AS n
          FROM users WHERE email LIKE ${`%-${tag}-%@x.test`}) AS u`.execute(db);
  await sql`
    INSERT INTO tickets (booking_id, event_id, code, status)
    SELECT id, event_id, 'BULK-' || id, 'valid' FROM bookings WHERE event_id = ${event.id}`.execute(
    db,
  );
  await sql`UPDATE event_stock SET available = 0, sold = capacity WHERE event_id = ${event.id}`.execute(
    db,
  );
  const order = await sql<{ id: string }>`
    SELECT id::text AS id FROM bookings WHERE event_id = ${event.id}
    ORDER BY created_at, id`.execute(db);
  return { eventId: event.id, organizer, order: order.rows.map((r) => r.id) };
}

/**
 * A full garbage collection: global.gc when node runs with --expose-gc, otherwise the same
 * function taken from a fresh V8 context after turning the flag on (as Jest's leak detector does).
 */
function collectGarbage(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

interface Download {
  status: number;
  headers: Headers;
  chunks: number;
  bytes: number;
  records: number;
  /** Records complete when the first chunk had been read. */
  recordsInFirstChunk: number;
  heap?: HeapWatch;
}

interface HeapWatch {
  baseline: number;
  /** The most the heap grew, counting garbage unless it passed the bound (then measured live). */
  peakGrowth: number;
  /** Full collections forced because heapUsed passed the bound, and the most found live then. */
  collections: number;
  collectionMs: number;
  peakLiveAfterCollection: number;
}

/**
 * Watches the heap every 2 ms against `bound` (bytes over the baseline). heapUsed counts
 * garbage too, so it only bounds the live heap from above: whenever it passes the bound, a
 * full collection tells what is really live. Off-heap Buffers are not counted.
 */
function watchHeap(bound: number): { stop(): HeapWatch } {
  const gc = collectGarbage();
  gc();
  const watch: HeapWatch = {
    baseline: process.memoryUsage().heapUsed,
    peakGrowth: 0,
    collections: 0,
    collectionMs: 0,
    peakLiveAfterCollection: 0,
  };
  const sampler = setInterval(() => {
    let growth = process.memoryUsage().heapUsed - watch.baseline;
    if (growth > bound) {
      const started = performance.now();
      gc();
      watch.collectionMs += performance.now() - started;
      watch.collections++;
      growth = process.memoryUsage().heapUsed - watch.baseline;
      watch.peakLiveAfterCollection = Math.max(watch.peakLiveAfterCollection, growth);
    }
    watch.peakGrowth = Math.max(watch.peakGrowth, growth);
  }, 2);
  return {
    stop() {
      clearInterval(sampler);
      return watch;
    },
  };
}

/**
 * Downloads the export over a real socket with fetch, parsing it as it arrives: every data
 * line must carry the next booking of `order` (so each booking appears once, in the expected
 * order), and (booked_at, booking_id) read from the lines must only go up.
 */
async function download(
  eventId: string,
  who: SignedIn,
  order: string[],
  options: { heapBound?: number; pauseAfterFirstChunkMs?: number } = {},
): Promise<Download> {
  const heap = options.heapBound === undefined ? undefined : watchHeap(options.heapBound);
  try {
    const response = await fetch(`${base}/events/${eventId}/bookings.csv`, { headers: who.auth });
    let records = 0;
    let previous = '';
    const reader = new CsvReader((record) => {
      records++;
      if (records === 1) {
        expect(record).toEqual(HEADER);
        return;
      }
      expect(record).toHaveLength(HEADER.length);
      const id = record[col.booking_id!]!;
      if (id !== order[records - 2]) {
        throw new Error(`line ${records}: ${id}, expected ${order[records - 2]}`);
      }
      const key = `${record[col.booked_at!]} ${id}`;
      if (key <= previous) throw new Error(`line ${records} goes backwards: ${key} ≤ ${previous}`);
      previous = key;
    });
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const body = response.body!.getReader();
    let chunks = 0;
    let bytes = 0;
    let recordsInFirstChunk = 0;
    for (;;) {
      const { done, value } = await body.read();
      if (done) break;
      chunks++;
      bytes += value.byteLength;
      reader.push(decoder.decode(value, { stream: true }));
      if (chunks === 1) {
        recordsInFirstChunk = records;
        if (options.pauseAfterFirstChunkMs) await sleep(options.pauseAfterFirstChunkMs);
      }
    }
    reader.push(decoder.decode());
    reader.end();
    return {
      status: response.status,
      headers: response.headers,
      chunks,
      bytes,
      records,
      recordsInFirstChunk,
      heap: heap?.stop(),
    };
  } finally {
    heap?.stop();
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

describe('GET /api/v1/events/:id/bookings.csv, 10,000 bookings over a real socket', () => {
  /**
   * Streaming holds about one 1000-row batch three times over (rows, lines, the joined text):
   * measured 1.8 to 7.8 MB of live heap for this 19 MB document. Holding the whole document
   * needs at least its size; the document is asserted to be over 1.5 times this bound.
   */
  const HEAP_BOUND = 12_000_000;
  let bulk: Awaited<ReturnType<typeof bulkEvent>>;
  beforeAll(async () => {
    bulk = await bulkEvent();
  });

  it('when downloaded, then the lines arrive chunked (no content-length), each booking once and in (booked_at, id) order, while the live heap stays well under the document size', async () => {
    const started = Date.now();
    const result = await download(bulk.eventId, bulk.organizer, bulk.order, {
      heapBound: HEAP_BOUND,
    });
    const heap = result.heap!;
    console.info(
      `bookings.csv: ${result.bytes} bytes in ${result.chunks} chunks, ${Date.now() - started} ms; ` +
        `heapUsed over the ${mb(heap.baseline)} baseline passed ${mb(HEAP_BOUND)} ${heap.collections} ` +
        `times; a full collection (${Math.round(heap.collectionMs)} ms in all) then found at most ` +
        `${mb(heap.peakLiveAfterCollection)} live`,
    );
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(result.headers.get('content-length')).toBeNull();
    expect(result.headers.get('transfer-encoding')).toBe('chunked');
    expect(result.chunks).toBeGreaterThan(1);
    expect(result.records).toBe(BULK + 1);
    // Holding the whole document takes at least its UTF-8 size as a JS string here (its lines
    // are mostly emoji: four bytes either way), which is well over the bound.
    expect(result.bytes).toBeGreaterThan(1.5 * HEAP_BOUND);
    expect(heap.peakGrowth).toBeLessThanOrEqual(HEAP_BOUND);
  });

  it('when the reader pauses 500 ms after the first chunk, then the rest still arrives, complete and in order', async () => {
    const result = await download(bulk.eventId, bulk.organizer, bulk.order, {
      pauseAfterFirstChunkMs: 500,
    });
    expect(result.status).toBe(200);
    expect(result.recordsInFirstChunk).toBeLessThan(100);
    expect(result.chunks).toBeGreaterThan(1);
    expect(result.records).toBe(BULK + 1);
  });
});
