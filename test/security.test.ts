import { randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { SignJWT, decodeJwt } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRole } from '../src/platform/database/schema.js';
import { api } from './support/api.js';
import { createEvent, createVenue } from './support/fixtures.js';
import { eventually, expectProblem } from './support/kit.js';
import { createTestAppWithRoutes, type RegisteredRoute } from './support/route-table.js';
import { TEST_JWT_SECRET, type SignedIn, type TestApp } from './support/test-app.js';
import { builtAsset } from './support/web-build.js';

// Who may call what, driven by the route table the app really registers: every route is either
// in ACCESS (one line: the roles, and the resource whose owner it is restricted to) or in PUBLIC;
// a route in neither, or a line naming a route the app does not have, fails the suite. Every
// authenticated route is then refused with a 401 problem document for each kind of bad token,
// with a 403 for each wrong role, with the contract's 403 or 404 for a caller who is not the
// owner, and a refused write changes nothing in the database. Each refusal is shown to be about
// the caller by a control: the same request by the caller the table allows succeeds.

type Role = UserRole;
const ANYONE: Role[] = ['user', 'organizer', 'admin'];
const ORGANIZERS: Role[] = ['organizer', 'admin'];

/** The resources whose routes answer only their owner (and whoever API.md adds to them). */
type Owned = 'event' | 'hold' | 'booking' | 'ticket' | 'session';

interface Access {
  /** The roles whose tokens pass the route's guard. */
  role: Role | Role[];
  /** Restricted further to the owner of this resource (event: its organizer; others: holder). */
  owner?: Owned;
  /** A list that shows its caller's own items only. */
  mine?: true;
  /** The `:id` of a valid request, when the owner does not already say which. */
  id?: (w: World) => string;
  /** The route's other path parameters (besides `:id`) in a valid request. */
  params?: (w: World) => Record<string, string>;
  /** The body of a valid request. */
  body?: (w: World) => unknown;
  /** The query string of a valid request. */
  query?: string;
}

const ACCESS: Record<string, Access> = {
  'POST /api/v1/auth/logout': { role: ANYONE },
  'GET /api/v1/auth/me': { role: ANYONE },
  'GET /api/v1/auth/sessions': { role: ANYONE, mine: true },
  'DELETE /api/v1/auth/sessions/:id': { role: ANYONE, owner: 'session' },
  'POST /api/v1/venues': { role: ORGANIZERS, body: () => venueBody() },
  'GET /api/v1/venues': { role: ORGANIZERS },
  'GET /api/v1/venues/:id': { role: ORGANIZERS, id: (w) => w.venue.id },
  'POST /api/v1/events': { role: ORGANIZERS, body: () => eventBody() },
  'PATCH /api/v1/events/:id': { role: ORGANIZERS, owner: 'event', body: () => ({ name: 'New' }) },
  'POST /api/v1/events/:id/publish': { role: ORGANIZERS, owner: 'event', id: (w) => w.draft.id },
  'POST /api/v1/events/:id/cancel': { role: ORGANIZERS, owner: 'event' },
  'GET /api/v1/events/:id/analytics': { role: ANYONE, owner: 'event' },
  'GET /api/v1/events/:id/bookings.csv': { role: ANYONE, owner: 'event' },
  'POST /api/v1/events/:id/holds': {
    role: ANYONE,
    id: (w) => w.event.id,
    body: () => ({ quantity: 1 }),
  },
  'DELETE /api/v1/holds/:id': { role: ANYONE, owner: 'hold' },
  'POST /api/v1/bookings': {
    role: ANYONE,
    owner: 'hold',
    body: (w) => ({ holdId: w.hold.id, payment: { token: 'tok_visa' } }),
  },
  'GET /api/v1/bookings': { role: ANYONE, mine: true },
  'GET /api/v1/bookings/:id': { role: ANYONE, owner: 'booking' },
  'POST /api/v1/bookings/:id/cancel': { role: ANYONE, owner: 'booking' },
  'GET /api/v1/tickets/:id': { role: ANYONE, owner: 'ticket' },
  'GET /api/v1/tickets/:id/qr.svg': { role: ANYONE, owner: 'ticket' },
  'GET /api/v1/bookings/:id/tickets.pdf': { role: ANYONE, owner: 'booking' },
  // Scanners may be plain users: the event's grant decides, so every role passes the guard.
  'POST /api/v1/events/:id/check-ins': {
    role: ANYONE,
    owner: 'event',
    body: (w) => ({ code: w.booking.tickets[0]!.code }),
  },
  'GET /api/v1/events/:id/check-ins/manifest': { role: ANYONE, owner: 'event' },
  'POST /api/v1/events/:id/check-ins/sync': {
    role: ANYONE,
    owner: 'event',
    body: (w) => ({
      scans: [
        { code: w.booking.tickets[0]!.code, scannedAt: new Date().toISOString(), deviceId: 'sec' },
      ],
    }),
  },
  'POST /api/v1/events/:id/scanners': {
    role: ORGANIZERS,
    owner: 'event',
    body: (w) => ({ userId: w.bystander.id }),
  },
  'DELETE /api/v1/events/:id/scanners/:userId': {
    role: ORGANIZERS,
    owner: 'event',
    params: (w) => ({ userId: w.scanner.id }),
  },
  'GET /api/v1/me/notifications': { role: ANYONE, mine: true },
  'GET /api/v1/me/notifications/unread-count': { role: ANYONE },
  'POST /api/v1/me/notifications/read': { role: ANYONE, body: () => ({}) },
  'GET /api/v1/me/analytics': { role: ORGANIZERS },
  'GET /api/v1/admin/users': { role: 'admin' },
  'PATCH /api/v1/admin/users/:id': {
    role: 'admin',
    id: (w) => w.bystander.id,
    body: () => ({ role: 'organizer' }),
  },
  'GET /api/v1/admin/audit-log': { role: 'admin' },
  'GET /api/v1/admin/sagas': { role: 'admin' },
  'GET /api/v1/admin/dead-letters': { role: 'admin' },
  'POST /api/v1/admin/dead-letters/:id/retry': { role: 'admin', id: (w) => w.deadLetterId },
  'GET /api/v1/admin/analytics': { role: 'admin' },
};

