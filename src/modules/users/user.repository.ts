import { escapeLike } from '../../platform/like-pattern.js';
import { sql, type Kysely, type Selectable } from 'kysely';
import { changeWith, type AlsoInTransaction } from '../../infra/postgres/also-in-transaction.js';
import type { DB, UserRole, UsersTable } from '../../platform/database/schema.js';

export type UserRow = Selectable<UsersTable>;

export interface UserPage {
  rows: UserRow[];
  hasMore: boolean;
}

/**
 * What other modules (auth, admin) may do with user accounts: the users module owns the
 * table and offers these queries; nobody else reads or writes it.
 */
export type UserAccounts = Pick<
  UserRepository,
  'findById' | 'findByEmail' | 'emailsOf' | 'insert' | 'update' | 'list' | 'epochs'
>;

export class UserRepository {
  constructor(private readonly db: Kysely<DB>) {}

  findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The addresses of these users (unknown ids are left out), for notification emails. */
  async emailsOf(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'email'])
      .where('id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.id, r.email]));
  }

  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
      .executeTakeFirst();
  }

  /** Inserts a user; returns undefined when the email is already registered. */
  async insert(user: {
    email: string;
    name: string;
    passwordHash: string;
    role: UserRole;
  }): Promise<UserRow | undefined> {
    return this.db
      .insertInto('users')
      .values({
        email: user.email,
        name: user.name,
        password_hash: user.passwordHash,
        role: user.role,
      })
      .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  async list(options: {
    limit: number;
    after?: { createdAt: Date; id: string };
    role?: UserRole;
    email?: string;
  }): Promise<UserPage> {
    let query = this.db.selectFrom('users').selectAll();
    if (options.role) query = query.where('role', '=', options.role);
    if (options.email) {
      query = query.where('email', 'ilike', `%${escapeLike(options.email)}%`);
    }
    if (options.after) {
      const { createdAt, id } = options.after;
      // A row-value comparison walks the (created_at, id) index in order.
      query = query.where(sql<boolean>`(created_at, id) > (${createdAt}, ${id})`);
    }
    const rows = await query
      .orderBy('created_at')
      .orderBy('id')
      .limit(options.limit + 1)
      .execute();
    return { rows: rows.slice(0, options.limit), hasMore: rows.length > options.limit };
  }

  /** Applies a change and bumps the token epoch when existing tokens must stop working. */
  update(
    id: string,
    change: { role?: UserRole; disabled?: boolean; bumpTokenEpoch: boolean },
    also?: AlsoInTransaction<UserRow>,
  ): Promise<UserRow | undefined> {
    return changeWith(this.db, also, (executor) =>
      executor
        .updateTable('users')
        .set((eb) => ({
          ...(change.role !== undefined ? { role: change.role } : {}),
          ...(change.disabled !== undefined ? { disabled: change.disabled } : {}),
          token_epoch: change.bumpTokenEpoch ? eb('token_epoch', '+', 1) : eb.ref('token_epoch'),
          updated_at: new Date(),
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),
    );
  }

  /** Users whose older tokens are void (for rebuilding the denylist cache). */
  async epochs(): Promise<Array<{ id: string; token_epoch: number }>> {
    return this.db
      .selectFrom('users')
      .select(['id', 'token_epoch'])
      .where('token_epoch', '>', 0)
      .execute();
  }
}
