import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

interface Login {
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
}

/** A second login of the same user, from another device. */
async function loginAgain(
  user: SignedIn,
  device = { userAgent: 'Phone/2.0', ip: '203.0.113.7' },
): Promise<Login> {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'user-agent': device.userAgent },
    remoteAddress: device.ip,
    payload: { email: user.email, password: user.password },
  });
  expect(response.statusCode).toBe(200);
  const { accessToken, refreshToken } = response.json<Login>();
  return { accessToken, refreshToken, auth: { authorization: `Bearer ${accessToken}` } };
}

const listSessions = (auth?: { authorization: string }, query = '') =>
  t.inject({ method: 'GET', url: `/api/v1/auth/sessions${query}`, headers: auth ?? {} });

const endSession = (auth: { authorization: string } | undefined, id: string) =>
  t.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${id}`, headers: auth ?? {} });

const me = (auth: { authorization: string }) =>
  t.inject({ method: 'GET', url: '/api/v1/auth/me', headers: auth });

const refresh = (refreshToken: string) =>
  t.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });

interface SessionItem {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

async function sessionsOf(auth: { authorization: string }): Promise<SessionItem[]> {
  const response = await listSessions(auth);
  expect(response.statusCode).toBe(200);
  return response.json<{ items: SessionItem[] }>().items;
}

/** The id of the session a login created, found through the caller's own list. */
async function currentSessionId(auth: { authorization: string }): Promise<string> {
  const current = (await sessionsOf(auth)).find((s) => s.current);
  if (!current) throw new Error('no current session listed');
  return current.id;
}

describe('GET /api/v1/auth/sessions', () => {
  it('lists one session per login, newest first, marking the caller’s own as current', async () => {
    // signUp registers (one session) and then logs in (a second); the phone makes a third.
    const user = await t.signUp();
    const phone = await loginAgain(user);
    const response = await listSessions(phone.auth);
    expect(response.statusCode).toBe(200);
    const body = response.json<{ items: SessionItem[]; nextCursor: string | null }>();
    expect(body.nextCursor).toBeNull();
    expect(body.items).toHaveLength(3);
    const [newest, ...older] = body.items;
    expect(newest).toMatchObject({ ip: '203.0.113.7', userAgent: 'Phone/2.0', current: true });
    expect(older.every((s) => !s.current)).toBe(true);
    expect(older[0]).toMatchObject({ ip: '127.0.0.1', userAgent: 'lightMyRequest' });
    const created = body.items.map((s) => s.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
    for (const s of body.items) {
      expect(Date.parse(s.expiresAt)).toBeGreaterThan(Date.now());
      expect(Date.parse(s.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(s.createdAt));
    }
    // The same list seen from the other login flips the current flag.
    const fromLaptop = await sessionsOf(user.auth);
    const laptopCurrent = fromLaptop.find((s) => s.current)?.id;
    expect(older.map((s) => s.id)).toContain(laptopCurrent);
    expect(fromLaptop.filter((s) => s.current)).toHaveLength(1);
  });

  it('moves last used forward when the session’s refresh token is rotated', async () => {
    const user = await t.signUp();
    const before = (await sessionsOf(user.auth)).find((s) => s.current)!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const rotated = await refresh(user.refreshToken);
    expect(rotated.statusCode).toBe(200);
    const after = (await sessionsOf(user.auth)).find((s) => s.id === before.id)!;
    expect(Date.parse(after.lastUsedAt)).toBeGreaterThan(Date.parse(before.lastUsedAt));
  });

  it('pages with limit and an opaque cursor', async () => {
    const user = await t.signUp();
    await loginAgain(user);
    const first = await listSessions(user.auth, '?limit=2');
    const page1 = first.json<{ items: SessionItem[]; nextCursor: string | null }>();
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const second = await listSessions(user.auth, `?limit=2&cursor=${page1.nextCursor}`);
    const page2 = second.json<{ items: SessionItem[]; nextCursor: string | null }>();
    expect(page2.items).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    const ids = [...page1.items, ...page2.items].map((s) => s.id);
    expect(new Set(ids).size).toBe(3);
    expect((await listSessions(user.auth, '?cursor=garbage')).statusCode).toBe(400);
  });

  it('does not list sessions that have expired', async () => {
    const user = await t.signUp();
    const phone = await loginAgain(user);
    const phoneId = await currentSessionId(phone.auth);
    await t.deps.database.db
      .updateTable('auth_sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', phoneId)
      .execute();
    // As loaded from PostgreSQL (the directory forgot the user) ...
    await t.deps.sessions.forget(user.id);
    const ids = (await sessionsOf(user.auth)).map((s) => s.id);
    expect(ids).toHaveLength(2);
    expect(ids).not.toContain(phoneId);
    // ... and as held by the directory itself, once a session's time is up.
    const [kept] = (await t.deps.sessions.list(user.id))!;
    await t.deps.sessions.put({ ...kept!, expiresAt: new Date(Date.now() - 1000) });
    const left = (await sessionsOf(user.auth)).map((s) => s.id);
    expect(left).toEqual(ids.filter((id) => id !== kept!.id));
  });

  it('never shows another user’s sessions', async () => {
    const alice = await t.signUp();
    const bob = await t.signUp();
    const bobIds = (await sessionsOf(bob.auth)).map((s) => s.id);
    const aliceIds = (await sessionsOf(alice.auth)).map((s) => s.id);
    expect(aliceIds.some((id) => bobIds.includes(id))).toBe(false);
  });

  it('answers 401 UNAUTHENTICATED without a token', async () => {
    const response = await listSessions();
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('UNAUTHENTICATED');
  });
});

describe('DELETE /api/v1/auth/sessions/:id', () => {
  it('ends another session at once: its access and refresh tokens get 401, mine keep working', async () => {
    const user = await t.signUp();
    const phone = await loginAgain(user);
    const phoneId = await currentSessionId(phone.auth);

    const response = await endSession(user.auth, phoneId);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');

    const phoneMe = await me(phone.auth);
    expect(phoneMe.statusCode).toBe(401);
    expect(phoneMe.json().code).toBe('UNAUTHENTICATED');
    expect((await refresh(phone.refreshToken)).statusCode).toBe(401);

    expect((await me(user.auth)).statusCode).toBe(200);
    const rotated = await refresh(user.refreshToken);
    expect(rotated.statusCode).toBe(200);
    expect((await me({ authorization: `Bearer ${rotated.json().accessToken}` })).statusCode).toBe(
      200,
    );
  });

  it('stops listing an ended session', async () => {
    const user = await t.signUp();
    const phone = await loginAgain(user);
    const phoneId = await currentSessionId(phone.auth);
    await endSession(user.auth, phoneId);
    const ids = (await sessionsOf(user.auth)).map((s) => s.id);
    expect(ids).toHaveLength(2);
    expect(ids).not.toContain(phoneId);
  });

  it('is harmless on a session that was already ended', async () => {
    const user = await t.signUp();
    const phone = await loginAgain(user);
    const phoneId = await currentSessionId(phone.auth);
    expect((await endSession(user.auth, phoneId)).statusCode).toBe(204);
    expect((await endSession(user.auth, phoneId)).statusCode).toBe(204);
    expect((await me(user.auth)).statusCode).toBe(200);
  });

  it('ends the current session like a logout', async () => {
    const user = await t.signUp();
    const phone = await loginAgain(user);
    const currentId = await currentSessionId(user.auth);
    expect((await endSession(user.auth, currentId)).statusCode).toBe(204);
    expect((await me(user.auth)).statusCode).toBe(401);
    expect((await refresh(user.refreshToken)).statusCode).toBe(401);
    expect((await me(phone.auth)).statusCode).toBe(200);
  });

  it('answers 404 NOT_FOUND for another user’s session, and leaves it working', async () => {
    const alice = await t.signUp();
    const bob = await t.signUp();
    const bobSession = await currentSessionId(bob.auth);
    const response = await endSession(alice.auth, bobSession);
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('NOT_FOUND');
    expect((await me(bob.auth)).statusCode).toBe(200);
    expect((await refresh(bob.refreshToken)).statusCode).toBe(200);
  });

  it('answers 404 NOT_FOUND for an unknown id', async () => {
    const user = await t.signUp();
    const response = await endSession(user.auth, randomUUID());
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('NOT_FOUND');
  });

  it('answers 400 VALIDATION_FAILED for an id that is not a UUID', async () => {
    const user = await t.signUp();
    const response = await endSession(user.auth, 'not-a-uuid');
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('VALIDATION_FAILED');
  });

  it('answers 401 UNAUTHENTICATED without a token', async () => {
    const user = await t.signUp();
    const id = await currentSessionId(user.auth);
    const response = await endSession(undefined, id);
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('UNAUTHENTICATED');
    expect((await me(user.auth)).statusCode).toBe(200);
  });
});
