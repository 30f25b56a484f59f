import type { Kysely, Selectable } from 'kysely';
import type { AuthSessionsTable, DB, RefreshTokensTable } from '../../platform/database/schema.js';
import type { SessionRecord } from '../../platform/ports/session-directory.js';

export type SessionRow = Selectable<AuthSessionsTable>;
export type RefreshTokenRow = Selectable<RefreshTokensTable>;

export function toSessionRecord(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    ip: row.ip,
    userAgent: row.user_agent,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
  };
}

/** Login sessions (refresh-token families), their refresh tokens, and revoked access tokens. */
export class SessionRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async createSession(session: {
    userId: string;
    ip: string | null;
    userAgent: string | null;
    expiresAt: Date;
    refreshTokenHash: string;
  }): Promise<SessionRow> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('auth_sessions')
        .values({
          user_id: session.userId,
          ip: session.ip,
          user_agent: session.userAgent,
          expires_at: session.expiresAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('refresh_tokens')
        .values({
          session_id: row.id,
          token_hash: session.refreshTokenHash,
          expires_at: session.expiresAt,
        })
        .execute();
      return row;
    });
  }

  /**
   * Marks the presented refresh token used and stores its successor, atomically. Answers
   * 'reused' when the token had already been used (the family must then be revoked).
   */
  async rotate(
    tokenHash: string,
    nextHash: string,
  ): Promise<
    | { outcome: 'rotated'; session: SessionRow }
    | { outcome: 'reused'; session: SessionRow }
    | { outcome: 'invalid' }
  > {
    return this.db.transaction().execute(async (trx) => {
      const token = await trx
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .forUpdate()
        .executeTakeFirst();
      if (!token) return { outcome: 'invalid' as const };
      const session = await trx
        .selectFrom('auth_sessions')
        .selectAll()
        .where('id', '=', token.session_id)
        .executeTakeFirstOrThrow();
      if (token.used_at) return { outcome: 'reused' as const, session };
      const now = new Date();
      if (session.revoked_at || token.expires_at <= now || session.expires_at <= now) {
        return { outcome: 'invalid' as const };
      }
      await trx
        .updateTable('refresh_tokens')
        .set({ used_at: now })
        .where('id', '=', token.id)
        .execute();
      await trx
        .insertInto('refresh_tokens')
        .values({ session_id: session.id, token_hash: nextHash, expires_at: session.expires_at })
        .execute();
      const touched = await trx
        .updateTable('auth_sessions')
        .set({ last_used_at: now })
        .where('id', '=', session.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { outcome: 'rotated' as const, session: touched };
    });
  }

  /** A user's live sessions (not revoked, not expired), to fill the session directory. */
  async allLive(userId: string): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('auth_sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', new Date())
      .execute();
    return rows.map(toSessionRecord);
  }

  /** The session only when it belongs to that user, so others' ids look unknown. */
  findOwned(userId: string, sessionId: string): Promise<SessionRow | undefined> {
    return this.db
      .selectFrom('auth_sessions')
      .selectAll()
      .where('id', '=', sessionId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  /** Revokes sessions; returns the ones that were still live. */
  async revokeSessions(
    where: { sessionId: string } | { userId: string },
    reason: string,
  ): Promise<SessionRow[]> {
    let query = this.db
      .updateTable('auth_sessions')
      .set({ revoked_at: new Date(), revoked_reason: reason })
      .where('revoked_at', 'is', null);
    query =
      'sessionId' in where
        ? query.where('id', '=', where.sessionId)
        : query.where('user_id', '=', where.userId);
    return query.returningAll().execute();
  }

  async recordRevokedAccessToken(jti: string, userId: string, expiresAt: Date): Promise<void> {
    await this.db
      .insertInto('revoked_access_tokens')
      .values({ jti, user_id: userId, expires_at: expiresAt })
      .onConflict((oc) => oc.column('jti').doNothing())
      .execute();
  }

  /** What the denylist cache must know: revocations that can still matter. */
  async liveRevocations(accessTokenTtlSeconds: number): Promise<{
    tokens: Array<{ jti: string; user_id: string; expires_at: Date }>;
    sessions: Array<{ id: string; user_id: string; revoked_at: Date | null }>;
  }> {
    const now = new Date();
    const since = new Date(now.getTime() - accessTokenTtlSeconds * 1000);
    const tokens = await this.db
      .selectFrom('revoked_access_tokens')
      .select(['jti', 'user_id', 'expires_at'])
      .where('expires_at', '>', now)
      .execute();
    const sessions = await this.db
      .selectFrom('auth_sessions')
      .select(['id', 'user_id', 'revoked_at'])
      .where('revoked_at', '>', since)
      .execute();
    return { tokens, sessions };
  }
}
