import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/support/test-app.js';
import { encodeCursor } from '../../platform/pagination.js';

interface AuditItem {
  id: string;
  occurredAt: string;
  actorId: string | null;
  action: string;
  targetId: string | null;
}
interface Page {
  items: AuditItem[];
  nextCursor: string | null;
}

let t: TestApp;
let admin: SignedIn;
/** A user with a known history: registered, logged in (signUp), then `LOGINS` more logins. */
let busy: SignedIn;
const LOGINS = 6;
beforeAll(async () => {
  t = await createTestApp();
  admin = await t.signUp('admin');
  busy = await t.signUp();
  for (let i = 0; i < LOGINS; i++) {
    const login = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: busy.email, password: busy.password },
    });
    if (login.statusCode !== 200) throw new Error(`login: ${login.body}`);
  }
});
afterAll(async () => {
  await t?.close();
});

const list = (query: Record<string, string | number>, who: SignedIn | null = admin) =>
  t.inject({
    method: 'GET',
    url: '/api/v1/admin/audit-log',
    headers: who?.auth ?? {},
    query: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
  });

async function walk(query: Record<string, string | number>): Promise<{
  items: AuditItem[];
  pages: number;
}> {
  const items: AuditItem[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await list(cursor ? { ...query, cursor } : query);
    expect(response.statusCode).toBe(200);
    const page = response.json<Page>();
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  return { items, pages };
}

/** Newest first by (occurredAt, id). */
function expectNewestFirst(items: AuditItem[]): void {
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [items[i - 1]!, items[i]!];
    const order =
      Date.parse(a.occurredAt) - Date.parse(b.occurredAt) || Number(a.id) - Number(b.id);
    expect(order).toBeGreaterThan(0);
  }
}

describe('GET /api/v1/admin/audit-log', () => {
  it('refuses callers without a token (401) and non-admins (403)', async () => {
    expect((await list({}, null)).statusCode).toBe(401);
    const user = await t.signUp();
    const organizer = await t.signUp('organizer');
    for (const who of [user, organizer]) {
      const response = await list({}, who);
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'FORBIDDEN' });
    }
  });

  it('filters by actor: the logins and registration of one user, newest first', async () => {
    const { items } = await walk({ actor: busy.id, limit: 100 });
    expect(items.every((e) => e.actorId === busy.id)).toBe(true);
    expect(items.filter((e) => e.action === 'auth.login')).toHaveLength(LOGINS + 1);
    expect(items.filter((e) => e.action === 'auth.registered')).toHaveLength(1);
    expect(items.at(-1)!.action).toBe('auth.registered');
    expectNewestFirst(items);
  });

  it('filters by action and by actor and action together', async () => {
    const logins = (await walk({ action: 'auth.login', limit: 100 })).items;
    expect(logins.every((e) => e.action === 'auth.login')).toBe(true);
    expect(new Set(logins.map((e) => e.actorId))).toContain(admin.id);
    const mine = (await walk({ action: 'auth.login', actor: busy.id })).items;
    expect(mine).toHaveLength(LOGINS + 1);
    expect(mine.every((e) => e.actorId === busy.id)).toBe(true);
    expect((await walk({ action: 'auth.no_such_action' })).items).toEqual([]);
  });

  it('filters by a time window: from inclusive, to exclusive', async () => {
    const all = (await walk({ actor: busy.id, limit: 100 })).items;
    const middle = all[Math.floor(all.length / 2)]!;
    const from = middle.occurredAt;
    const since = (await walk({ actor: busy.id, from })).items;
    expect(since.map((e) => e.id)).toEqual(
      all.filter((e) => Date.parse(e.occurredAt) >= Date.parse(from)).map((e) => e.id),
    );
    const until = (await walk({ actor: busy.id, to: from })).items;
    expect(until.map((e) => e.id)).toEqual(
      all.filter((e) => Date.parse(e.occurredAt) < Date.parse(from)).map((e) => e.id),
    );
    expect(since.length + until.length).toBe(all.length);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await walk({ actor: busy.id, from: future })).items).toEqual([]);
    expect((await walk({ actor: busy.id, from, to: from })).items).toEqual([]);
  });

  it('pages with limit and an opaque cursor: every entry once, in order', async () => {
    const whole = (await walk({ actor: busy.id, limit: 100 })).items;
    const paged = await walk({ actor: busy.id, limit: 2 });
    expect(paged.pages).toBe(Math.ceil(whole.length / 2));
    expect(paged.items.map((e) => e.id)).toEqual(whole.map((e) => e.id));
    expect(new Set(paged.items.map((e) => e.id)).size).toBe(whole.length);
    const first = (await list({ actor: busy.id, limit: 3 })).json<Page>();
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).toEqual(expect.any(String));
    const last = (await list({ actor: busy.id, limit: whole.length })).json<Page>();
    expect(last.nextCursor).toBeNull();
  });

  it('answers 400 VALIDATION_FAILED for a bad query', async () => {
    const bad: Array<Record<string, string | number>> = [
      { actor: 'not-a-uuid' },
      { from: 'yesterday' },
      { to: '2024-13-45T00:00:00Z' },
      { from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' },
      { action: 'DROP TABLE' },
      { limit: 0 },
      { limit: 101 },
      { cursor: 'garbage!' },
      { cursor: encodeCursor({ occurredAt: new Date().toISOString(), id: '1 OR 1=1' }) },
      { cursor: encodeCursor({ occurredAt: 'not a date', id: '5' }) },
      { colour: 'blue' },
    ];
    for (const query of bad) {
      const response = await list(query);
      expect(response.statusCode, JSON.stringify(query)).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  it('is described in the OpenAPI document', async () => {
    const spec = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>>;
    }>();
    const operation = spec.paths['/api/v1/admin/audit-log']?.get;
    expect(operation).toBeDefined();
    expect(operation!.parameters!.map((p) => p.name)).toEqual(
      expect.arrayContaining(['actor', 'action', 'from', 'to', 'limit', 'cursor']),
    );
  });
});

describe('audit_log is append-only', () => {
  it("refuses UPDATE, DELETE and TRUNCATE through the application's own connection", async () => {
    const { db } = t.deps.database;
    const row = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('actor_id', '=', busy.id)
      .orderBy('id')
      .limit(1)
      .executeTakeFirstOrThrow();
    const attempts = [
      () => sql`UPDATE audit_log SET action = 'auth.nothing' WHERE id = ${row.id}`.execute(db),
      () =>
        db
          .updateTable('audit_log')
          .set({ actor_id: randomUUID() })
          .where('id', '=', row.id)
          .execute(),
      () => sql`DELETE FROM audit_log WHERE id = ${row.id}`.execute(db),
      () => db.deleteFrom('audit_log').where('actor_id', '=', busy.id).execute(),
      () => sql`TRUNCATE audit_log`.execute(db),
    ];
    for (const attempt of attempts) {
      await expect(attempt()).rejects.toThrow(/append-only/);
    }
    // Not even inside a transaction that would otherwise commit.
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`UPDATE audit_log SET ip = '10.0.0.1' WHERE id = ${row.id}`.execute(trx);
      }),
    ).rejects.toThrow(/append-only/);

    const after = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(after).toEqual(row);
    const count = await db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('actor_id', '=', busy.id)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(LOGINS + 2);
  });
});