interface Public {
  /** Reads a token when one is sent (optionalAuth): a bad one is still a 401. */
  readsToken?: true;
  /** Not plain HTTP (a WebSocket upgrade): listed, not called. */
  websocket?: true;
  /** A request that works without a token (the path's `:id` and `*` filled in). */
  request?: (w: World) => Partial<InjectOptions>;
}

const PUBLIC: Record<string, Public> = {
  'GET /health/live': {},
  'GET /health/ready': {},
  'GET /health/status': {},
  'GET /metrics': {},
  'GET /openapi.json': {},
  'GET /docs': {},
  'GET /docs/json': {},
  'GET /docs/yaml': {},
  'GET /docs/static/index.html': {},
  'GET /docs/static/swagger-initializer.js': {},
  'GET /docs/static/*': { request: () => ({ url: '/docs/static/swagger-ui.css' }) },
  // A file of the web front end's build (`npm install` builds it).
  'GET /assets/*': { request: () => ({ url: `/assets/${builtAsset()}` }) },
  'POST /api/v1/auth/register': {
    request: () => ({
      payload: {
        email: `p-${randomUUID()}@example.test`,
        password: 'correct horse battery',
        name: 'Public',
      },
    }),
  },
  'POST /api/v1/auth/login': {
    request: (w) => ({ payload: { email: w.bystander.email, password: w.bystander.password } }),
  },
  'POST /api/v1/auth/refresh': {
    request: (w) => ({ payload: { refreshToken: w.spareRefreshToken } }),
  },
  'GET /api/v1/events': { readsToken: true },
  'GET /api/v1/events/:id': { readsToken: true },
  'GET /api/v1/events/:id/seats': { readsToken: true },
  'GET /api/v1/events/:id/live': { websocket: true },
};

