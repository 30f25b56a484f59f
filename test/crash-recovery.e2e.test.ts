import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type RawBuilder } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbedded, type Database } from '../src/infra/postgres/database.js';
import {
  ChildProcesses,
  exitWithin,
  freePort,
  sleep,
  waitForOutput,
  type Running,
} from './support/child-process.js';
import { oneSectionVenue } from './support/fixtures.js';
import { checkHoldInvariants, seededRandom } from './support/hold-invariants.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/**
 * The server is SIGKILLed while bookings' charges are in flight at the payment provider (a
 * separate `evently payments-sim` process, so the provider outlives the server and finishes
 * the charges). The restarted server must settle every saga from what the first one persisted,
 * without charging anyone twice, losing a booking or leaving a seat held.
 *
 * Three scenarios share the machinery: an immediate restart, where every charge is confirmed;
 * a restart delayed until every hold has expired, with a mix of cards, where the charges that
 * landed while the server was dead must be refunded and their seats given back; and a restart
 * during a provider outage (a server pointed at a closed port, its circuit opening, stopped and
 * started again once the provider is back), where the recovered charges, which the provider did
 * make, must not be taken for charges that never happened.
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
const PASSWORD = 'correct-horse-battery';
const ADMIN_EMAIL = 'admin@crash.test';
const ADMIN_PASSWORD = 'admin-password-long-enough';

type PaymentToken = 'tok_visa' | 'tok_declined' | 'tok_slow' | 'tok_charge_then_error';

interface LedgerEntry {
  kind: 'charge' | 'refund' | 'decline';
  id: string;
  idempotencyKey: string;
  amountCents: number;
  chargeId?: string;
  at: string;
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
  payWith: PaymentToken;
  holdId: string;
  holdExpiresAt: number;
  seatIds: string[];
  totalCents: number;
}

interface Answer {
  status: number;
  body: string;
}

interface Scenario {
  /** For the summary line. */
  name: string;
  /** The card each user pays with, one per user. */
  payWith: PaymentToken[];
  /** How long the provider takes for tok_slow. */
  slowMs: number;
  holdTtlSeconds: number;
  /** Keep the server down until every hold has expired (instead of restarting at once). */
  restartAfterHoldsExpire: boolean;
  /**
   * Restart first with the provider unreachable (PAYMENTS_URL on a closed port) and keep that
   * server up at least this long, until the recovery loop has retried every saga and the
   * circuit has opened; then SIGTERM it and restart with the provider back.
   */
  providerDownAtRestartMs?: number;
}

/** What the server that restarted during the provider outage saw. */
interface OutageRun {
  /** Epoch milliseconds: serving (against the dead provider), then stopped. */
  servingAt: number;
  stoppedAt: number;
  /** The booking sagas as the last poll before the stop saw them. */
  sagas: SagaView[];
  /** Every distinct saga lastError seen while the provider was down. */
  errorsSeen: string[];
  /** /health/status reported the payments circuit open at least once. */
  circuitOpenSeen: boolean;
  /** Sagas seen finished while the provider was down (there should be none). */
  finishedSeen: string[];
}

/** What a run left behind, for the scenario's own assertions. */
interface CrashRun {
  users: User[];
  bookings: BookingView[];
  bookingSagas: SagaView[];
  confirmed: BookingView[];
  failed: BookingView[];
  entries: LedgerEntry[];
  charges: LedgerEntry[];
  refunds: LedgerEntry[];
  chargesByKey: Map<string, LedgerEntry[]>;
  firstAnswers: Answer[];
  event: EventView;
  /** Epoch milliseconds. */
  killedAt: number;
  restartedAt: number;
  /** Only with providerDownAtRestartMs. */
  outage?: OutageRun;
  /** Queries the database the servers used (after the second one stopped). */
  rows: <R>(query: RawBuilder<R>) => Promise<R[]>;
  summary: string;
}

const processes = new ChildProcesses();
let testDb: TestDatabase | undefined;
let embedded: Database | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  // Always: a failed assertion must not leave a server or a simulator behind.
  await processes.killAll();
  await embedded?.close().catch(() => undefined);
  await testDb?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  embedded = testDb = dataDir = undefined;
});

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

const finished = (s: SagaView) => s.status === 'completed' || s.status === 'compensated';
const seatsOf = (map: SeatMap) => map.sections.flatMap((s) => s.rows.flatMap((r) => r.seats));

/**
 * What every case starts before its first server: the payment simulator on `simBase`'s port
 * (its own process, so it lives on when the server is killed) and the admin account (made
 * before the server starts: registration only makes users). Answers the simulator's
 * ledger and a way to start a server on a fresh port.
 */
