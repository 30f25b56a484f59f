import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type RawBuilder } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbedded, type Database } from '../src/infra/postgres/database.js';
import {
  ChildProcesses,
  exitWithin,
  freePort,
  waitForOutput,
  type Running,
} from './support/child-process.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/**
 * The server is SIGKILLed while every booking's charge is in flight at the payment provider
 * (a separate `evently payments-sim` process, so the provider outlives the server and finishes
 * the charges). The restarted server must settle every saga from what the first one persisted,
 * without charging anyone twice, losing a booking or leaving a seat held.
 *
 * Runs against a fresh PostgreSQL database when DATABASE_URL is set (plus REDIS_URL when set),
 * otherwise against the embedded PGlite persisted in DATA_DIR, which must survive the SIGKILL.
 */

const STARTUP_MS = 60_000;
const SETTLE_MS = 30_000;
const USERS = 10;
const SEATS_PER_USER = 2;
const ROWS = 4;
const SEATS_PER_ROW = 10;
const CAPACITY = ROWS * SEATS_PER_ROW;
const SLOW_MS = 1500;
const PASSWORD = 'correct-horse-battery';
const ADMIN_EMAIL = 'admin@crash.test';
const ADMIN_PASSWORD = 'admin-password-long-enough';

interface LedgerEntry {
  kind: 'charge' | 'refund' | 'decline';
  id: string;
  idempotencyKey: string;
  amountCents: number;
  chargeId?: string;
}

interface SagaView {
  id: string;
  type: string;
  bookingId: string | null;
  status: string;
  step: string;
  attempts: number;
  lastError: string | null;
}

interface BookingView {
  id: string;
  eventId: string;
  userId: string;
  holdId: string | null;
  status: 'pending' | 'confirmed' | 'cancelled' | 'failed';
  quantity: number;
  totalCents: number;
  refundCents: number;
  failureCode: string | null;
  tickets: Array<{ id: string; seatId: string | null; status: string }>;
  saga: SagaView | null;
}

interface EventView {
  id: string;
  capacity: number;
  available: number;
  held: number;
  sold: number;
}

interface SeatMap {
  sections: Array<{
    rows: Array<{ seats: Array<{ id: string; status: 'available' | 'held' | 'sold' }> }>;
  }>;
}

interface User {
  email: string;
  token: string;
  holdId: string;
  seatIds: string[];
  totalCents: number;
}

const processes = new ChildProcesses();
let testDb: TestDatabase | undefined;
let embedded: Database | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  // Always: a failed assertion must not leave a server or a simulator behind.
  await processes.killAll();
  await embedded?.close().catch(() => undefined);
  await testDb?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** JSON over real HTTP; throws with the body when the status is not the expected one. */