/** The state every request is built against: made once, never changed by a refused request. */
interface World {
  holder: SignedIn;
  otherUser: SignedIn;
  organizer: SignedIn;
  otherOrganizer: SignedIn;
  admin: SignedIn;
  /** A user the admin routes act on. */
  bystander: SignedIn;
  venue: { id: string };
  /** The organizer's published event (general admission) and draft. */
  event: { id: string };
  draft: { id: string };
  /** The holder's active hold and confirmed booking on `event`. */
  hold: { id: string };
  booking: { id: string; tickets: Array<{ id: string; code: string }> };
  /** A user with the scanner grant for `event`. */
  scanner: SignedIn;
  /** A second login of the holder: its session id, and another login's refresh token. */
  spareSession: string;
  spareRefreshToken: string;
  deadLetterId: string;
  /** For each caller the table may allow, the access token of a login that logged out. */
  loggedOut: Record<Caller, string>;
}

type Caller = 'holder' | 'organizer' | 'admin';

const venueBody = () => ({
  name: 'Security Hall',
  address: '1 Test Street',
  city: 'Testville',
  timezone: 'Europe/Berlin',
  sections: [{ name: 'Stalls', rows: [{ label: 'A', seats: 3 }] }],
});

const eventBody = () => ({
  name: 'Security Event',
  description: 'made by the security suite',
  startsAt: new Date(Date.now() + 10 * 86_400_000).toISOString(),
  endsAt: new Date(Date.now() + 10 * 86_400_000 + 3_600_000).toISOString(),
  seating: 'general',
  capacity: 10,
  priceCents: 1000,
  currency: 'EUR',
});

async function login(t: TestApp, who: SignedIn) {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: who.email, password: who.password },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ accessToken: string; refreshToken: string }>();
}

async function loggedOutToken(t: TestApp, who: SignedIn): Promise<string> {
  const { accessToken } = await login(t, who);
  const out = await t.inject({
    method: 'POST',
    url: '/api/v1/auth/logout',
    headers: { authorization: `Bearer ${accessToken}` },
  });
  expect(out.statusCode, out.body).toBe(204);
  return accessToken;
}

async function buildWorld(t: TestApp): Promise<World> {
  const [holder, otherUser, organizer, otherOrganizer, admin, bystander, scanner] =
    await Promise.all([
      t.signUp(),
      t.signUp(),
      t.signUp('organizer'),
      t.signUp('organizer'),
      t.signUp('admin'),
      t.signUp(),
      t.signUp(),
    ]);
  const venue = await createVenue(t, organizer);
  const event = await createEvent(t, organizer, { capacity: 100 });
  const draft = await createEvent(t, organizer, { capacity: 100, publish: false });
  const sold = await api.hold(t, holder, event.id, { quantity: 1 });
  expect(sold.statusCode, sold.body).toBe(201);
  const booked = await api.book(t, holder, sold.json<{ id: string }>().id);
  expect(booked.statusCode, booked.body).toBe(201);
  const held = await api.hold(t, holder, event.id, { quantity: 1 });
  expect(held.statusCode, held.body).toBe(201);
  const granted = await t.inject({
    method: 'POST',
    url: `/api/v1/events/${event.id}/scanners`,
    headers: organizer.auth,
    payload: { userId: scanner.id },
  });
  expect(granted.statusCode, granted.body).toBe(201);
  const spare = await login(t, holder);
  const [spareRefresh, deadLetter, holderOut, organizerOut, adminOut] = await Promise.all([
    login(t, bystander),
    t.deps.database.db
      .insertInto('dead_letters')
      .values({
        consumer: 'notifications',
        message_id: randomUUID(),
        type: 'booking.confirmed',
        payload: JSON.stringify({ bookingId: randomUUID() }),
        error: 'made by the security suite',
        attempts: 5,
      })
      .returning('id')
      .executeTakeFirstOrThrow(),
    loggedOutToken(t, holder),
    loggedOutToken(t, organizer),
    loggedOutToken(t, admin),
  ]);
  return {
    holder,
    otherUser,
    organizer,
    otherOrganizer,
    admin,
    bystander,
    venue,
    event,
    draft,
    hold: held.json(),
    booking: booked.json(),
    scanner,
    spareSession: decodeJwt(spare.accessToken).sid as string,
    spareRefreshToken: spareRefresh.refreshToken,
    deadLetterId: deadLetter.id,
    loggedOut: { holder: holderOut, organizer: organizerOut, admin: adminOut },
  };
}

