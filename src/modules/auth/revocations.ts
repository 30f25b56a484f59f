import type { SessionDirectory } from '../../platform/ports/session-directory.js';
import type { TokenDenylist } from '../../platform/ports/token-denylist.js';
import type { UserAccounts, UserRow } from '../users/index.js';
import type { SessionRepository } from './session.repository.js';

/**
 * Ending logins and voiding tokens: PostgreSQL records it, the denylist (Redis or in process)
 * makes it effective at once, the session directory forgets the sessions.
 */
export class Revocations {
  constructor(
    private readonly deps: {
      users: UserAccounts;
      sessions: SessionRepository;
      denylist: TokenDenylist;
      directory: SessionDirectory;
      accessTtlSeconds: number;
    },
  ) {}

  /** Ends one login: its refresh family and every access token issued for it. */
  async revokeSession(userId: string, sessionId: string, reason: string): Promise<void> {
    await this.deps.sessions.revokeSessions({ sessionId }, reason);
    await this.deps.directory.remove(userId, [sessionId]);
    await this.deps.denylist.revokeSession(userId, sessionId, this.deps.accessTtlSeconds);
  }

  /** Voids every token and session of a user (disable). */
  async revokeEverything(user: UserRow, reason: string): Promise<void> {
    await this.deps.denylist.setUserEpoch(user.id, user.token_epoch);
    const ended = await this.deps.sessions.revokeSessions({ userId: user.id }, reason);
    await this.deps.directory.remove(
      user.id,
      ended.map((s) => s.id),
    );
  }

  /** Voids a user's access tokens only; refresh still works and picks up the new role. */
  async revokeAccessTokens(user: UserRow): Promise<void> {
    await this.deps.denylist.setUserEpoch(user.id, user.token_epoch);
  }

  /**
   * Rebuilds the denylist (and forgets recently ended sessions) from PostgreSQL: at start,
   * and when Redis comes back empty.
   */
  async restoreDenylist(): Promise<void> {
    const { sessions, denylist, directory, accessTtlSeconds } = this.deps;
    const { tokens, sessions: ended } = await sessions.liveRevocations(accessTtlSeconds);
    const now = Date.now();
    for (const t of tokens) {
      await denylist.revokeToken(t.user_id, t.jti, (t.expires_at.getTime() - now) / 1000);
    }
    for (const s of ended) {
      await denylist.revokeSession(s.user_id, s.id, accessTtlSeconds);
      // Redis may have kept its data but missed a removal while it was unreachable: the
      // next read of this user's sessions comes from PostgreSQL again.
      await directory.forget(s.user_id);
    }
    for (const u of await this.deps.users.epochs()) {
      await denylist.setUserEpoch(u.id, u.token_epoch);
    }
  }
}
