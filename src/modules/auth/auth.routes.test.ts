import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from '../../../test/support/test-app.js';
import { createEvent } from '../../../test/support/fixtures.js';
import { TokenIssuer } from './token-issuer.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const me = (authorization?: string) =>
  t.inject({
    method: 'GET',
    url: '/api/v1/auth/me',
    headers: authorization ? { authorization } : {},
  });

describe('POST /api/v1/auth/register', () => {
  it('creates a user with the role user and returns a token pair', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: 'Ada@Example.test', password: 'long enough pw', name: 'Ada' },
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.user).toMatchObject({ email: 'Ada@Example.test', name: 'Ada', role: 'user' });
    expect(body.expiresIn).toBeGreaterThan(0);
    expect((await me(`Bearer ${body.accessToken}`)).json().email).toBe('Ada@Example.test');
  });

  it('refuses a client-chosen role as an unknown field', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: {
        email: 'mallory@example.test',
        password: 'long enough pw',
        name: 'M',
        role: 'admin',
      },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(response.json().errors).toContainEqual({
      field: 'role',
      message: 'is not an accepted field',
    });
  });

  it('answers 409 EMAIL_TAKEN for a duplicate email, whatever its case', async () => {
    const user = await t.signUp();
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: user.email.toUpperCase(), password: 'long enough pw', name: 'Again' },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('EMAIL_TAKEN');
  });

  it('refuses a password shorter than 10 characters', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: 'short@example.test', password: 'short', name: 'S' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('password');
  });
});

describe('POST /api/v1/auth/login', () => {
  it('gives the same 401 for a wrong password and for an unknown email', async () => {
    const user = await t.signUp();
    const wrong = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: 'not the password' },
    });
    const unknown = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'nobody@example.test', password: 'not the password' },
    });
    for (const response of [wrong, unknown]) {
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({
        code: 'INVALID_CREDENTIALS',
        detail: 'Email or password is wrong',
      });
    }
  });

  it('signs in with the email in any case', async () => {
    const user = await t.signUp();
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email.toUpperCase(), password: user.password },
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('access tokens', () => {
  it('refuses a request without a token, and a malformed Authorization header', async () => {
    expect((await me()).json().code).toBe('UNAUTHENTICATED');
    expect((await me()).statusCode).toBe(401);
    expect((await me('Basic abc')).statusCode).toBe(401);
  });

  it('refuses a token whose signature was tampered with', async () => {
    const user = await t.signUp();
    const [header, payload, signature] = user.accessToken.split('.');
    const flipped = signature!.startsWith('A')
      ? `B${signature!.slice(1)}`
      : `A${signature!.slice(1)}`;
    expect((await me(`Bearer ${header}.${payload}.${flipped}`)).statusCode).toBe(401);
    // A payload raised to admin, keeping the original signature.
    const claims = decodeJwt(user.accessToken);
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    expect((await me(`Bearer ${header}.${forged}.${signature}`)).statusCode).toBe(401);
  });

  it('refuses an alg:none token', async () => {
    const user = await t.signUp();
    const claims = decodeJwt(user.accessToken);
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    expect((await me(`Bearer ${header}.${payload}.`)).statusCode).toBe(401);
  });

  it('refuses an expired token signed with the right key', async () => {
    const user = await t.signUp();
    const claims = decodeJwt(user.accessToken);
    const expired = await new SignJWT({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const response = await me(`Bearer ${expired}`);
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('UNAUTHENTICATED');
  });

  it('refuses a token signed with another secret', async () => {
    const user = await t.signUp();
    const claims = decodeJwt(user.accessToken);
    const foreign = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('another-secret-that-is-also-long-enough'));
    expect((await me(`Bearer ${foreign}`)).statusCode).toBe(401);
  });

  it('verifies RS256 tokens when a key pair is configured, and refuses HS256 ones then', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const issuer = await TokenIssuer.create(
      {
        algorithm: 'RS256',
        privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
      60,
    );
    const claims = {
      userId: crypto.randomUUID(),
      role: 'user' as const,
      sessionId: crypto.randomUUID(),
      epoch: 0,
    };
    const token = await issuer.issue(claims);
    expect(await issuer.verify(token)).toMatchObject(claims);
    const hs = await TokenIssuer.create({ algorithm: 'HS256', secret: TEST_JWT_SECRET }, 60);
    expect(await issuer.verify(await hs.issue(claims))).toBeUndefined();
  });
});

describe('POST /api/v1/auth/logout', () => {
  it('stops the access token and the refresh token of that session at once', async () => {
    const user = await t.signUp();
    const logout = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: user.auth,
    });
    expect(logout.statusCode).toBe(204);
    expect((await me(user.auth.authorization)).statusCode).toBe(401);
    const refresh = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
  });

  it('leaves the same user’s other sessions working', async () => {
    const user = await t.signUp();
    const second = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    });
    await t.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: user.auth });
    expect((await me(`Bearer ${second.json().accessToken}`)).statusCode).toBe(200);
  });

  it('is remembered by a freshly started instance (the denylist is rebuilt from the database)', async () => {
    const user = await t.signUp();
    await t.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: user.auth });
    // Without a real database the in-memory PGlite cannot be shared with a second instance.
    if (!t.testDb.url) {
      await t.deps.services.auth.revocations.restoreDenylist();
      expect((await me(user.auth.authorization)).statusCode).toBe(401);
      return;
    }
    const other = await t.anotherInstance();
    const response = await other.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: user.auth,
    });
    expect(response.statusCode).toBe(401);
  });
});