type Other = 'otherUser' | 'otherOrganizer';
const otherRole = (who: Other): Role => (who === 'otherUser' ? 'user' : 'organizer');

/**
 * What someone who is not the owner is answered (API.md: 403 FORBIDDEN, or 404 where revealing
 * that the resource exists would leak). Someone else's draft event is not acknowledged; a
 * booking is hidden from users and refused to organizers (who might own its event); holds and
 * sessions are hidden from everyone else.
 */
const NOT_THE_OWNER: Record<
  Owned,
  Array<{ who: Other; target: string; status: number; code: string }>
> = {
  event: [
    { who: 'otherOrganizer', target: 'published event', status: 403, code: 'FORBIDDEN' },
    { who: 'otherOrganizer', target: 'draft', status: 404, code: 'NOT_FOUND' },
    { who: 'otherUser', target: 'published event', status: 403, code: 'FORBIDDEN' },
    { who: 'otherUser', target: 'draft', status: 404, code: 'NOT_FOUND' },
  ],
  booking: [
    { who: 'otherUser', target: 'booking', status: 404, code: 'NOT_FOUND' },
    { who: 'otherOrganizer', target: 'booking', status: 403, code: 'FORBIDDEN' },
  ],
  ticket: [
    { who: 'otherUser', target: 'ticket', status: 404, code: 'NOT_FOUND' },
    { who: 'otherOrganizer', target: 'ticket', status: 403, code: 'FORBIDDEN' },
  ],
  hold: [
    { who: 'otherUser', target: 'hold', status: 404, code: 'NOT_FOUND' },
    { who: 'otherOrganizer', target: 'hold', status: 404, code: 'NOT_FOUND' },
  ],
  session: [
    { who: 'otherUser', target: 'session', status: 404, code: 'NOT_FOUND' },
    { who: 'otherOrganizer', target: 'session', status: 404, code: 'NOT_FOUND' },
  ],
};

const rolesOf = (access: Access): Role[] =>
  Array.isArray(access.role) ? access.role : [access.role];

/** The caller the table allows: the owner when there is one, else someone of an allowed role. */
function allowedCaller(access: Access): Caller {
  if (access.owner === 'event') return 'organizer';
  if (access.owner) return 'holder';
  const roles = rolesOf(access);
  if (roles.includes('user')) return 'holder';
  return roles.includes('organizer') ? 'organizer' : 'admin';
}

/** The id of the owned resource a route is about. */
function ownedId(w: World, owner: Owned): string {
  switch (owner) {
    case 'event':
      return w.event.id;
    case 'hold':
      return w.hold.id;
    case 'booking':
      return w.booking.id;
    case 'ticket':
      return w.booking.tickets[0]!.id;
    case 'session':
      return w.spareSession;
  }
}

