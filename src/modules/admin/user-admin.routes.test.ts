import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/support/test-app.js';
import { UserRepository } from '../users/user.repository.js';

let t: TestApp;
let admin: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  admin = await t.signUp('admin');
});
afterAll(async () => {
  await t?.close();
});

interface AdminUser {
  id: string;
  email: string;
  name: string;
  role: string;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}
interface Page {
  items: AdminUser[];
  nextCursor: string | null;
}

/** Registers `count` users whose emails share a tag no other test uses. */
async function registerTagged(count: number): Promise<{ tag: string; ids: string[] }> {
  const tag = `tag${randomBytes(5).toString('hex')}`;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email: `${tag}-${i}@example.test`, password: 'long enough pw', name: `U${i}` },
    });
    if (response.statusCode !== 201) throw new Error(`register: ${response.body}`);
    ids.push(response.json<{ user: { id: string } }>().user.id);
  }
  return { tag, ids };
}

const listUsers = (query: Record<string, string | number>, who: SignedIn = admin) =>
  t.inject({
    method: 'GET',
    url: '/api/v1/admin/users',
    headers: who.auth,
    query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
  });

const patchUser = (id: string, payload: unknown, who: SignedIn = admin) =>
  t.inject({
    method: 'PATCH',
    url: `/api/v1/admin/users/${id}`,
    headers: who.auth,
    payload: payload as Record<string, unknown>,
  });

async function walk(query: Record<string, string | number>): Promise<{
  ids: string[];
  pages: number;
}> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await listUsers(cursor ? { ...query, cursor } : query);
    expect(response.statusCode).toBe(200);
    const page = response.json<Page>();
    ids.push(...page.items.map((u) => u.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  return { ids, pages };
}

describe('GET /api/v1/admin/users', () => {
  it('walks every matching user exactly once across pages, oldest first', async () => {
    const { tag, ids } = await registerTagged(7);
    const { ids: seen, pages } = await walk({ email: tag, limit: 2 });
    // PostgreSQL keeps microseconds in created_at; a cursor that keeps only milliseconds
    // would hand back the last user of each page again (and never advance with limit=1).
    expect(seen).toEqual(ids);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBe(4);
  });

  it('advances one user at a time with limit=1', async () => {
    const { tag, ids } = await registerTagged(3);
    const { ids: seen } = await walk({ email: tag, limit: 1 });
    expect(seen).toEqual(ids);
  });

  it('returns the admin view of each user, without password hashes', async () => {
    const { tag, ids } = await registerTagged(1);
    const response = await listUsers({ email: tag });
    const page = response.json<Page>();
    expect(page.nextCursor).toBeNull();
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      id: ids[0],
      email: `${tag}-0@example.test`,
      role: 'user',
      disabled: false,
    });
    expect(Object.keys(page.items[0]!).sort()).toEqual(
      ['createdAt', 'disabled', 'email', 'id', 'name', 'role', 'updatedAt'].sort(),
    );
    expect(response.body).not.toMatch(/password|hash/i);
  });

  it('matches the email filter as a case-insensitive substring', async () => {
    const { tag, ids } = await registerTagged(2);
    const page = (await listUsers({ email: tag.toUpperCase() })).json<Page>();
    expect(page.items.map((u) => u.id)).toEqual(ids);
  });

  it('treats % and _ in the email filter as plain characters', async () => {
    await registerTagged(2);
    for (const wildcard of ['%', '_']) {
      const page = (await listUsers({ email: wildcard, limit: 100 })).json<Page>();
      for (const user of page.items) expect(user.email).toContain(wildcard);
    }
  });

  it('filters by role', async () => {
    const { tag, ids } = await registerTagged(5);
    const users = new UserRepository(t.deps.database.db);
    await users.update(ids[1]!, { role: 'organizer', bumpTokenEpoch: false });
    await users.update(ids[3]!, { role: 'organizer', bumpTokenEpoch: false });
    const organizers = (await listUsers({ email: tag, role: 'organizer' })).json<Page>();
    expect(organizers.items.map((u) => u.id)).toEqual([ids[1], ids[3]]);
    for (const user of organizers.items) expect(user.role).toBe('organizer');
    const plain = (await listUsers({ email: tag, role: 'user' })).json<Page>();
    expect(plain.items.map((u) => u.id)).toEqual([ids[0], ids[2], ids[4]]);
  });

  it('refuses an unknown role, an out-of-range limit and a forged cursor with 400', async () => {
    const queries: Array<Record<string, string | number>> = [
      { role: 'superuser' },
      { limit: 0 },
      { limit: 101 },
      { cursor: 'abc' },
    ];
    for (const query of queries) {
      const response = await listUsers(query);
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('VALIDATION_FAILED');
    }
  });

  it('answers 401 without a token and 403 FORBIDDEN to organizers and users', async () => {
    expect((await t.inject({ method: 'GET', url: '/api/v1/admin/users' })).statusCode).toBe(401);
    for (const role of ['user', 'organizer'] as const) {
      const response = await listUsers({}, await t.signUp(role));
      expect(response.statusCode).toBe(403);
      expect(response.json().code).toBe('FORBIDDEN');
    }
  });
});