async function startStack(
  env: NodeJS.ProcessEnv,
  simBase: string,
  mode: 'postgres' | 'pglite',
  simulatorArgs: string[],
) {
  const simulator = processes.start(
    ['payments-sim', '--port', new URL(simBase).port, ...simulatorArgs],
    env,
  );
  await waitForOutput(simulator, /Payment simulator listening/, STARTUP_MS);
  const ledger = async () =>
    (await call<{ entries: LedgerEntry[] }>(simBase, 'GET', '/ledger')).entries;
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
  const serve = async (
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<{ server: Running; base: string }> => {
    const port = await freePort();
    const server = processes.start(['serve'], { ...env, ...extraEnv, PORT: String(port) });
    const banner = await waitForOutput(server, /Evently is running/, STARTUP_MS);
    expect(banner).toContain(mode === 'pglite' ? 'embedded PGlite database' : 'PostgreSQL');
    return { server, base: `http://127.0.0.1:${port}` };
  };
  return { ledger, serve };
}

/**
 * What every case starts from: a fresh DATA_DIR (and, against PostgreSQL, a fresh database)
 * for afterEach to remove (answered as `dir`), and the payment simulator's address on a free port.
 */
async function freshCase(dataDirPrefix: string) {
  const mode = process.env.DATABASE_URL ? ('postgres' as const) : ('pglite' as const);
  const dir = mkdtempSync(join(tmpdir(), dataDirPrefix));
  dataDir = dir;
  if (mode === 'postgres') testDb = await createTestDatabase();
  const simBase = `http://127.0.0.1:${await freePort()}`;
  return { mode, simBase, dir };
}

/**
 * The environment of create-admin, the payment simulator and every server run of a case:
 * the same database, DATA_DIR and provider throughout, plus the case's own settings.
 */
function serverEnv(simBase: string, own: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ...(testDb?.url ? { DATABASE_URL: testDb.url } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    PAYMENTS_URL: simBase,
    SAGA_RETRY_DELAY_MS: '200',
    SAGA_RECOVERY_INTERVAL_MS: '200',
    HOLD_SWEEP_INTERVAL_MS: '200',
    JWT_SECRET: 'crash-recovery-test-secret-0123456789abcdef',
    BCRYPT_COST: '4',
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    // Every buyer registers from 127.0.0.1, and with Redis the windows outlive each server run.
    RATE_LIMIT_ENABLED: 'false',
    ...own,
  };
}

/**
 * Starts the provider and a server, has every user hold seats and book them at once, SIGKILLs
 * the server while the tok_slow charges are in flight, restarts it (at once, or once the holds
 * have expired), waits for every saga to settle and checks what must hold after any crash:
 * every saga ended, every booking decided, no double charge, every charge of a failed booking
 * refunded exactly once, and seats and counters agreeing with the tickets.
 */
async function crashAndRecover(scenario: Scenario): Promise<CrashRun> {
  expect(scenario.payWith).toHaveLength(USERS);
  const started = Date.now();
  const { mode, simBase, dir } = await freshCase('evently-crash-');

  // The same environment for create-admin and both server runs: same DB, same DATA_DIR.
  const env = serverEnv(simBase, {
    PAYMENT_TIMEOUT_MS: '5000',
    SAGA_LEASE_MS: '2000',
    HOLD_TTL_SECONDS: String(scenario.holdTtlSeconds),
  });

  // 1. The payment provider (its own process, so it lives on when the server is killed) and
  // 2. the admin account.
  const { ledger, serve } = await startStack(env, simBase, mode, [
    '--slow-ms',
    String(scenario.slowMs),
  ]);

  // 3. A reserved-seating event and USERS users holding SEATS_PER_USER seats each.
  const first = await serve();
  const admin = await call<{ accessToken: string }>(first.base, 'POST', '/api/v1/auth/login', {
    body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
  });
  const venue = await call<{ id: string; capacity: number }>(first.base, 'POST', '/api/v1/venues', {
    token: admin.accessToken,
    expect: 201,
    body: oneSectionVenue(
      { name: 'Crash Hall', address: '1 Kill Street', city: 'Recoveryville', section: 'Stalls' },
      ROWS,
      SEATS_PER_ROW,
    ),
  });
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
  const allSeats = seatsOf(
    await call<SeatMap>(first.base, 'GET', `/api/v1/events/${eventId}/seats`),
  ).map((seat) => seat.id);
  expect(allSeats).toHaveLength(CAPACITY);

  const users: User[] = await Promise.all(
    scenario.payWith.map(async (payWith, i) => {
      const email = `buyer${i}@crash.test`;
      const { accessToken } = await call<{ accessToken: string }>(
        first.base,
        'POST',
        '/api/v1/auth/register',
        { expect: 201, body: { email, password: PASSWORD, name: `Buyer ${i}` } },
      );
      const seatIds = allSeats.slice(i * SEATS_PER_USER, (i + 1) * SEATS_PER_USER);
      const hold = await call<{ id: string; totalCents: number; expiresAt: string }>(
        first.base,
        'POST',
        `/api/v1/events/${eventId}/holds`,
        { token: accessToken, expect: 201, body: { seatIds } },
      );
      return {
        email,
        token: accessToken,
        payWith,
        holdId: hold.id,
        holdExpiresAt: Date.parse(hold.expiresAt),
        seatIds,
        totalCents: hold.totalCents,
      };
    }),
  );
  const userOf = (booking: BookingView) => users.find((u) => u.holdId === booking.holdId);

  // 4. Every buyer pays at once; nobody waits for the answer.
  const fired = Date.now();
  const answered: Array<Answer | undefined> = users.map(() => undefined);
  const answers = users.map((user, i) =>
    fetch(`${first.base}/api/v1/bookings`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${user.token}`,
      },
      body: JSON.stringify({ holdId: user.holdId, payment: { token: user.payWith } }),
    })
      .then(
        async (response) => ({ status: response.status, body: await response.text() }),
        (error: unknown) => ({ status: 0, body: String(error) }),
      )
      .then((answer) => (answered[i] = answer)),
  );
  // Kill once every booking's saga is persisted (the charge goes out right after), every
  // request that does not pay with tok_slow has its answer and at least 300 ms have passed,
  // well before the provider answers the first tok_slow charge.
  let sagasAtKill = 0;
  let finishedAtKill = 0;
  for (;;) {
    await sleep(50);
    const page = await call<{ items: SagaView[] }>(first.base, 'GET', '/api/v1/admin/sagas', {
      token: admin.accessToken,
    });
    sagasAtKill = page.items.length;
    finishedAtKill = page.items.filter(finished).length;
    const elapsed = Date.now() - fired;
    const fastAnswered = users.every((u, i) => u.payWith === 'tok_slow' || answered[i]);
    if (
      (sagasAtKill === USERS && fastAnswered && elapsed >= 300) ||
      elapsed >= scenario.slowMs - 400
    )
      break;
  }
  const chargesBeforeKill = (await ledger()).filter((e) => e.kind === 'charge').length;
  first.server.child.kill('SIGKILL');
  expect(await exitWithin(first.server, 10_000)).toEqual({ code: null, signal: 'SIGKILL' });
  const killedAt = Date.now();
  const firstAnswers = await Promise.all(answers);
  const unanswered = firstAnswers.filter((a) => a.status === 0).length;
  // The crash must have come while the bookings were under way.
  expect(unanswered, JSON.stringify(firstAnswers)).toBeGreaterThan(0);

  // 5a. (With providerDownAtRestartMs.) A restart while the provider is down: nobody listens
  // on PAYMENTS_URL, so every recovered saga fails to reach it, the circuit opens (and, with a
  // short reset, half-opens and opens again). No saga may finish: the charges the dead server
  // started did go through, whatever this server cannot find out. Then a clean stop.
  const restartDuringOutage = async (minMs: number): Promise<OutageRun> => {
    const deadPort = await freePort();
    const down = await serve({
      PAYMENTS_URL: `http://127.0.0.1:${deadPort}`,
      PAYMENT_BREAKER_RESET_MS: '500',
    });
    const servingAt = Date.now();
    const deadline = servingAt + minMs + SETTLE_MS;
    const errorsSeen = new Set<string>();
    const finishedSeen = new Set<string>();
    let circuitOpenSeen = false;
    let sagas: SagaView[] = [];
    for (;;) {
      const [page, health] = await Promise.all([
        call<{ items: SagaView[] }>(down.base, 'GET', '/api/v1/admin/sagas?limit=100', {
          token: admin.accessToken,
        }),
        call<{ checks: Record<string, { status: string; error?: string }> }>(
          down.base,
          'GET',
          '/health/status',
        ),
      ]);
      sagas = page.items.filter((s) => s.type === 'booking');
      for (const saga of sagas) {
        if (saga.lastError) errorsSeen.add(saga.lastError);
        if (finished(saga)) finishedSeen.add(`${saga.bookingId} ${saga.status}`);
      }
      if (health.checks.payments?.status === 'down') circuitOpenSeen = true;
      // Every saga taken over and retried against the dead provider (claimed, its charge step
      // failed, claimed again at least twice), and the circuit seen open. A saga that finished
      // here is not retried; the scenario's assertions report it.
      const retried = sagas.every(
        (s) => finished(s) || (s.attempts >= 3 && /unreachable|circuit/.test(s.lastError ?? '')),
      );
      if (sagas.length > 0 && retried && circuitOpenSeen && Date.now() - servingAt >= minMs) break;
      if (Date.now() > deadline) {
        throw new Error(
          `the provider outage did not play out as intended (circuit seen open: ` +
            `${circuitOpenSeen}):\n${JSON.stringify(sagas, null, 2)}\n` +
            `server output:\n${down.server.output()}`,
        );
      }
      await sleep(100);
    }
    down.server.child.kill('SIGTERM');
    expect(await exitWithin(down.server, 15_000), down.server.output()).toEqual({
      code: 0,
      signal: null,
    });
    return {
      servingAt,
      stoppedAt: Date.now(),
      sagas,
      errorsSeen: [...errorsSeen],
      circuitOpenSeen,
      finishedSeen: [...finishedSeen],
    };
  };

  // 5. The same environment again; the recovery loop must finish what the first run left.
  // Kept down until every hold has expired, the recovered sagas find the charges the provider
  // made meanwhile on holds that are no longer good.
  const lastExpiry = Math.max(...users.map((u) => u.holdExpiresAt));
  if (scenario.restartAfterHoldsExpire) await sleep(Math.max(0, lastExpiry + 250 - Date.now()));
  const outage =
    scenario.providerDownAtRestartMs === undefined
      ? undefined
      : await restartDuringOutage(scenario.providerDownAtRestartMs);
  const second = await serve();
  const restartedAt = Date.now();
  if (scenario.restartAfterHoldsExpire) expect(restartedAt).toBeGreaterThan(lastExpiry);
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
  // A seat may stay held only by a hold that has not expired yet (the sweeper's job).
  const staleHeldSeats = async () => {
    const map = await call<SeatMap>(second.base, 'GET', `/api/v1/events/${eventId}/seats`);
    const now = Date.now();
    return seatsOf(map)
      .filter((seat) => seat.status === 'held')
      .filter((seat) => {
        const holder = users.find((u) => u.seatIds.includes(seat.id));
        return !holder || holder.holdExpiresAt <= now;
      })
      .map((seat) => seat.id);
  };
  const settleDeadline = Date.now() + SETTLE_MS;
  let sagas = await sagasNow();
  let bookings = await bookingsNow();
  let stale = await staleHeldSeats();
  while (
    !sagas.every(finished) ||
    bookings.some((b) => b.status === 'pending') ||
    stale.length > 0
  ) {
    if (Date.now() > settleDeadline) {
      throw new Error(
        `not settled within ${SETTLE_MS} ms after the restart:\n` +
          `sagas: ${JSON.stringify(
            sagas.filter((s) => !finished(s)),
            null,
            2,
          )}\n` +
          `seats held by expired holds: ${JSON.stringify(stale)}\n` +
          `server output:\n${second.server.output()}`,
      );
    }
    await sleep(200);
    sagas = await sagasNow();
    bookings = await bookingsNow();
    stale = await staleHeldSeats();
  }
  const settledAt = Date.now();
  // Every saga has its answer, so the provider's books are final.
  const entries = await ledger();

  // 6a. Sagas and bookings: every booking saga ended, every booking decided.
  const bookingSagas = sagas.filter((s) => s.type === 'booking');
  expect(sagas.filter((s) => s.type !== 'booking')).toEqual([]);
  expect(bookingSagas.every(finished)).toBe(true);
  expect(bookings.length).toBeLessThanOrEqual(USERS);
  expect(bookings.length).toBe(sagasAtKill);
  expect(new Set(bookingSagas.map((s) => s.bookingId))).toEqual(new Set(bookings.map((b) => b.id)));
  const confirmed = bookings.filter((b) => b.status === 'confirmed');
  const failed = bookings.filter((b) => b.status === 'failed');
  expect(confirmed.length + failed.length).toBe(bookings.length);
  for (const booking of bookings) {
    const user = userOf(booking);
    expect(user, `booking ${booking.id} is for one of our holds`).toBeDefined();
    expect(booking.totalCents).toBe(user!.totalCents);
    expect(booking.saga?.status).toBe(booking.status === 'confirmed' ? 'completed' : 'compensated');
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
    // (The message carries what is needed to tell a late charge from a wrong decision.)
    const charge = chargesByKey.get(booking.id)?.[0];
    expect(
      refundKeys.has(`refund:${booking.id}`),
      `failed ${booking.id} refunded (failure ${booking.failureCode ?? '-'}, saga ` +
        `${JSON.stringify(booking.saga)}, charged at ${charge?.at ?? '-'}, ` +
        `second server up at ${new Date(restartedAt).toISOString()})`,
    ).toBe(charged);
    expect(booking.refundCents).toBe(charged ? booking.totalCents : 0);
    expect(booking.tickets).toEqual([]);
  }

  // 6c. Inventory as the API shows it.
  const event = await call<EventView>(second.base, 'GET', `/api/v1/events/${eventId}`);
  const seats = seatsOf(await call<SeatMap>(second.base, 'GET', `/api/v1/events/${eventId}/seats`));
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
    expect(booking.tickets.map((t) => t.seatId).sort()).toEqual(
      [...userOf(booking)!.seatIds].sort(),
    );
    expect(booking.tickets.every((t) => t.status === 'valid')).toBe(true);
  }
  // A seat is held only by an unexpired hold that no booking took or gave back: its booking
  // never reached the database, or failed before any money moved (the hold is kept).
  const checkedAt = Date.now();
  const heldLegitimately = new Set(
    users
      .filter((u) => u.holdExpiresAt > checkedAt)
      .filter((u) => {
        const booking = bookings.find((b) => b.holdId === u.holdId);
        return !booking || (booking.status === 'failed' && !chargesByKey.has(booking.id));
      })
      .flatMap((u) => u.seatIds),
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
  const database = testDb?.database ?? (embedded = await openEmbedded(dir)); // same <DATA_DIR>/pglite
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
      FROM events_with_inventory e WHERE e.id = ${eventId}`);
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
  // The sagas the dead server left unfinished were continued through the saga queue: the
  // dispatcher's `saga.continue` message, taken by the saga-worker consumer.
  const [resumed] = await rows<{ sagas: number }>(sql`
      SELECT count(DISTINCT o.aggregate_id)::int AS sagas
      FROM outbox o JOIN processed_messages p ON p.message_id = o.message_id
      WHERE o.type = 'saga.continue' AND p.consumer = 'saga-worker'`);
  expect(resumed!.sagas).toBeGreaterThanOrEqual(sagasAtKill - finishedAtKill);

  const summary =
    `[crash-recovery/${mode}/${scenario.name}] ${bookings.length} bookings ` +
    `(${sagasAtKill} sagas at the kill, ${finishedAtKill} of them finished, ` +
    `${unanswered}/${USERS} requests unanswered, ` +
    `${chargesBeforeKill} charges before it): ` +
    `${confirmed.length} confirmed, ${failed.length} failed` +
    `${failed.length ? ` (${failed.map((b) => b.failureCode).join(', ')})` : ''}; ` +
    `ledger ${charges.length} charges, ${refunds.length} refunds, ` +
    `${entries.filter((e) => e.kind === 'decline').length} declines; ` +
    `saga attempts ${bookingSagas.map((s) => s.attempts).join(',')}; ` +
    `killed at +${killedAt - fired} ms, ` +
    (outage
      ? `serving against the dead provider at +${outage.servingAt - fired} ms ` +
        `(stopped at +${outage.stoppedAt - fired} ms, saga attempts by then ` +
        `${outage.sagas.map((s) => s.attempts).join(',')}, steps ` +
        `${[...new Set(outage.sagas.map((s) => s.step))].join('/')}, circuit seen open: ` +
        `${outage.circuitOpenSeen}, errors: ${outage.errorsSeen.join(' | ')}), `
      : '') +
    `serving again at +${restartedAt - fired} ms, ` +
    `settled at +${settledAt - fired} ms; ${Date.now() - started} ms in all`;
  return {
    users,
    bookings,
    bookingSagas,
    confirmed,
    failed,
    entries,
    charges,
    refunds,
    chargesByKey,
    firstAnswers,
    event,
    killedAt,
    restartedAt,
    outage,
    rows,
    summary,
  };
}

describe('crash recovery (SIGKILL with charges in flight)', () => {
  it('a restarted server settles every booking saga: no double charge, no lost booking, no stuck seat', async () => {
    const run = await crashAndRecover({
      name: 'confirm',
      payWith: Array.from({ length: USERS }, () => 'tok_slow' as const),
      slowMs: 1500,
      holdTtlSeconds: 30,
      restartAfterHoldsExpire: false,
    });
    console.log(run.summary);
  }, 240_000);

  it('charges that land while the server is down, on holds that expire meanwhile, are refunded and their seats released', async () => {
    // Most pay slowly and are cut off by the crash; the rest settle before it, each its own way.
    const payWith: PaymentToken[] = [
      'tok_slow',
      'tok_visa',
      'tok_slow',
      'tok_declined',
      'tok_slow',
      'tok_charge_then_error',
      'tok_slow',
      'tok_visa',
      'tok_slow',
      'tok_slow',
    ];
    const run = await crashAndRecover({
      name: 'compensate',
      payWith,
      slowMs: 3000,
      // The smallest the configuration allows; the server stays down until every hold expired.
      holdTtlSeconds: 10,
      restartAfterHoldsExpire: true,
    });
    console.log(run.summary);
    const bookingOf = (user: User) => run.bookings.find((b) => b.holdId === user.holdId);
    const refundOf = (bookingId: string) =>
      run.refunds.filter((r) => r.idempotencyKey === `refund:${bookingId}`);
    const at = (entry: LedgerEntry) => Date.parse(entry.at);

    // Every booking reached the database before the kill, one per user.
    expect(run.bookings).toHaveLength(USERS);

    run.users.forEach((user, i) => {
      const booking = bookingOf(user)!;
      const label = `${user.email} (${user.payWith})`;
      expect(booking, label).toBeDefined();
      const charge = run.chargesByKey.get(booking.id)?.[0];
      switch (user.payWith) {
        case 'tok_slow': {
          // Cut off by the crash: no answer, and the provider charged while the server was
          // down. The recovered saga found the hold expired: HOLD_EXPIRED, refunded in full by
          // the second server, seats given back.
          expect(run.firstAnswers[i]!.status, label).toBe(0);
          expect(booking.status, label).toBe('failed');
          expect(booking.failureCode, label).toBe('HOLD_EXPIRED');
          expect(booking.saga?.attempts, label).toBeGreaterThanOrEqual(1);
          expect(charge, label).toBeDefined();
          expect(at(charge!), label).toBeGreaterThan(run.killedAt);
          expect(at(charge!), label).toBeLessThan(run.restartedAt);
          const refund = refundOf(booking.id);
          expect(refund, label).toHaveLength(1);
          expect(refund[0]!.amountCents, label).toBe(booking.totalCents);
          expect(refund[0]!.chargeId, label).toBe(charge!.id);
          expect(at(refund[0]!), label).toBeGreaterThanOrEqual(run.restartedAt);
          expect(booking.refundCents, label).toBe(booking.totalCents);
          break;
        }
        case 'tok_visa':
          // Settled before the crash; the restart must not undo it.
          expect(run.firstAnswers[i]!.status, label).toBe(201);
          expect(booking.status, label).toBe('confirmed');
          expect(charge, label).toBeDefined();
          expect(refundOf(booking.id), label).toEqual([]);
          expect(booking.tickets.map((t) => t.seatId).sort(), label).toEqual(
            [...user.seatIds].sort(),
          );
          break;
        case 'tok_declined':
          // No money moved; the hold was kept, expired during the downtime and was swept.
          expect(run.firstAnswers[i]!.status, label).toBe(402);
          expect(booking.status, label).toBe('failed');
          expect(booking.failureCode, label).toBe('PAYMENT_DECLINED');
          expect(charge, label).toBeUndefined();
          expect(refundOf(booking.id), label).toEqual([]);
          expect(booking.refundCents, label).toBe(0);
          expect(
            run.entries.filter((e) => e.kind === 'decline' && e.idempotencyKey === booking.id),
            label,
          ).toHaveLength(1);
          break;
        case 'tok_charge_then_error':
          // Charged without an answer: settled with the provider and refunded, crash or not.
          expect(run.firstAnswers[i]!.status, label).toBe(503);
          expect(booking.status, label).toBe('failed');
          expect(booking.failureCode, label).toBe('PAYMENT_UNAVAILABLE');
          expect(charge, label).toBeDefined();
          expect(refundOf(booking.id), label).toHaveLength(1);
          expect(booking.refundCents, label).toBe(booking.totalCents);
          break;
      }
    });

    // The compensation path ran: money went back for the bookings the crash left on expired holds.
    const slow = payWith.filter((t) => t === 'tok_slow').length;
    const visa = payWith.filter((t) => t === 'tok_visa').length;
    expect(run.failed.filter((b) => b.failureCode === 'HOLD_EXPIRED')).toHaveLength(slow);
    expect(run.refunds.length).toBeGreaterThanOrEqual(slow + 1);
    expect(run.refunds).toHaveLength(USERS - visa - 1); // all but the confirmed and the declined
    expect(run.confirmed).toHaveLength(visa);
    expect(run.charges).toHaveLength(USERS - 1); // everyone but the declined card

    // Every hold expired during the downtime: nothing is held, only the tok_visa seats are sold.
    expect(run.event).toMatchObject({
      capacity: CAPACITY,
      held: 0,
      sold: visa * SEATS_PER_USER,
      available: CAPACITY - visa * SEATS_PER_USER,
    });
    const holdStatuses = await run.rows<{ id: string; status: string }>(
      sql`SELECT id, status FROM holds`,
    );
    expect(holdStatuses).toHaveLength(USERS);
    for (const user of run.users) {
      const hold = holdStatuses.find((h) => h.id === user.holdId);
      expect(hold?.status, `${user.email} (${user.payWith})`).toEqual(
        user.payWith === 'tok_visa'
          ? 'converted'
          : user.payWith === 'tok_charge_then_error'
            ? expect.stringMatching(/^(released|expired)$/)
            : 'expired',
      );
    }
  }, 240_000);

  it('charges that went through before the crash are not taken for charges that never happened when the provider is down at the restart', async () => {
    const run = await crashAndRecover({
      name: 'outage',
      payWith: Array.from({ length: USERS }, () => 'tok_slow' as const),
      slowMs: 1500,
      // Long enough that no hold expires before the provider is back.
      holdTtlSeconds: 120,
      restartAfterHoldsExpire: false,
      providerDownAtRestartMs: 2000,
    });
    console.log(run.summary);
    const outage = run.outage!;
    expect(outage).toBeDefined();

    // The outage happened as intended: the server restarted without the provider took every
    // saga over, failed to reach the provider (first unreachable, then the open circuit) and
    // left every one of them unfinished for the next run.
    expect(outage.sagas).toHaveLength(USERS);
    expect(outage.finishedSeen).toEqual([]);
    for (const saga of outage.sagas) {
      expect(finished(saga), JSON.stringify(saga)).toBe(false);
      expect(saga.attempts, JSON.stringify(saga)).toBeGreaterThanOrEqual(3);
      expect(saga.lastError, JSON.stringify(saga)).toMatch(/unreachable|circuit/);
    }
    expect(outage.circuitOpenSeen).toBe(true);
    expect(
      outage.errorsSeen.some((e) => /unreachable/.test(e)),
      outage.errorsSeen.join('\n'),
    ).toBe(true);
    expect(
      outage.errorsSeen.some((e) => /circuit/.test(e)),
      outage.errorsSeen.join('\n'),
    ).toBe(true);
    // Nothing reached the provider meanwhile: its books moved only before and after. A slow
    // charge is written when it completes, slowMs after its request; one the dead server sent
    // just before the kill may complete while the outage server is already up.
    for (const entry of run.entries) {
      const at = Date.parse(entry.at);
      const requestedAt = entry.kind === 'charge' ? at - 1500 : at; // slowMs of this scenario
      expect(requestedAt > outage.servingAt && at < outage.stoppedAt, JSON.stringify(entry)).toBe(
        false,
      );
    }

    // Every booking reached the database before the kill. The provider charged those whose
    // request it had before the kill: usually all of them, but a loaded machine may kill the
    // server before the last charges went out. At least one must have, or this proves nothing.
    expect(run.bookings).toHaveLength(USERS);
    expect(run.charges.length).toBeGreaterThan(0);
    const uncharged: BookingView[] = [];
    for (const booking of run.bookings) {
      const label = `${booking.id} (${booking.status} ${booking.failureCode ?? ''})`;
      const charges = run.chargesByKey.get(booking.id) ?? [];
      const refunds = run.refunds.filter((r) => r.idempotencyKey.endsWith(booking.id));
      if (charges.length === 0) {
        // Never charged: failed, nothing to give back, the hold kept for another try.
        uncharged.push(booking);
        expect(booking.status, label).toBe('failed');
        expect(booking.failureCode, label).toBe('PAYMENT_UNAVAILABLE');
        expect(refunds, label).toEqual([]);
        expect(booking.refundCents, label).toBe(0);
        continue;
      }
      // One charge per key, never two.
      expect(charges, label).toHaveLength(1);
      expect(charges[0]!.amountCents, label).toBe(booking.totalCents);
      if (booking.status === 'confirmed') {
        // The money is for the tickets.
        expect(refunds, label).toEqual([]);
        expect(booking.refundCents, label).toBe(0);
        expect(booking.tickets, label).toHaveLength(SEATS_PER_USER);
        expect(booking.saga?.status, label).toBe('completed');
      } else {
        // Failed with the money taken: given back exactly once, in full, under its key.
        // (Before the fix the outage server failed these as "nothing was charged":
        // refundCents 0 and no refund at all.)
        expect(booking.status, label).toBe('failed');
        expect(refunds, label).toHaveLength(1);
        expect(refunds[0]!.idempotencyKey, label).toBe(`refund:${booking.id}`);
        expect(refunds[0]!.chargeId, label).toBe(charges[0]!.id);
        expect(refunds[0]!.amountCents, label).toBe(booking.totalCents);
        expect(booking.refundCents, label).toBe(booking.totalCents);
        expect(booking.tickets, label).toEqual([]);
        expect(booking.saga?.status, label).toBe('compensated');
      }
    }
    expect(run.charges).toHaveLength(USERS - uncharged.length);
    expect(run.refunds).toHaveLength(run.failed.length - uncharged.length);
    expect(run.bookingSagas.every(finished)).toBe(true);

    // The counters agree with the tickets; only the uncharged bookings' holds are still held.
    const sold = run.confirmed.length * SEATS_PER_USER;
    const held = uncharged.length * SEATS_PER_USER;
    expect(run.event.available + run.event.held + run.event.sold).toBe(CAPACITY);
    expect(run.event.sold).toBe(run.confirmed.flatMap((b) => b.tickets).length);
    expect(run.event).toMatchObject({ capacity: CAPACITY, sold, held });
    expect(run.event.available).toBe(CAPACITY - sold - held);
  }, 240_000);
});

// ---------------------------------------------------------------------------------------------
// A rush: many buyers hold and book at once on a general-admission and a reserved event, so
// hold statements and confirmation statements (each carrying a batch of requests) are in
// flight when the server is SIGKILLed. The provider takes RUSH_LATENCY_MS to answer, so many
// bookings are between charge and confirmation at the kill. Most pay with tok_visa; one in ten
// is declined and one in ten is charged without an answer (to be refunded), so the failure
// paths run in the same rush.
// ---------------------------------------------------------------------------------------------

const RUSH_BUYERS = 160;
const RUSH_GA_CAPACITY = 100;
const RUSH_ROWS = 10;
const RUSH_SEATS_PER_ROW = 10;
const RUSH_LATENCY_MS = 400;
/** Buyers start at random moments over this long. */
const RUSH_SPREAD_MS = 2500;
const RUSH_SEED = Number(process.env.HOLD_RACE_SEED ?? Date.now() % 1_000_000);

interface RushBuyer {
  email: string;
  token: string;
  payWith: 'tok_visa' | 'tok_declined' | 'tok_charge_then_error';
  eventId: string;
  wants: { quantity: number } | { seatIds: string[] };
  hold?: Answer;
  booking?: Answer;
  holdSent: boolean;
  bookingSent: boolean;
}

async function crashDuringRush(): Promise<string> {
  const started = Date.now();
  const { mode, simBase, dir } = await freshCase('evently-crash-rush-');
  const env = serverEnv(simBase, {
    PAYMENT_TIMEOUT_MS: '3000',
    // Longer than any one step can take (a charge: two attempts of PAYMENT_TIMEOUT_MS), so a
    // saga is taken over only from a driver that is gone (a driver that outlives its lease is
    // test/stale-saga-driver.test.ts's case).
    SAGA_LEASE_MS: '8000',
    // Longer than the test: no hold expires, so every paid booking can be confirmed.
    HOLD_TTL_SECONDS: '600',
    // The rush is meant to reach the database, not to be shed at the door, and the
    // charges that fail on purpose must not open the circuit for everyone else.
    BOOKING_LATENCY_BUDGET_MS: '0',
    PAYMENT_BREAKER_THRESHOLD: '1000',
  });

  const { ledger, serve } = await startStack(env, simBase, mode, [
    '--latency-ms',
    String(RUSH_LATENCY_MS),
  ]);

  // 1. Two events: general admission and reserved seating.
  const first = await serve();
  const admin = await call<{ accessToken: string }>(first.base, 'POST', '/api/v1/auth/login', {
    body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
  });
  const startsAt = new Date(Date.now() + 10 * 86_400_000);
  const eventBody = {
    description: 'Sold while the server dies',
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
    priceCents: 2500,
    currency: 'EUR',
  };
  const venue = await call<{ id: string; capacity: number }>(first.base, 'POST', '/api/v1/venues', {
    token: admin.accessToken,
    expect: 201,
    body: oneSectionVenue(
      { name: 'Rush Hall', address: '1 Kill Street', city: 'Recoveryville', section: 'Floor' },
      RUSH_ROWS,
      RUSH_SEATS_PER_ROW,
    ),
  });
  const reservedCapacity = RUSH_ROWS * RUSH_SEATS_PER_ROW;
  expect(venue.capacity).toBe(reservedCapacity);
  const publish = async (body: Record<string, unknown>) => {
    const draft = await call<{ id: string }>(first.base, 'POST', '/api/v1/events', {
      token: admin.accessToken,
      expect: 201,
      body: { ...eventBody, ...body },
    });
    await call(first.base, 'POST', `/api/v1/events/${draft.id}/publish`, {
      token: admin.accessToken,
    });
    return draft.id;
  };
  const gaEventId = await publish({
    name: 'Rush GA',
    seating: 'general',
    capacity: RUSH_GA_CAPACITY,
  });
  const reservedEventId = await publish({
    name: 'Rush Reserved',
    seating: 'reserved',
    venueId: venue.id,
  });
  const allSeats = seatsOf(
    await call<SeatMap>(first.base, 'GET', `/api/v1/events/${reservedEventId}/seats`),
  ).map((seat) => seat.id);
  expect(allSeats).toHaveLength(reservedCapacity);

  // 2. The buyers, half for each event, registered through the API.
  const random = seededRandom(RUSH_SEED);
  const buyers: RushBuyer[] = [];
  for (let i = 0; i < RUSH_BUYERS; i += 20) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(20, RUSH_BUYERS - i) }, async (_, j) => {
        const email = `rush${i + j}@crash.test`;
        const { accessToken } = await call<{ accessToken: string }>(
          first.base,
          'POST',
          '/api/v1/auth/register',
          { expect: 201, body: { email, password: PASSWORD, name: `Rush buyer ${i + j}` } },
        );
        return { email, token: accessToken };
      }),
    );
    buyers.push(
      ...chunk.map(({ email, token }, j): RushBuyer => {
        const general = (i + j) % 2 === 0;
        const count = random() < 0.5 ? 1 : 2;
        const first = allSeats[Math.floor(random() * reservedCapacity)]!;
        let second = first;
        while (second === first) second = allSeats[Math.floor(random() * reservedCapacity)]!;
        const n = (i + j) % 10;
        return {
          email,
          token,
          payWith: n === 3 ? 'tok_charge_then_error' : n === 7 ? 'tok_declined' : 'tok_visa',
          eventId: general ? gaEventId : reservedEventId,
          wants: general
            ? { quantity: count }
            : { seatIds: count === 1 ? [first] : [first, second] },
          holdSent: false,
          bookingSent: false,
        };
      }),
    );
  }

  // 3. The rush: each buyer, at a random moment, holds and (when held) books at once.
  let killed = false;
  const post = (base: string, path: string, token: string, body: unknown): Promise<Answer> =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    }).then(
      async (response) => ({ status: response.status, body: await response.text() }),
      (error: unknown) => ({ status: 0, body: String(error) }),
    );
  const fired = Date.now();
  const rush = buyers.map(async (buyer) => {
    await sleep(random() * RUSH_SPREAD_MS);
    if (killed) return;
    buyer.holdSent = true;
    buyer.hold = await post(
      first.base,
      `/api/v1/events/${buyer.eventId}/holds`,
      buyer.token,
      buyer.wants,
    );
    if (buyer.hold.status !== 201 || killed) return;
    buyer.bookingSent = true;
    buyer.booking = await post(first.base, '/api/v1/bookings', buyer.token, {
      holdId: (JSON.parse(buyer.hold.body) as { id: string }).id,
      payment: { token: buyer.payWith },
    });
  });

  // 4. The kill: once some bookings were answered confirmed and many are still under way,
  // with holds under way too.
  const inFlight = () => ({
    confirmed: buyers.filter((b) => b.booking?.status === 201).length,
    bookings: buyers.filter((b) => b.bookingSent && !b.booking).length,
    holds: buyers.filter((b) => b.holdSent && !b.hold).length,
  });
  let atKill = inFlight();
  for (;;) {
    await sleep(10);
    atKill = inFlight();
    if (atKill.confirmed >= 20 && atKill.bookings >= 15 && atKill.holds >= 1) break;
    if (Date.now() - fired > RUSH_SPREAD_MS + 10_000) {
      const seen = (answer: Answer | undefined) =>
        answer ? `${answer.status} ${answer.body.slice(0, 160)}` : 'none';
      const counts: Record<string, number> = {};
      for (const b of buyers) {
        const key = `hold ${seen(b.hold).slice(0, 60)} / booking ${seen(b.booking).slice(0, 60)}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      throw new Error(
        `the rush never got under way: ${JSON.stringify(atKill)}\n` +
          `${JSON.stringify(counts, null, 2)}\n` +
          `e.g. ${buyers
            .filter((b) => b.booking && b.booking.status !== 201)
            .slice(0, 3)
            .map((b) => `${b.payWith}: ${seen(b.booking)}`)
            .join('\n')}\nserver output:\n${first.server.output().slice(-3000)}`,
      );
    }
  }
  first.server.child.kill('SIGKILL');
  killed = true;
  expect(await exitWithin(first.server, 10_000)).toEqual({ code: null, signal: 'SIGKILL' });
  const killedAt = Date.now();
  await Promise.all(rush);
  const cutOff = {
    holds: buyers.filter((b) => b.hold?.status === 0).length,
    bookings: buyers.filter((b) => b.booking?.status === 0).length,
  };
  // The kill came in the middle of it: bookings were confirmed, and others were cut off.
  expect(cutOff.bookings, JSON.stringify(atKill)).toBeGreaterThan(0);
  const answeredConfirmed = buyers.filter((b) => b.booking?.status === 201);
  expect(answeredConfirmed.length).toBeGreaterThan(0);
  // Whatever the first server did answer, it answered as it should.
  for (const buyer of buyers) {
    const label = `${buyer.email}: hold ${buyer.hold?.status} ${buyer.hold?.body ?? ''}`;
    if (buyer.hold && buyer.hold.status !== 0 && buyer.hold.status !== 201) {
      expect([409], label).toContain(buyer.hold.status);
      expect(['SOLD_OUT', 'SEAT_UNAVAILABLE'], label).toContain(
        (JSON.parse(buyer.hold.body) as { code: string }).code,
      );
    }
    if (buyer.booking && buyer.booking.status !== 0) {
      const expected = { tok_visa: 201, tok_declined: 402, tok_charge_then_error: 503 };
      expect(buyer.booking.status, `${label}; booking ${buyer.booking.body}`).toBe(
        expected[buyer.payWith],
      );
    }
  }

  // 5. The restart; the recovery loop finishes what the first server left.
  const second = await serve();
  const restartedAt = Date.now();
  // One status after the other, running first: a saga only moves running → compensating →
  // compensated (or running → completed), so one still running at the first read is seen by
  // the second unless it has finished. (Two reads at once could both miss a saga that moved
  // from running to compensating between them.)
  const unfinished = async () => {
    const found: SagaView[] = [];
    for (const status of ['running', 'compensating']) {
      const page = await call<{ items: SagaView[] }>(
        second.base,
        'GET',
        `/api/v1/admin/sagas?limit=100&status=${status}`,
        { token: admin.accessToken },
      );
      found.push(...page.items);
    }
    return found;
  };
  const deadline = Date.now() + SETTLE_MS;
  let left = await unfinished();
  while (left.length > 0) {
    if (Date.now() > deadline) {
      throw new Error(
        `not settled within ${SETTLE_MS} ms after the restart:\n` +
          `${JSON.stringify(left.slice(0, 5), null, 2)}\nserver output:\n${second.server.output()}`,
      );
    }
    await sleep(200);
    left = await unfinished();
  }
  const settledAt = Date.now();
  const entries = await ledger();
  second.server.child.kill('SIGTERM');
  expect(await exitWithin(second.server, 15_000), second.server.output()).toEqual({
    code: 0,
    signal: null,
  });

  // 6. The database the servers left behind.
  const database = testDb?.database ?? (embedded = await openEmbedded(dir));
  const rows = async <R>(query: RawBuilder<R>) => (await query.execute(database.db)).rows;
  const bookings = await rows<{
    id: string;
    event_id: string;
    hold_id: string;
    status: string;
    quantity: number;
    total_cents: number;
    refund_cents: number;
    payment_ref: string | null;
  }>(sql`SELECT id, event_id, hold_id, status, quantity, total_cents, refund_cents, payment_ref
         FROM bookings`);
  const tickets = await rows<{
    id: string;
    booking_id: string;
    seat_id: string | null;
    status: string;
  }>(sql`SELECT id, booking_id, seat_id, status FROM tickets`);
  const holdSeats = await rows<{ hold_id: string; seat_id: string }>(
    sql`SELECT hold_id, seat_id FROM hold_seats`,
  );
  const holdIds = new Set((await rows<{ id: string }>(sql`SELECT id FROM holds`)).map((h) => h.id));
  expect(bookings.filter((b) => b.status !== 'confirmed' && b.status !== 'failed')).toEqual([]);
  expect(
    await rows(
      sql`SELECT s.id, s.status, s.step, s.attempts, s.last_error, s.updated_at, s.finished_at,
                 b.status AS booking_status, b.failure_code
          FROM sagas s LEFT JOIN bookings b ON b.id = s.booking_id
          WHERE s.status NOT IN ('completed', 'compensated')`,
    ),
  ).toEqual([]);
  const bookingById = new Map(bookings.map((b) => [b.id, b]));
  const ticketsOf = (bookingId: string) => tickets.filter((t) => t.booking_id === bookingId);

  // Every hold answered 201 was kept (it committed before its answer).
  for (const buyer of buyers.filter((b) => b.hold?.status === 201)) {
    const hold = JSON.parse(buyer.hold!.body) as { id: string };
    expect(holdIds.has(hold.id), `${buyer.email}'s hold ${hold.id}`).toBe(true);
  }

  // No confirmed booking lost: every booking answered 201 is confirmed, with its tickets.
  for (const buyer of answeredConfirmed) {
    const answered = JSON.parse(buyer.booking!.body) as {
      id: string;
      status: string;
      tickets: Array<{ id: string; seatId?: string | null }>;
    };
    const label = `${buyer.email}'s booking ${answered.id}`;
    expect(answered.status, label).toBe('confirmed');
    const booking = bookingById.get(answered.id);
    expect(booking?.status, label).toBe('confirmed');
    const own = ticketsOf(answered.id);
    expect(
      own.every((t) => t.status === 'valid'),
      label,
    ).toBe(true);
    expect(own.map((t) => t.id).sort(), label).toEqual(answered.tickets.map((t) => t.id).sort());
    const wanted = 'quantity' in buyer.wants ? buyer.wants.quantity : buyer.wants.seatIds.length;
    expect(own, label).toHaveLength(wanted);
    if ('seatIds' in buyer.wants) {
      expect(own.map((t) => t.seat_id).sort(), label).toEqual([...buyer.wants.seatIds].sort());
    }
  }

  // Money: one charge per booking at most; every confirmed booking charged exactly once;
  // every failed booking that was charged refunded exactly once, in full.
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
    expect(list, `charges under ${key}`).toHaveLength(1);
    const booking = bookingById.get(key);
    expect(booking, `charge ${list[0]!.id} belongs to a booking`).toBeDefined();
    expect(list[0]!.amountCents).toBe(booking!.total_cents);
  }
  expect(new Set(refunds.map((r) => r.idempotencyKey)).size).toBe(refunds.length);
  const confirmed = bookings.filter((b) => b.status === 'confirmed');
  const failed = bookings.filter((b) => b.status === 'failed');
  for (const booking of confirmed) {
    const charge = chargesByKey.get(booking.id);
    expect(charge, `charge of confirmed ${booking.id}`).toHaveLength(1);
    expect(booking.payment_ref).toBe(charge![0]!.id);
    expect(refunds.filter((r) => r.idempotencyKey === `refund:${booking.id}`)).toEqual([]);
    expect(booking.refund_cents).toBe(0);
    expect(ticketsOf(booking.id)).toHaveLength(booking.quantity);
  }
  for (const booking of failed) {
    const charge = chargesByKey.get(booking.id)?.[0];
    const refund = refunds.filter((r) => r.idempotencyKey === `refund:${booking.id}`);
    if (charge) {
      expect(refund, `failed ${booking.id} was charged: refunded once`).toHaveLength(1);
      expect(refund[0]!.chargeId).toBe(charge.id);
      expect(refund[0]!.amountCents).toBe(charge.amountCents);
      expect(booking.refund_cents).toBe(booking.total_cents);
    } else {
      expect(refund, `failed ${booking.id} was never charged`).toEqual([]);
      expect(booking.refund_cents).toBe(0);
    }
    expect(ticketsOf(booking.id)).toEqual([]);
  }
  for (const refund of refunds) {
    const booking = bookingById.get(refund.idempotencyKey.replace(/^refund:/, ''));
    expect(booking?.status, `refund ${refund.idempotencyKey} is for a failed booking`).toBe(
      'failed',
    );
  }

  // Each booking ended as its card says: nothing lost, nothing confirmed that was not paid.
  const failureOf = {
    tok_declined: 'PAYMENT_DECLINED',
    tok_charge_then_error: 'PAYMENT_UNAVAILABLE',
  };
  const failureCodes = new Map(
    (
      await rows<{ id: string; failure_code: string | null }>(
        sql`SELECT id, failure_code FROM bookings`,
      )
    ).map((b) => [b.id, b.failure_code]),
  );
  const bookingOfHold = new Map(bookings.map((b) => [b.hold_id, b]));
  for (const buyer of buyers.filter((b) => b.hold?.status === 201)) {
    const booking = bookingOfHold.get((JSON.parse(buyer.hold!.body) as { id: string }).id);
    if (!booking) {
      // Its booking request never reached the database (cut off, or never sent).
      expect(buyer.booking?.status ?? 0, buyer.email).toBe(0);
      continue;
    }
    const label = `${buyer.email} (${buyer.payWith}): ${booking.id}`;
    if (buyer.payWith === 'tok_visa') {
      expect(booking.status, label).toBe('confirmed');
      continue;
    }
    expect(booking.status, label).toBe('failed');
    expect(failureCodes.get(booking.id), label).toBe(failureOf[buyer.payWith]);
    expect(chargesByKey.has(booking.id), label).toBe(buyer.payWith === 'tok_charge_then_error');
  }

  // Inventory: both events balanced, seats and counters agreeing with the tickets.
  for (const eventId of [gaEventId, reservedEventId]) {
    const report = await checkHoldInvariants(database.db, eventId);
    expect(report.violations, eventId).toEqual([]);
    const sold = confirmed.filter((b) => b.event_id === eventId);
    expect(report.sold, eventId).toBe(sold.reduce((sum, b) => sum + b.quantity, 0));
    expect(report.sold, eventId).toBe(
      tickets.filter((t) => t.status === 'valid' && sold.some((b) => b.id === t.booking_id)).length,
    );
  }
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
  // A confirmed reserved booking owns exactly the seats of its hold.
  for (const booking of confirmed.filter((b) => b.event_id === reservedEventId)) {
    expect(
      ticketsOf(booking.id)
        .map((t) => t.seat_id)
        .sort(),
    ).toEqual(
      holdSeats
        .filter((hs) => hs.hold_id === booking.hold_id)
        .map((hs) => hs.seat_id)
        .sort(),
    );
  }

  return (
    `[crash-recovery/${mode}/rush seed=${RUSH_SEED}] ${RUSH_BUYERS} buyers; at the kill ` +
    `(+${killedAt - fired} ms): ${atKill.confirmed} answered confirmed, ${atKill.bookings} ` +
    `bookings and ${atKill.holds} holds under way; cut off: ${cutOff.holds} holds, ` +
    `${cutOff.bookings} bookings; never sent: ${buyers.filter((b) => !b.holdSent).length}; ` +
    `after recovery ${confirmed.length} confirmed, ${failed.length} failed; ledger ` +
    `${charges.length} charges, ${refunds.length} refunds, ` +
    `${entries.filter((e) => e.kind === 'decline').length} declines; serving again at ` +
    `+${restartedAt - fired} ms, settled at +${settledAt - fired} ms; ` +
    `${Date.now() - started} ms in all`
  );
}

describe('crash recovery (SIGKILL in a rush of batched holds and confirmations)', () => {
  it('loses no confirmed booking and charges nobody twice', async () => {
    console.log(await crashDuringRush());
  }, 240_000);
});
