import { AppError } from '../../platform/errors.js';
import type { SessionDirectory } from '../../platform/ports/session-directory.js';
import type { AuditContext, AuditTrail } from '../audit/index.js';
import type { UserAccounts } from '../users/index.js';
import { toUserView } from '../users/index.js';
import type { Revocations } from './revocations.js';
import {
  hashToken,
  newRefreshToken,
  type AuthResult,
  type SessionTokens,
} from './session-tokens.js';
import { toSessionRecord, type SessionRepository } from './session.repository.js';

const unauthenticated = (detail: string) => new AppError('UNAUTHENTICATED', detail);

/**
 * `POST /auth/refresh`: trades a refresh token for a new pair. Each refresh token works once;
 * one presented again was copied, so its whole login ends.
 */
export class RefreshSession {
  constructor(
    private readonly deps: {
      users: UserAccounts;
      sessions: SessionRepository;
      directory: SessionDirectory;
      sessionTokens: SessionTokens;
      revocations: Revocations;
      auditLog: AuditTrail;
    },
  ) {}

  async refresh(refreshToken: string, audit: AuditContext): Promise<AuthResult> {
    const { deps } = this;
    const next = newRefreshToken();
    const result = await deps.sessions.rotate(hashToken(refreshToken), hashToken(next));
    if (result.outcome === 'invalid') throw unauthenticated('The refresh token is not valid');
    if (result.outcome === 'reused') {
      const { session } = result;
      await deps.revocations.revokeSession(session.user_id, session.id, 'refresh token reuse');
      await deps.auditLog.append({
        context: { ...audit, actorId: session.user_id, actorRole: null },
        action: 'auth.refresh_reused',
        target: { type: 'session', id: session.id },
        after: { revoked: true },
      });
      throw unauthenticated('The refresh token was already used; the session has been revoked');
    }
    await deps.directory.put(toSessionRecord(result.session));
    const user = await deps.users.findById(result.session.user_id);
    if (!user || user.disabled) throw unauthenticated('The account is disabled');
    return {
      user: toUserView(user),
      accessToken: await deps.sessionTokens.issueAccessToken(user, result.session.id),
      refreshToken: next,
      expiresIn: deps.sessionTokens.accessTtlSeconds,
    };
  }
}