async function call<T>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; expect?: number } = {},
): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  const expected = options.expect ?? 200;
  if (response.status !== expected) {
    throw new Error(`${method} ${path}: expected ${expected}, got ${response.status}: ${text}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

describe('crash recovery (SIGKILL with charges in flight)', () => {
  it('a restarted server settles every booking saga: no double charge, no lost booking, no stuck seat', async () => {
    const started = Date.now();
    const mode = process.env.DATABASE_URL ? 'postgres' : 'pglite';
    dataDir = mkdtempSync(join(tmpdir(), 'evently-crash-'));
    if (mode === 'postgres') testDb = await createTestDatabase();

    // The same environment for create-admin and both server runs: same DB, same DATA_DIR.
    const simPort = await freePort();
    const simBase = `http://127.0.0.1:${simPort}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ...(testDb?.url ? { DATABASE_URL: testDb.url } : {}),
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
      PAYMENTS_URL: simBase,
      PAYMENT_TIMEOUT_MS: '5000',
      SAGA_LEASE_MS: '2000',
      SAGA_RETRY_DELAY_MS: '200',
      SAGA_RECOVERY_INTERVAL_MS: '200',
      HOLD_SWEEP_INTERVAL_MS: '200',
      HOLD_TTL_SECONDS: '30',
      JWT_SECRET: 'crash-recovery-test-secret-0123456789abcdef',
      BCRYPT_COST: '4',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
    };

    // 1. The payment provider: its own process, so it lives on when the server is killed.
    const simulator = processes.start(
      ['payments-sim', '--port', String(simPort), '--slow-ms', String(SLOW_MS)],
      env,
    );
    await waitForOutput(simulator, /Payment simulator listening/, STARTUP_MS);
    const ledger = async () =>
      (await call<{ entries: LedgerEntry[] }>(simBase, 'GET', '/ledger')).entries;

    // 2. The admin account, before the server starts (registration only makes users).
    // ADMIN_EMAIL goes along with ADMIN_PASSWORD: the configuration refuses one without the other.
    const createAdmin = processes.start(['create-admin', '--email', ADMIN_EMAIL], {
      ...env,
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
    });
    expect(await exitWithin(createAdmin, STARTUP_MS), createAdmin.output()).toEqual({
      code: 0,
      signal: null,
    });
    expect(createAdmin.output()).toContain(`Created admin ${ADMIN_EMAIL}`);

    const serve = async (): Promise<{ server: Running; base: string }> => {
      const port = await freePort();
      const server = processes.start(['serve'], { ...env, PORT: String(port) });
      const banner = await waitForOutput(server, /Evently is running/, STARTUP_MS);
      expect(banner).toContain(mode === 'pglite' ? 'embedded PGlite database' : 'PostgreSQL');
      return { server, base: `http://127.0.0.1:${port}` };
    };

    // 3. A reserved-seating event and USERS users holding SEATS_PER_USER seats each.
    const first = await serve();
    const admin = await call<{ accessToken: string }>(first.base, 'POST', '/api/v1/auth/login', {
      body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    const venue = await call<{ id: string; capacity: number }>(
      first.base,
      'POST',
      '/api/v1/venues',
      {
        token: admin.accessToken,
        expect: 201,
        body: {
          name: 'Crash Hall',
          address: '1 Kill Street',
          city: 'Recoveryville',
          timezone: 'Europe/Berlin',
          sections: [
            {
              name: 'Stalls',
              rows: Array.from({ length: ROWS }, (_, i) => ({
                label: String.fromCharCode(65 + i),
                seats: SEATS_PER_ROW,
              })),
            },
          ],
        },
      },
    );
    expect(venue.capacity).toBe(CAPACITY);
    const startsAt = new Date(Date.now() + 10 * 86_400_000);
    const draft = await call<{ id: string }>(first.base, 'POST', '/api/v1/events', {
      token: admin.accessToken,
      expect: 201,
      body: {
        name: 'Crash Test Concert',
        description: 'Seats sold while the server dies',
        venueId: venue.id,
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
        seating: 'reserved',
        priceCents: 2500,
        currency: 'EUR',
      },
    });
    const eventId = draft.id;
    await call(first.base, 'POST', `/api/v1/events/${eventId}/publish`, {
      token: admin.accessToken,
    });
    const seatIdsOf = (map: SeatMap) =>
      map.sections.flatMap((s) => s.rows.flatMap((r) => r.seats.map((seat) => seat.id)));
    const allSeats = seatIdsOf(
      await call<SeatMap>(first.base, 'GET', `/api/v1/events/${eventId}/seats`),
    );
    expect(allSeats).toHaveLength(CAPACITY);

    const users: User[] = await Promise.all(
      Array.from({ length: USERS }, async (_, i) => {
        const email = `buyer${i}@crash.test`;
        const { accessToken } = await call<{ accessToken: string }>(
          first.base,
          'POST',
          '/api/v1/auth/register',
          { expect: 201, body: { email, password: PASSWORD, name: `Buyer ${i}` } },
        );
        const seatIds = allSeats.slice(i * SEATS_PER_USER, (i + 1) * SEATS_PER_USER);
        const hold = await call<{ id: string; totalCents: number }>(
          first.base,
          'POST',
          `/api/v1/events/${eventId}/holds`,
          { token: accessToken, expect: 201, body: { seatIds } },
        );
        return { email, token: accessToken, holdId: hold.id, seatIds, totalCents: hold.totalCents };
      }),
    );

    // 4. Every buyer pays with tok_slow at once; nobody waits for the answer.
    const fired = Date.now();
    const answers = users.map((user) =>
      fetch(`${first.base}/api/v1/bookings`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${user.token}`,
        },
        body: JSON.stringify({ holdId: user.holdId, payment: { token: 'tok_slow' } }),
      }).then(
        async (response) => ({ status: response.status, body: await response.text() }),
        (error: unknown) => ({ status: 0, body: String(error) }),
      ),
    );
    // Kill once every booking's saga is persisted (the charge goes out right after) and at
    // least 300 ms have passed, well before the provider answers the first charge.
    let sagasAtKill = 0;
    for (;;) {
      await sleep(50);
      const page = await call<{ items: SagaView[] }>(first.base, 'GET', '/api/v1/admin/sagas', {
        token: admin.accessToken,
      });
      sagasAtKill = page.items.length;
      const elapsed = Date.now() - fired;
      if ((sagasAtKill === USERS && elapsed >= 300) || elapsed >= SLOW_MS - 400) break;
    }
    const chargesBeforeKill = (await ledger()).filter((e) => e.kind === 'charge').length;
    first.server.child.kill('SIGKILL');
    expect(await exitWithin(first.server, 10_000)).toEqual({ code: null, signal: 'SIGKILL' });
    const killedAfterMs = Date.now() - fired;
    const firstAnswers = await Promise.all(answers);
    const unanswered = firstAnswers.filter((a) => a.status === 0).length;
    // The crash must have come while the bookings were under way.
    expect(unanswered, JSON.stringify(firstAnswers)).toBeGreaterThan(0);

    // 5. The same environment again; the recovery loop must finish what the first run left.
    const second = await serve();
    const restartedAfterMs = Date.now() - fired;
    // Sessions live in the database and the JWT secret is fixed, so the tokens still work.
    const sagasNow = async () =>
      (
        await call<{ items: SagaView[]; nextCursor: string | null }>(
          second.base,
          'GET',
          '/api/v1/admin/sagas?limit=100',
          { token: admin.accessToken },
        )
      ).items;
    const bookingsNow = async () =>
      (
        await Promise.all(
          users.map(async (user) => {
            const page = await call<{ items: BookingView[] }>(
              second.base,
              'GET',
              '/api/v1/bookings?limit=100',
              { token: user.token },
            );
            return Promise.all(
              page.items.map((b) =>
                call<BookingView>(second.base, 'GET', `/api/v1/bookings/${b.id}`, {
                  token: user.token,
                }),
              ),
            );
          }),
        )
      ).flat();
    const finished = (s: SagaView) => s.status === 'completed' || s.status === 'compensated';
    const settleDeadline = Date.now() + SETTLE_MS;
    let sagas = await sagasNow();
    let bookings = await bookingsNow();
    while (!sagas.every(finished) || bookings.some((b) => b.status === 'pending')) {
      if (Date.now() > settleDeadline) {
        throw new Error(
          `not settled within ${SETTLE_MS} ms after the restart:\n` +
            `sagas: ${JSON.stringify(
              sagas.filter((s) => !finished(s)),
              null,
              2,
            )}\n` +
            `server output:\n${second.server.output()}`,
        );
      }
      await sleep(200);
      sagas = await sagasNow();
      bookings = await bookingsNow();
    }
    const settledAfterMs = Date.now() - fired;
    // Every saga has its answer, so the provider's books are final.
    const entries = await ledger();

    // 6a. Sagas and bookings: every booking saga ended, every booking decided.
    const bookingSagas = sagas.filter((s) => s.type === 'booking');
    expect(sagas.filter((s) => s.type !== 'booking')).toEqual([]);
    expect(
      bookingSagas.map((s) => s.status).every((s) => s === 'completed' || s === 'compensated'),
    ).toBe(true);
    expect(bookings.length).toBeLessThanOrEqual(USERS);
    expect(bookings.length).toBe(sagasAtKill);
    expect(new Set(bookingSagas.map((s) => s.bookingId))).toEqual(
      new Set(bookings.map((b) => b.id)),
    );
    const confirmed = bookings.filter((b) => b.status === 'confirmed');
    const failed = bookings.filter((b) => b.status === 'failed');
    expect(confirmed.length + failed.length).toBe(bookings.length);
    for (const booking of bookings) {
      const user = users.find((u) => u.holdId === booking.holdId);
      expect(user, `booking ${booking.id} is for one of our holds`).toBeDefined();
      expect(booking.totalCents).toBe(user!.totalCents);
      expect(booking.saga?.status).toBe(
        booking.status === 'confirmed' ? 'completed' : 'compensated',
      );
    }
    // One booking per hold at most: nobody retried.
    expect(new Set(bookings.map((b) => b.holdId)).size).toBe(bookings.length);

    // 6b. The provider's books.
    const charges = entries.filter((e) => e.kind === 'charge');
    const refunds = entries.filter((e) => e.kind === 'refund');
    const chargesByKey = new Map<string, LedgerEntry[]>();
    for (const charge of charges) {
      chargesByKey.set(charge.idempotencyKey, [
        ...(chargesByKey.get(charge.idempotencyKey) ?? []),
        charge,
      ]);
    }
    for (const [key, list] of chargesByKey) {
      expect(list, `charges under idempotency key ${key}`).toHaveLength(1);
    }
    const byId = new Map(bookings.map((b) => [b.id, b]));
    for (const charge of charges) {
      const booking = byId.get(charge.idempotencyKey);
      expect(booking, `charge ${charge.id} belongs to a booking`).toBeDefined();
      expect(charge.amountCents).toBe(booking!.totalCents);
    }
    for (const booking of confirmed) {
      expect(chargesByKey.get(booking.id), `charge of confirmed ${booking.id}`).toHaveLength(1);
      expect(refunds.filter((r) => r.idempotencyKey === `refund:${booking.id}`)).toEqual([]);
      expect(booking.refundCents).toBe(0);
    }
    const refundKeys = new Set<string>();
    for (const refund of refunds) {
      expect(refundKeys.has(refund.idempotencyKey), `refund ${refund.idempotencyKey} twice`).toBe(
        false,
      );
      refundKeys.add(refund.idempotencyKey);
      const bookingId = refund.idempotencyKey.replace(/^refund:/, '');
      const booking = byId.get(bookingId);
      expect(booking?.status, `refund ${refund.idempotencyKey} is for a failed booking`).toBe(
        'failed',
      );
      const charge = chargesByKey.get(bookingId)?.[0];
      expect(charge, `refund ${refund.idempotencyKey} has its charge`).toBeDefined();
      expect(refund.chargeId).toBe(charge!.id);
      expect(refund.amountCents).toBe(charge!.amountCents);
    }
    for (const booking of failed) {
      // Money taken for a failed booking is always given back.
      const charged = chargesByKey.has(booking.id);
      expect(refundKeys.has(`refund:${booking.id}`), `failed ${booking.id} refunded`).toBe(charged);
      expect(booking.refundCents).toBe(charged ? booking.totalCents : 0);
      expect(booking.tickets).toEqual([]);
    }

    // 6c. Inventory as the API shows it.
    const event = await call<EventView>(second.base, 'GET', `/api/v1/events/${eventId}`);
    const seatMap = await call<SeatMap>(second.base, 'GET', `/api/v1/events/${eventId}/seats`);
    const seats = seatMap.sections.flatMap((s) => s.rows.flatMap((r) => r.seats));
    const seatsIn = (status: string) => seats.filter((s) => s.status === status).map((s) => s.id);
    const tickets = confirmed.flatMap((b) => b.tickets);
    expect(event.capacity).toBe(CAPACITY);
    expect(event.available + event.held + event.sold).toBe(event.capacity);
    expect(event.sold).toBe(tickets.length);
    expect(event.sold).toBe(confirmed.reduce((sum, b) => sum + b.quantity, 0));
    expect(event.sold).toBe(seatsIn('sold').length);
    expect(event.held).toBe(seatsIn('held').length);
    expect(event.available).toBe(seatsIn('available').length);
    expect(new Set(seatsIn('sold'))).toEqual(new Set(tickets.map((t) => t.seatId)));
    for (const booking of confirmed) {
      const user = users.find((u) => u.holdId === booking.holdId)!;
      expect(booking.tickets.map((t) => t.seatId).sort()).toEqual([...user.seatIds].sort());
      expect(booking.tickets.every((t) => t.status === 'valid')).toBe(true);
    }
    // A seat is held only by a hold nobody has booked (a booking never reached the database).
    const booked = new Set(bookings.map((b) => b.holdId));
    const heldLegitimately = new Set(
      users.filter((u) => !booked.has(u.holdId)).flatMap((u) => u.seatIds),
    );
    for (const seatId of seatsIn('held')) expect(heldLegitimately.has(seatId)).toBe(true);

    // 7. A clean stop, then the database itself (PGlite can only be opened once the server
    // has let go of it).
    const stoppedAt = new Date();
    second.server.child.kill('SIGTERM');
    expect(await exitWithin(second.server, 15_000), second.server.output()).toEqual({
      code: 0,
      signal: null,
    });
    const database = testDb?.database ?? (embedded = await openEmbedded(dataDir)); // same <DATA_DIR>/pglite
    const rows = async <R>(query: RawBuilder<R>) => (await query.execute(database.db)).rows;
    expect(
      await rows(sql`SELECT id, status FROM bookings WHERE status NOT IN ('confirmed', 'failed')`),
    ).toEqual([]);
    expect(
      await rows(
        sql`SELECT id, status, step FROM sagas WHERE status NOT IN ('completed', 'compensated')`,
      ),
    ).toEqual([]);
    // Held seats belong to active holds that had not expired when the server stopped.
    expect(
      await rows(sql`
          SELECT s.id, h.status, h.expires_at FROM event_seats s LEFT JOIN holds h ON h.id = s.hold_id
          WHERE s.status = 'held'
            AND (h.id IS NULL OR h.status <> 'active' OR h.expires_at <= ${stoppedAt})`),
    ).toEqual([]);
    // Every confirmed booking converted its hold and owns its sold seats; nothing else is sold.
    expect(
      await rows(sql`
          SELECT b.id, b.status, h.status AS hold_status FROM bookings b JOIN holds h ON h.id = b.hold_id
          WHERE (b.status = 'confirmed') <> (h.status = 'converted')`),
    ).toEqual([]);
    expect(
      await rows(sql`
          SELECT s.id FROM event_seats s LEFT JOIN bookings b ON b.id = s.booking_id
          WHERE s.status = 'sold' AND (b.id IS NULL OR b.status <> 'confirmed')`),
    ).toEqual([]);
    const [counters] = await rows<{
      capacity: number;
      available: number;
      held: number;
      sold: number;
      seats_available: number;
      seats_held: number;
      seats_sold: number;
      tickets: number;
    }>(sql`
        SELECT e.capacity, e.available, e.held, e.sold,
          (SELECT count(*)::int FROM event_seats WHERE event_id = e.id AND status = 'available') AS seats_available,
          (SELECT count(*)::int FROM event_seats WHERE event_id = e.id AND status = 'held') AS seats_held,
          (SELECT count(*)::int FROM event_seats WHERE event_id = e.id AND status = 'sold') AS seats_sold,
          (SELECT count(*)::int FROM tickets WHERE event_id = e.id AND status = 'valid') AS tickets
        FROM events e WHERE e.id = ${eventId}`);
    expect(counters).toEqual({
      capacity: CAPACITY,
      available: counters!.seats_available,
      held: counters!.seats_held,
      sold: counters!.tickets,
      seats_available: counters!.seats_available,
      seats_held: counters!.seats_held,
      seats_sold: counters!.tickets,
      tickets: counters!.tickets,
    });
    expect(counters!.available + counters!.held + counters!.sold).toBe(CAPACITY);

    console.log(
      `[crash-recovery/${mode}] ${bookings.length} bookings (${sagasAtKill} sagas at the kill, ` +
        `${unanswered}/${USERS} requests unanswered, ${chargesBeforeKill} charges before it): ` +
        `${confirmed.length} confirmed, ${failed.length} failed` +
        `${failed.length ? ` (${failed.map((b) => b.failureCode).join(', ')})` : ''}; ` +
        `ledger ${charges.length} charges, ${refunds.length} refunds, ` +
        `${entries.filter((e) => e.kind === 'decline').length} declines; ` +
        `saga attempts ${bookingSagas.map((s) => s.attempts).join(',')}; ` +
        `killed at +${killedAfterMs} ms, serving again at +${restartedAfterMs} ms, ` +
        `settled at +${settledAfterMs} ms; ${Date.now() - started} ms in all`,
    );
  }, 120_000);
});