/** A valid request for the route (no credentials); `id` overrides the path's `:id`. */
function requestFor(key: string, w: World, id?: string): InjectOptions {
  const access = ACCESS[key]!;
  const [method, path] = key.split(' ') as [InjectOptions['method'], string];
  const pathId = id ?? access.id?.(w) ?? (access.owner ? ownedId(w, access.owner) : randomUUID());
  const others = Object.entries(access.params?.(w) ?? {});
  const filled = others.reduce((p, [name, value]) => p.replace(`:${name}`, value), path);
  const url = filled.replace(':id', pathId) + (access.query ? `?${access.query}` : '');
  return {
    method,
    url,
    ...(access.body ? { payload: access.body(w) as InjectOptions['payload'] } : {}),
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function flipFirst(part: string): string {
  return part.startsWith('A') ? `B${part.slice(1)}` : `A${part.slice(1)}`;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Every kind of credential that must be a 401, made from the allowed caller's good token. */
const BAD_CREDENTIALS: Array<
  [string, (w: World, caller: Caller, token: string) => Promise<Record<string, string>>]
> = [
  ['no Authorization header', async () => ({})],
  ['another scheme than Bearer', async () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
  ['a bearer that is not a JWT', async () => bearer('not-a-jwt')],
  [
    'a token whose signature was changed',
    async (_w, _c, token) => {
      const [header, payload, signature] = token.split('.') as [string, string, string];
      return bearer(`${header}.${payload}.${flipFirst(signature)}`);
    },
  ],
  [
    "a user's token whose payload was raised to admin, its signature kept",
    async (w) => {
      const token = w.holder.accessToken;
      const [header, , signature] = token.split('.') as [string, string, string];
      return bearer(`${header}.${b64({ ...decodeJwt(token), role: 'admin' })}.${signature}`);
    },
  ],
  [
    'an alg:none token',
    async (_w, _c, token) =>
      bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(decodeJwt(token))}.`),
  ],
  [
    'an expired token signed with the right key',
    async (_w, _c, token) =>
      bearer(
        await new SignJWT({ ...decodeJwt(token), exp: Math.floor(Date.now() / 1000) - 60 })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .sign(new TextEncoder().encode(TEST_JWT_SECRET)),
      ),
  ],
  [
    'a token signed with another secret',
    async (_w, _c, token) =>
      bearer(
        await new SignJWT(decodeJwt(token))
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .sign(new TextEncoder().encode('another-secret-that-is-also-long-enough')),
      ),
  ],
  ['the token of a login that logged out', async (w, caller) => bearer(w.loggedOut[caller])],
];

// Tables a request of these routes could change. The outbox, notifications and e-mails are left
// out: the consumers write them in the background for the bookings made while setting up.
const WATCHED_TABLES = [
  'users',
  'auth_sessions',
  'refresh_tokens',
  'revoked_access_tokens',
  'venues',
  'venue_sections',
  'venue_rows',
  'events',
  'event_stock',
  'event_seats',
  'holds',
  'hold_seats',
  'bookings',
  'tickets',
  'event_scanners',
  'sagas',
  'idempotency_keys',
  'dead_letters',
  'audit_log',
] as const;

/** Row count and a digest of every row, per watched table. */
async function databaseState(t: TestApp): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  for (const table of WATCHED_TABLES) {
    const { rows } = await sql<{ n: number; digest: string }>`
      SELECT count(*)::int AS n,
             md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS digest
      FROM ${sql.table(table)} x`.execute(t.deps.database.db);
    state[table] = `${rows[0]!.n} rows, ${rows[0]!.digest}`;
  }
  return state;
}

const mutates = (key: string) => !key.startsWith('GET ');

/**
 * Waits until no saga is still working in the background (an event's cancellation refunds its
 * bookings after the answer), so that a snapshot sees only what the request under test did.
 */
async function settled(t: TestApp): Promise<void> {
  await eventually(async () => {
    const busy = await t.deps.database.db
      .selectFrom('sagas')
      .select('id')
      .where('status', 'in', ['running', 'compensating'])
      .executeTakeFirst();
    return busy === undefined;
  }, 'the background sagas to finish');
}

/** Sends the request; for a write, also asserts the database is as it was before. */
async function refused(
  key: string,
  request: InjectOptions,
  status: number,
  code: string,
): Promise<LightMyRequestResponse> {
  if (mutates(key)) await settled(t);
  const before = mutates(key) ? await databaseState(t) : undefined;
  const response = await t.inject(request);
  expectProblem(response, status, code);
  if (before) expect(await databaseState(t), `${key} changed the database`).toEqual(before);
  return response;
}

let t: TestApp;
let routes: RegisteredRoute[];
let w: World;

beforeAll(async () => {
  ({ t, routes } = await createTestAppWithRoutes());
  // The consumers run too: notifications appear, and a dead letter has a queue to go back to.
  await t.deps.start({ api: true, workers: true });
  w = await buildWorld(t);
});
afterAll(async () => {
  await t?.close();
});

const authenticated = Object.keys(ACCESS);
/** Authenticated routes without parameters, body or query: the 401s above say all of them. */
const NOTHING_TO_VALIDATE = [
  'POST /api/v1/auth/logout',
  'GET /api/v1/auth/me',
  'GET /api/v1/me/notifications/unread-count',
];
const validated = authenticated.filter((key) => !NOTHING_TO_VALIDATE.includes(key));
const callerOf = (world: World, caller: Caller): SignedIn => world[caller];
/** A signed-in user of the role who owns nothing the table's owner rules are about. */
const someoneOf = (world: World, role: Role): SignedIn =>
  role === 'user' ? world.otherUser : role === 'organizer' ? world.otherOrganizer : world.admin;

describe('the route table', () => {
  it('every route the app registers is either authenticated (ACCESS) or public (PUBLIC)', () => {
    const unlisted = routes.map((r) => r.key).filter((key) => !(key in ACCESS) && !(key in PUBLIC));
    expect(unlisted, 'add a line to ACCESS or PUBLIC in test/security.test.ts').toEqual([]);
  });

  it('names no route the app does not have, and none twice', () => {
    const registered = new Set(routes.map((r) => r.key));
    const listed = [...Object.keys(ACCESS), ...Object.keys(PUBLIC)];
    expect(listed.filter((key) => !registered.has(key))).toEqual([]);
    expect(Object.keys(ACCESS).filter((key) => key in PUBLIC)).toEqual([]);
    expect(routes.length).toBe(registered.size);
  });

  it('the public routes that read a token are exactly those with the optionalAuth guard', () => {
    const hooks = (route: RegisteredRoute) => [route.options.onRequest ?? []].flat();
    const reading = routes
      .filter((r) => hooks(r).includes(t.deps.guards.optionalAuth))
      .map((r) => r.key)
      .sort();
    const declared = Object.entries(PUBLIC)
      .filter(([, p]) => p.readsToken)
      .map(([key]) => key)
      .sort();
    expect(reading).toEqual(declared);
  });
});

describe('what the route schemas (and so /openapi.json) tell clients', () => {
  const schemaOf = (key: string) =>
    routes.find((r) => r.key === key)?.schema as
      { security?: unknown; response?: Record<string, unknown> } | undefined;

  it('every authenticated route declares the bearer token, no public route does', () => {
    const declared = (key: string) => JSON.stringify(schemaOf(key)?.security ?? null);
    const bearerAuth = JSON.stringify([{ bearerAuth: [] }]);
    expect(authenticated.filter((key) => declared(key) !== bearerAuth)).toEqual([]);
    expect(Object.keys(PUBLIC).filter((key) => declared(key) !== 'null')).toEqual([]);
  });

  it('every authenticated route documents the refusals this suite expects of it', () => {
    const undocumented = authenticated.flatMap((key) => {
      const access = ACCESS[key]!;
      const statuses = new Set([401]);
      if (ANYONE.some((role) => !rolesOf(access).includes(role))) statuses.add(403);
      for (const c of access.owner ? NOT_THE_OWNER[access.owner] : []) {
        if (rolesOf(access).includes(otherRole(c.who))) statuses.add(c.status);
      }
      const responses = schemaOf(key)?.response ?? {};
      return [...statuses].filter((s) => !(String(s) in responses)).map((s) => `${key}: ${s}`);
    });
    expect(undocumented).toEqual([]);
  });
});

describe.each(authenticated)('%s', (key) => {
  const access = ACCESS[key]!;
  const caller = allowedCaller(access);

  it.each(BAD_CREDENTIALS)('refuses %s with a 401 problem document', async (_name, make) => {
    const credentials = await make(w, caller, callerOf(w, caller).accessToken);
    const response = await refused(
      key,
      { ...requestFor(key, w), headers: credentials },
      401,
      'UNAUTHENTICATED',
    );
    expect(response.headers['x-request-id']).toBeTruthy();
  });

  const wrongRoles = ANYONE.filter((role) => !rolesOf(access).includes(role));
  if (wrongRoles.length > 0) {
    it.each(wrongRoles)('refuses a signed-in %s with a 403', async (role) => {
      const someone =
        role === 'user' ? w.holder : role === 'organizer' ? w.otherOrganizer : w.admin;
      await refused(key, { ...requestFor(key, w), headers: someone.auth }, 403, 'FORBIDDEN');
    });
  }

  if (access.owner) {
    const owner = access.owner;
    const cases = NOT_THE_OWNER[owner].filter((c) => rolesOf(access).includes(otherRole(c.who)));
    it.each(cases)(
      'answers $status to $who, who does not own the $target',
      async ({ who, target, status, code }) => {
        const id = { draft: w.draft.id, 'published event': w.event.id }[target];
        await refused(key, { ...requestFor(key, w, id), headers: w[who].auth }, status, code);
      },
    );
  }

  if (access.mine) {
    it("shows another user none of the holder's items", async () => {
      const list = async (who: SignedIn) => {
        const response = await t.inject({ ...requestFor(key, w), headers: who.auth });
        expect(response.statusCode, response.body).toBe(200);
        return response.json<{ items: Array<{ id: string }> }>().items.map((item) => item.id);
      };
      // Notifications arrive from a consumer: wait until the holder has some.
      const mine = await eventually(async () => {
        const ids = await list(w.holder);
        return ids.length > 0 && ids;
      }, `the holder's items of ${key}`);
      const theirs = await list(w.otherUser);
      expect(theirs.filter((id) => mine.includes(id))).toEqual([]);
    });
  }

  it(`is answered (2xx) for the allowed caller (${caller}): the refusals are about the caller`, async () => {
    // A write is tried on a world of its own, so the shared one stays as it was.
    const world = mutates(key) ? await buildWorld(t) : w;
    const response = await t.inject({
      ...requestFor(key, world),
      headers: callerOf(world, caller).auth,
    });
    expect(response.statusCode, response.body).toBeGreaterThanOrEqual(200);
    expect(response.statusCode, response.body).toBeLessThan(300);
    await settled(t);
  });
});

