import type { UserRole } from '../../platform/database/schema.js';
import { AppError, notFound } from '../../platform/errors.js';
import { cursorDate, decodeCursor, toPage } from '../../platform/pagination.js';
import { type AuditContext, recordAudit } from '../audit/index.js';
import type { PasswordHasher, Principal, Revocations } from '../auth/index.js';
import type { UserAccounts } from '../users/index.js';
import { toAdminUserView, type AdminUserView } from '../users/index.js';

export class UserAdminService {
  constructor(
    private readonly users: UserAccounts,
    private readonly revocations: Revocations,
    private readonly hasher: PasswordHasher,
  ) {}

  async list(query: {
    limit: number;
    cursor?: string;
    role?: UserRole;
    email?: string;
  }): Promise<{ items: AdminUserView[]; nextCursor: string | null }> {
    const after = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const page = await this.users.list({
      limit: query.limit,
      role: query.role,
      email: query.email,
      after: after && { createdAt: cursorDate(after.createdAt), id: after.id },
    });
    return toPage(page, toAdminUserView, (row) => ({
      createdAt: row.created_at.toISOString(),
      id: row.id,
    }));
  }

  /**
   * Changes role and/or disabled state. Either change voids the user's current access tokens
   * (they carry the old role); disabling also ends every session.
   */
  async update(
    actor: Principal,
    userId: string,
    change: { role?: UserRole; disabled?: boolean },
    audit: AuditContext,
  ): Promise<AdminUserView> {
    if (
      userId === actor.userId &&
      (change.disabled === true || (change.role && change.role !== 'admin'))
    ) {
      throw new AppError('INVALID_STATE', 'Admins cannot disable or demote themselves');
    }
    const current = await this.users.findById(userId);
    if (!current) throw notFound('User');
    const roleChanged = change.role !== undefined && change.role !== current.role;
    const disabledChanged = change.disabled !== undefined && change.disabled !== current.disabled;
    const updated = await this.users.update(
      userId,
      { ...change, bumpTokenEpoch: roleChanged || disabledChanged },
      async (trx, row) => {
        const target = { type: 'user', id: userId };
        if (roleChanged) {
          await recordAudit(trx, {
            context: audit,
            action: 'user.role_changed',
            target,
            before: { role: current.role },
            after: { role: row.role },
          });
        }
        if (disabledChanged) {
          await recordAudit(trx, {
            context: audit,
            action: row.disabled ? 'user.disabled' : 'user.enabled',
            target,
            before: { disabled: current.disabled },
            after: { disabled: row.disabled },
          });
        }
      },
    );
    if (!updated) throw notFound('User');
    if (updated.disabled && disabledChanged)
      await this.revocations.revokeEverything(updated, 'disabled');
    else if (roleChanged) await this.revocations.revokeAccessTokens(updated);
    return toAdminUserView(updated);
  }

  /** Creates the admin, or promotes and re-enables an existing account with that email. */
  async ensureAdmin(input: { email: string; password: string; name?: string }): Promise<{
    created: boolean;
    user: AdminUserView;
  }> {
    const existing = await this.users.findByEmail(input.email);
    if (existing) {
      const updated = await this.users.update(existing.id, {
        role: 'admin',
        disabled: false,
        bumpTokenEpoch: existing.role !== 'admin' || existing.disabled,
      });
      return { created: false, user: toAdminUserView(updated ?? existing) };
    }
    const user = await this.users.insert({
      email: input.email,
      name: input.name ?? 'Administrator',
      passwordHash: await this.hasher.hash(input.password),
      role: 'admin',
    });
    if (!user) return this.ensureAdmin(input);
    return { created: true, user: toAdminUserView(user) };
  }
}
