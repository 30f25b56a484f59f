import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from './support/kit.js';
import { createTestApp, type SignedIn, type TestApp } from './support/test-app.js';

// The unread count behind the web app's badge and marking notifications read. The rows are
// written straight into the table (the consumer that normally writes them is tested in
// notifications.test.ts), so each test knows exactly what its user has.

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** Gives `user` `n` unread notifications, oldest first; answers their ids. */
async function notify(user: SignedIn, n: number): Promise<string[]> {
  const rows = await t.deps.database.db
    .insertInto('notifications')
    .values(
      Array.from({ length: n }, (_, i) => ({
        user_id: user.id,
        type: 'booking.confirmed',
        title: `Notification ${i + 1}`,
        body: 'made by the test',
        created_at: new Date(Date.now() - (n - i) * 1000),
      })),
    )
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

const unreadOf = async (user: SignedIn) => {
  const response = await t.inject({
    method: 'GET',
    url: '/api/v1/me/notifications/unread-count',
    headers: user.auth,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ unread: number }>().unread;
};

const markRead = (user: SignedIn | undefined, payload: unknown) =>
  t.inject({
    method: 'POST',
    url: '/api/v1/me/notifications/read',
    headers: user?.auth ?? {},
    payload: payload as object,
  });

const readAtOf = async (user: SignedIn) => {
  const response = await t.inject({
    method: 'GET',
    url: '/api/v1/me/notifications',
    headers: user.auth,
  });
  const items = response.json<{ items: Array<{ id: string; readAt: string | null }> }>().items;
  return new Map(items.map((n) => [n.id, n.readAt]));
};

describe('GET /api/v1/me/notifications/unread-count', () => {
  it('counts only the caller’s unread notifications', async () => {
    const user = await t.signUp();
    const other = await t.signUp();
    expect(await unreadOf(user)).toBe(0);
    await notify(user, 3);
    await notify(other, 2);
    expect(await unreadOf(user)).toBe(3);
    expect(await unreadOf(other)).toBe(2);
  });

  it('refuses an anonymous caller with a 401', async () => {
    const response = await t.inject({
      method: 'GET',
      url: '/api/v1/me/notifications/unread-count',
    });
    expectProblem(response, 401, 'UNAUTHENTICATED');
  });
});

describe('POST /api/v1/me/notifications/read', () => {
  it('marks the named notifications read, and says how many stay unread', async () => {
    const user = await t.signUp();
    const [first, second, third] = (await notify(user, 3)) as [string, string, string];

    const response = await markRead(user, { ids: [first, second] });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ marked: 2, unread: 1 });

    const readAt = await readAtOf(user);
    expect(readAt.get(first)).not.toBeNull();
    expect(readAt.get(second)).not.toBeNull();
    expect(readAt.get(third)).toBeNull();
    expect(await unreadOf(user)).toBe(1);
  });

  it('marking again changes nothing: the first readAt stays', async () => {
    const user = await t.signUp();
    const [id] = (await notify(user, 1)) as [string];
    expect((await markRead(user, { ids: [id] })).json()).toEqual({ marked: 1, unread: 0 });
    const firstReadAt = (await readAtOf(user)).get(id);
    expect((await markRead(user, { ids: [id] })).json()).toEqual({ marked: 0, unread: 0 });
    expect((await readAtOf(user)).get(id)).toBe(firstReadAt);
  });

  it('without ids marks every unread notification of the caller, and nobody else’s', async () => {
    const user = await t.signUp();
    const other = await t.signUp();
    await notify(user, 4);
    await notify(other, 2);
    const response = await markRead(user, {});
    expect(response.json()).toEqual({ marked: 4, unread: 0 });
    expect(await unreadOf(other)).toBe(2);
  });

  it('leaves another user’s notification unread even when its id is named', async () => {
    const user = await t.signUp();
    const other = await t.signUp();
    const [theirs] = (await notify(other, 1)) as [string];
    const response = await markRead(user, { ids: [theirs, randomUUID()] });
    expect(response.json()).toEqual({ marked: 0, unread: 0 });
    expect((await readAtOf(other)).get(theirs)).toBeNull();
  });

  it('refuses an invalid body with a 400, and an anonymous caller with a 401', async () => {
    const user = await t.signUp();
    for (const payload of [{ ids: [] }, { ids: ['not-a-uuid'] }, { all: true }]) {
      expectProblem(await markRead(user, payload), 400, 'VALIDATION_FAILED');
    }
    expectProblem(await markRead(undefined, {}), 401, 'UNAUTHENTICATED');
  });
});