describe('the order of the checks: authentication and role come before validation', () => {
  /** An invalid variant of the route's valid request, chosen by what its schema validates. */
  function invalidRequest(key: string, world: World): InjectOptions | undefined {
    const schema = routes.find((r) => r.key === key)?.schema;
    const valid = requestFor(key, world);
    if (schema?.params) return requestFor(key, world, 'not-a-uuid');
    if (schema?.body) return { ...valid, payload: { unexpected: true } };
    if (schema?.querystring) return { ...valid, url: `${key.split(' ')[1]!}?limit=0` };
    return undefined;
  }

  it('knows which routes have nothing to validate (no path parameters, body or query)', () => {
    const without = authenticated.filter((key) => !invalidRequest(key, w));
    expect(without.sort()).toEqual([...NOTHING_TO_VALIDATE].sort());
  });

  it.for(validated)(
    '%s: an invalid request is a 401 without a token, a 403 for a wrong role, a 400 for the allowed caller',
    async (key) => {
      const invalid = invalidRequest(key, w)!;
      const access = ACCESS[key]!;
      await refused(key, invalid, 401, 'UNAUTHENTICATED');
      const wrongRole = ANYONE.find((role) => !rolesOf(access).includes(role));
      if (wrongRole) {
        await refused(key, { ...invalid, headers: someoneOf(w, wrongRole).auth }, 403, 'FORBIDDEN');
      }
      const caller = callerOf(w, allowedCaller(access));
      await refused(key, { ...invalid, headers: caller.auth }, 400, 'VALIDATION_FAILED');
    },
  );
});

