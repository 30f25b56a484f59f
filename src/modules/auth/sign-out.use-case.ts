import { notFound } from '../../platform/errors.js';
import type { TokenDenylist } from '../../platform/ports/token-denylist.js';
import type { Principal } from '../../platform/principal.js';
import type { AuditContext, AuditTrail } from '../audit/index.js';
import type { Revocations } from './revocations.js';
import type { SessionRepository } from './session.repository.js';

/** `POST /auth/logout` and `DELETE /me/sessions/:id`: ending this login or another of one's own. */
export class SignOut {
  constructor(
    private readonly deps: {
      sessions: SessionRepository;
      denylist: TokenDenylist;
      revocations: Revocations;
      auditLog: AuditTrail;
    },
  ) {}

  /** Ends this login at once: its access token and its whole refresh family. */
  async logout(principal: Principal, audit: AuditContext): Promise<void> {
    const { deps } = this;
    const remaining = Math.max(1, principal.expiresAt - Math.floor(Date.now() / 1000));
    await deps.sessions.recordRevokedAccessToken(
      principal.jti,
      principal.userId,
      new Date(principal.expiresAt * 1000),
    );
    await deps.denylist.revokeToken(principal.userId, principal.jti, remaining);
    await deps.revocations.revokeSession(principal.userId, principal.sessionId, 'logout');
    await deps.auditLog.append({
      context: audit,
      action: 'auth.logout',
      target: { type: 'session', id: principal.sessionId },
    });
  }

  /** Ends one of the caller's logins; ending an already ended one changes nothing. */
  async endSession(principal: Principal, sessionId: string, audit: AuditContext): Promise<void> {
    if (sessionId === principal.sessionId) return this.logout(principal, audit);
    const session = await this.deps.sessions.findOwned(principal.userId, sessionId);
    if (!session) throw notFound('Session');
    if (session.revoked_at) return;
    await this.deps.revocations.revokeSession(principal.userId, session.id, 'ended by user');
    await this.deps.auditLog.append({
      context: audit,
      action: 'auth.session_ended',
      target: { type: 'session', id: session.id },
    });
  }
}
