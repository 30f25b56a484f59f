import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  usingRedis,
  type SignedIn,
  type TestApp,
} from '../../../test/support/test-app.js';

// GET /auth/sessions reads the session directory (Redis when configured, in process when
// embedded); PostgreSQL stays the record it is filled from whenever it does not know a user.
const where = usingRedis ? 'Redis' : 'the in-process directory';

let t: TestApp;
let raw: Redis | undefined;
beforeAll(async () => {
  t = await createTestApp();
  if (usingRedis) raw = new Redis(process.env.REDIS_URL!);
});
afterAll(async () => {
  raw?.disconnect();
  await t?.close();
});

interface SessionItem {
  id: string;
  userAgent: string | null;
  current: boolean;
}

const login = async (user: SignedIn, userAgent: string) => {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'user-agent': userAgent },
    payload: { email: user.email, password: user.password },
  });
  expect(response.statusCode).toBe(200);
  const { accessToken, refreshToken } = response.json<{
    accessToken: string;
    refreshToken: string;
  }>();
  return { auth: { authorization: `Bearer ${accessToken}` }, refreshToken };
};

const sessionsOf = async (auth: { authorization: string }) => {
  const response = await t.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: auth });
  expect(response.statusCode).toBe(200);
  return response.json<{ items: SessionItem[] }>().items;
};

/** Overwrites the user agent PostgreSQL holds, so a listing shows where it was read from. */
const rewriteInPostgres = (userId: string, userAgent: string) =>
  t.deps.database.db
    .updateTable('auth_sessions')
    .set({ user_agent: userAgent })
    .where('user_id', '=', userId)
    .execute();

describe(`sessions listed from ${where}`, () => {
  it('are served by the directory once loaded, and follow logins, refreshes and revocations', async () => {
    const user = await t.signUp();
    const phone = await login(user, 'Phone/1.0');
    const laptop = await login(user, 'Laptop/1.0');

    const first = await sessionsOf(laptop.auth);
    expect(first.map((s) => s.userAgent).slice(0, 2)).toEqual(['Laptop/1.0', 'Phone/1.0']);
    expect(first).toHaveLength(4); // signUp registers and logs in: two sessions already
    expect(first.filter((s) => s.current)).toHaveLength(1);

    // PostgreSQL changes behind the directory's back are not seen: the listing is not a query.
    await rewriteInPostgres(user.id, 'changed-in-postgres');
    expect((await sessionsOf(laptop.auth)).map((s) => s.userAgent)).not.toContain(
      'changed-in-postgres',
    );

    // A new login and an ended session reach the directory at once.
    const tablet = await login(user, 'Tablet/1.0');
    const withTablet = await sessionsOf(laptop.auth);
    expect(withTablet[0]!.userAgent).toBe('Tablet/1.0');
    const phoneSession = (await sessionsOf(phone.auth)).find((s) => s.current)!;
    const ended = await t.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${phoneSession.id}`,
      headers: tablet.auth,
    });
    expect(ended.statusCode).toBe(204);
    const after = await sessionsOf(tablet.auth);
    expect(after.map((s) => s.id)).not.toContain(phoneSession.id);
    expect(after).toHaveLength(4);

    if (raw) {
      // The record itself is in Redis, under the user's hash tag.
      const stored = await raw.hgetall(`${t.redisNamespace}sessions:{user:${user.id}}`);
      expect(Object.keys(stored).sort()).toEqual([...after.map((s) => s.id), '~loaded'].sort());
    }
  });

  it('when the directory lost a user (Redis flushed or restarted), reloads it from PostgreSQL', async () => {
    const user = await t.signUp();
    const phone = await login(user, 'Phone/1.0');
    await sessionsOf(phone.auth);
    await rewriteInPostgres(user.id, 'from-postgres');

    await t.deps.sessions.forget(user.id);

    const reloaded = await sessionsOf(phone.auth);
    expect(reloaded).toHaveLength(3);
    expect(reloaded.every((s) => s.userAgent === 'from-postgres')).toBe(true);
    // Loaded again: later logins are added to it, and nothing is lost.
    await login(user, 'Laptop/2.0');
    const next = await sessionsOf(phone.auth);
    expect(next.map((s) => s.userAgent)).toEqual([
      'Laptop/2.0',
      'from-postgres',
      'from-postgres',
      'from-postgres',
    ]);
  });

  it('a login made while the directory did not know the user is kept when it is loaded', async () => {
    const user = await t.signUp();
    await t.deps.sessions.forget(user.id);
    // Only this write reaches the directory before the next listing loads the rest.
    const laptop = await login(user, 'Laptop/3.0');
    const listed = await sessionsOf(laptop.auth);
    expect(listed).toHaveLength(3);
    expect(listed[0]!.userAgent).toBe('Laptop/3.0');
  });

  it('disabling a user empties their directory entry', async () => {
    const admin = await t.signUp('admin');
    const user = await t.signUp();
    const phone = await login(user, 'Phone/1.0');
    expect(await sessionsOf(phone.auth)).toHaveLength(3);

    const disabled = await t.inject({
      method: 'PATCH',
      url: `/api/v1/admin/users/${user.id}`,
      headers: admin.auth,
      payload: { disabled: true },
    });
    expect(disabled.statusCode).toBe(200);
    expect(await t.deps.sessions.list(user.id)).toEqual([]);
  });
});