describe('public routes', () => {
  const publicRoutes = Object.entries(PUBLIC).filter(([, p]) => !p.websocket);

  it.each(publicRoutes)('%s answers without a token', async (key, p) => {
    const [method, path] = key.split(' ') as [InjectOptions['method'], string];
    const response = await t.inject({
      method,
      url: path.replace(':id', w.event.id),
      ...p.request?.(w),
    });
    // 2xx, or the documentation's redirect to its index.
    expect(response.statusCode, response.body).toBeGreaterThanOrEqual(200);
    expect(response.statusCode, response.body).toBeLessThan(400);
  });

  const reading = Object.entries(PUBLIC)
    .filter(([, p]) => p.readsToken)
    .flatMap(([key]) =>
      BAD_CREDENTIALS.filter(([name]) => name !== 'no Authorization header').map(
        ([name, make]) => [key, name, make] as const,
      ),
    );

  it.each(reading)('%s refuses %s that it is sent with a 401', async (key, _name, make) => {
    const path = key.split(' ')[1]!.replace(':id', w.event.id);
    const credentials = await make(w, 'holder', w.holder.accessToken);
    expectProblem(
      await t.inject({ method: 'GET', url: path, headers: credentials }),
      401,
      'UNAUTHENTICATED',
    );
  });
});