describe('PATCH /api/v1/admin/users/:id', () => {
  it('changes the role, and the listing shows it', async () => {
    const { tag, ids } = await registerTagged(1);
    const response = await patchUser(ids[0]!, { role: 'organizer' });
    expect(response.statusCode).toBe(200);
    expect(response.json<AdminUser>()).toMatchObject({ id: ids[0], role: 'organizer' });
    const listed = (await listUsers({ email: tag })).json<Page>();
    expect(listed.items[0]!.role).toBe('organizer');
  });

  it('disables and re-enables a user', async () => {
    const user = await t.signUp();
    expect((await patchUser(user.id, { disabled: true })).json<AdminUser>().disabled).toBe(true);
    const enabled = await patchUser(user.id, { disabled: false });
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json<AdminUser>().disabled).toBe(false);
    const login = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: user.password },
    });
    expect(login.statusCode).toBe(200);
  });

  it('answers 404 NOT_FOUND for an unknown id', async () => {
    const response = await patchUser(randomUUID(), { role: 'organizer' });
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('NOT_FOUND');
  });

  it('answers 400 for an id that is not a UUID', async () => {
    const response = await patchUser('not-a-uuid', { role: 'organizer' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].field).toBe('params.id');
  });

  it('answers 400 VALIDATION_FAILED for an empty body, and changes nothing', async () => {
    const user = await t.signUp();
    const response = await patchUser(user.id, {});
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('VALIDATION_FAILED');
    const me = await t.inject({ method: 'GET', url: '/api/v1/auth/me', headers: user.auth });
    expect(me.statusCode).toBe(200);
  });

  it('answers 400 for an unknown role or an unknown field', async () => {
    const user = await t.signUp();
    const badRole = await patchUser(user.id, { role: 'root' });
    expect(badRole.statusCode).toBe(400);
    const unknown = await patchUser(user.id, { email: 'new@example.test' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors).toContainEqual({
      field: 'email',
      message: 'is not an accepted field',
    });
  });

  it('answers 409 when an admin disables or demotes themselves, and changes nothing', async () => {
    const self = await t.signUp('admin');
    for (const change of [{ disabled: true }, { role: 'user' }, { role: 'organizer' }]) {
      const response = await patchUser(self.id, change, self);
      expect(response.statusCode).toBe(409);
      expect(response.json().code).toBe('INVALID_STATE');
    }
    const stillAdmin = await listUsers({ email: self.email }, self);
    expect(stillAdmin.statusCode).toBe(200);
    expect(stillAdmin.json<Page>().items[0]).toMatchObject({ role: 'admin', disabled: false });
  });

  it('lets an admin disable another admin', async () => {
    const other = await t.signUp('admin');
    const response = await patchUser(other.id, { disabled: true });
    expect(response.statusCode).toBe(200);
    expect((await listUsers({}, other)).statusCode).toBe(401);
  });

  it('answers 403 FORBIDDEN to a non-admin, and changes nothing', async () => {
    const organizer = await t.signUp('organizer');
    const victim = await t.signUp();
    const response = await patchUser(victim.id, { role: 'admin' }, organizer);
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('FORBIDDEN');
    const self = await patchUser(organizer.id, { role: 'admin' }, organizer);
    expect(self.statusCode).toBe(403);
    const listed = (await listUsers({ email: victim.email })).json<Page>();
    expect(listed.items[0]!.role).toBe('user');
  });
});