describe('POST /api/v1/auth/refresh', () => {
  it('rotates: the new pair works and the old refresh token is spent', async () => {
    const user = await t.signUp();
    const first = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(first.statusCode).toBe(200);
    const rotated = first.json();
    expect(rotated.refreshToken).not.toBe(user.refreshToken);
    expect((await me(`Bearer ${rotated.accessToken}`)).statusCode).toBe(200);
  });

  it('revokes the whole family when a used refresh token is presented again', async () => {
    const user = await t.signUp();
    const rotated = (
      await t.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refreshToken: user.refreshToken },
      })
    ).json();
    const reuse = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(reuse.statusCode).toBe(401);
    // Both the newer refresh token and the access tokens of the family are dead now.
    const newer = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: rotated.refreshToken },
    });
    expect(newer.statusCode).toBe(401);
    expect((await me(`Bearer ${rotated.accessToken}`)).statusCode).toBe(401);
    expect((await me(user.auth.authorization)).statusCode).toBe(401);
  });

  it('rotates a token exactly once under concurrent use', async () => {
    const user = await t.signUp();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refreshToken: user.refreshToken },
        }),
      ),
    );
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.statusCode === 401)).toHaveLength(9);
  });

  it('refuses an unknown refresh token', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: 'nope' },
    });
    expect(response.statusCode).toBe(401);
  });
});

describe('roles and disabled users', () => {
  it('answers 403 FORBIDDEN when a user calls an organizer route', async () => {
    const user = await t.signUp('user');
    const response = await t.inject({ method: 'GET', url: '/api/v1/venues', headers: user.auth });
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('FORBIDDEN');
  });

  it('answers 403 when an organizer calls an admin route', async () => {
    const organizer = await t.signUp('organizer');
    const response = await t.inject({
      method: 'GET',
      url: '/api/v1/admin/users',
      headers: organizer.auth,
    });
    expect(response.statusCode).toBe(403);
  });

  it('stops a disabled user’s tokens at once, and refuses their login and refresh', async () => {
    const admin = await t.signUp('admin');
    const user = await t.signUp();
    const disable = await t.inject({
      method: 'PATCH',
      url: `/api/v1/admin/users/${user.id}`,
      headers: admin.auth,
      payload: { disabled: true },
    });
    expect(disable.statusCode).toBe(200);
    expect(disable.json().disabled).toBe(true);
    expect((await me(user.auth.authorization)).statusCode).toBe(401);
    const login = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    });
    expect(login.statusCode).toBe(401);
    const refresh = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
  });

  it('gives a promoted user the new role after a refresh, and voids tokens with the old role', async () => {
    const admin = await t.signUp('admin');
    const user = await t.signUp();
    await t.inject({
      method: 'PATCH',
      url: `/api/v1/admin/users/${user.id}`,
      headers: admin.auth,
      payload: { role: 'organizer' },
    });
    expect((await me(user.auth.authorization)).statusCode).toBe(401);
    const refreshed = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json().user.role).toBe('organizer');
    const venues = await t.inject({
      method: 'GET',
      url: '/api/v1/venues',
      headers: { authorization: `Bearer ${refreshed.json().accessToken}` },
    });
    expect(venues.statusCode).toBe(200);
  });

  it('does not let an organizer change another organizer’s event', async () => {
    const owner = await t.signUp('organizer');
    const other = await t.signUp('organizer');
    const event = await createEvent(t, owner);
    const patch = await t.inject({
      method: 'PATCH',
      url: `/api/v1/events/${event.id}`,
      headers: other.auth,
      payload: { name: 'Hijacked' },
    });
    expect(patch.statusCode).toBe(403);
    expect(patch.json().code).toBe('FORBIDDEN');
    const cancel = await t.inject({
      method: 'POST',
      url: `/api/v1/events/${event.id}/cancel`,
      headers: other.auth,
    });
    expect(cancel.statusCode).toBe(403);
    const unchanged = await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}` });
    expect(unchanged.json()).toMatchObject({ name: 'Test Event', status: 'published' });
  });
});
