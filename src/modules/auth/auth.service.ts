import { createHash, randomBytes } from 'node:crypto';
import { AppError, notFound } from '../../platform/errors.js';
import {
  cursorDate,
  decodeCursor,
  newestFirstInMemory,
  toPage,
} from '../../platform/pagination.js';
import type { SessionDirectory, SessionRecord } from '../../platform/ports/session-directory.js';
import type { TokenDenylist, TokenIdentity } from '../../platform/ports/token-denylist.js';
import { asActor, type AuditContext, type AuditTrail } from '../audit/index.js';
import type { UserAccounts, UserRow } from '../users/index.js';
import { toUserView, type UserView } from '../users/index.js';
import { toSessionView, type SessionView } from './auth.schemas.js';
import type { PasswordHasher } from './password-hasher.js';
import type { Principal } from '../../platform/principal.js';
import { toSessionRecord, type SessionRepository } from './session.repository.js';
import type { TokenIssuer } from './token-issuer.js';

export type { Principal } from '../../platform/principal.js';

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export interface AuthResult {
  user: UserView;
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', 'Email or password is wrong');
const unauthenticated = (detail: string) => new AppError('UNAUTHENTICATED', detail);

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class AuthService {
  constructor(
    private readonly users: UserAccounts,
    private readonly sessions: SessionRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenIssuer,
    private readonly denylist: TokenDenylist,
    private readonly directory: SessionDirectory,
    private readonly refreshTtlSeconds: number,
    private readonly auditLog: AuditTrail,
  ) {}

  /** Registration always creates a plain `user`; roles are granted by an admin. */
  async register(
    input: { email: string; password: string; name: string },
    client: ClientInfo,
    audit: AuditContext,
  ): Promise<AuthResult> {
    if (await this.users.findByEmail(input.email)) {
      throw new AppError('EMAIL_TAKEN', 'An account with this email already exists');
    }
    const user = await this.users.insert({
      email: input.email,
      name: input.name,
      passwordHash: await this.hasher.hash(input.password),
      role: 'user',
    });
    if (!user) throw new AppError('EMAIL_TAKEN', 'An account with this email already exists');
    const result = await this.startSession(user, client);
    await this.auditLog.append({
      context: asActor(audit, user),
      action: 'auth.registered',
      target: { type: 'user', id: user.id },
      after: { email: user.email, role: user.role },
    });
    return result;
  }

  async login(
    input: { email: string; password: string },
    client: ClientInfo,
    audit: AuditContext,
  ): Promise<AuthResult> {
    const user = await this.users.findByEmail(input.email);
    const passwordOk = await this.hasher.verify(input.password, user?.password_hash);
    // Unknown email, wrong password and disabled account get the same answer.
    if (!user || !passwordOk || user.disabled) {
      // Nobody is signed in: the attempted email (never the password) says who was tried.
      await this.auditLog.append({
        context: { ...audit, actorId: null, actorRole: null },
        action: 'auth.login_failed',
        target: user && { type: 'user', id: user.id },
        after: {
          email: input.email,
          reason: !user ? 'unknown_email' : !passwordOk ? 'wrong_password' : 'disabled',
        },
      });
      throw invalidCredentials();
    }
    const result = await this.startSession(user, client);
    await this.auditLog.append({
      context: asActor(audit, user),
      action: 'auth.login',
      target: { type: 'user', id: user.id },
      after: { email: user.email },
    });
    return result;
  }

  async refresh(refreshToken: string, audit: AuditContext): Promise<AuthResult> {
    const next = newRefreshToken();
    const result = await this.sessions.rotate(hashToken(refreshToken), hashToken(next));
    if (result.outcome === 'invalid') throw unauthenticated('The refresh token is not valid');
    if (result.outcome === 'reused') {
      // A used refresh token presented again means it was copied: end the whole family.
      await this.revokeSession(result.session.user_id, result.session.id, 'refresh token reuse');
      await this.auditLog.append({
        context: { ...audit, actorId: result.session.user_id, actorRole: null },
        action: 'auth.refresh_reused',
        target: { type: 'session', id: result.session.id },
        after: { revoked: true },
      });
      throw unauthenticated('The refresh token was already used; the session has been revoked');
    }
    await this.directory.put(toSessionRecord(result.session));
    const user = await this.users.findById(result.session.user_id);
    if (!user || user.disabled) throw unauthenticated('The account is disabled');
    return {
      user: toUserView(user),
      accessToken: await this.issueAccessToken(user, result.session.id),
      refreshToken: next,
      expiresIn: this.tokens.ttlSeconds,
    };
  }

  /** Ends this login at once: its access token and its whole refresh family. */
  async logout(principal: Principal, audit: AuditContext): Promise<void> {
    const remaining = Math.max(1, principal.expiresAt - Math.floor(Date.now() / 1000));
    await this.sessions.recordRevokedAccessToken(
      principal.jti,
      principal.userId,
      new Date(principal.expiresAt * 1000),
    );
    await this.denylist.revokeToken(principal.userId, principal.jti, remaining);
    await this.revokeSession(principal.userId, principal.sessionId, 'logout');
    await this.auditLog.append({
      context: audit,
      action: 'auth.logout',
      target: { type: 'session', id: principal.sessionId },
    });
  }

  async me(principal: Principal): Promise<UserView> {
    const user = await this.users.findById(principal.userId);
    if (!user) throw unauthenticated('The account no longer exists');
    return toUserView(user);
  }

  /** The caller's live logins, newest first, from the session directory. */
  async listSessions(
    principal: Principal,
    query: { limit: number; cursor?: string },
  ): Promise<{ items: SessionView[]; nextCursor: string | null }> {
    const before = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const live =
      (await this.directory.list(principal.userId)) ?? (await this.loadDirectory(principal.userId));
    const page = newestFirstInMemory(
      live,
      query.limit,
      before && { createdAt: cursorDate(before.createdAt), id: before.id },
    );
    return toPage(
      page,
      (session) => toSessionView(session, principal.sessionId),
      (session) => ({ createdAt: session.createdAt.toISOString(), id: session.id }),
    );
  }

  /** Ends one of the caller's logins; ending an already ended one changes nothing. */
  async endSession(principal: Principal, sessionId: string, audit: AuditContext): Promise<void> {
    if (sessionId === principal.sessionId) return this.logout(principal, audit);
    const session = await this.sessions.findOwned(principal.userId, sessionId);
    if (!session) throw notFound('Session');
    if (session.revoked_at) return;
    await this.revokeSession(principal.userId, session.id, 'ended by user');
    await this.auditLog.append({
      context: audit,
      action: 'auth.session_ended',
      target: { type: 'session', id: session.id },
    });
  }

  /** Verifies a bearer token; any failure is the same 401 so nothing leaks about why. */
  async authenticate(bearer: string | undefined): Promise<Principal> {
    if (!bearer) throw unauthenticated('A bearer access token is required');
    const claims = await this.tokens.verify(bearer);
    if (!claims) throw unauthenticated('The access token is invalid or expired');
    if (await this.isRevoked(claims)) throw unauthenticated('The access token has been revoked');
    return {
      userId: claims.userId,
      role: claims.role,
      sessionId: claims.sessionId,
      jti: claims.jti,
      expiresAt: claims.expiresAt,
    };
  }

  // Fails closed: when revocations cannot be checked, no token is trusted.
  private async isRevoked(claims: TokenIdentity): Promise<boolean> {
    try {
      return await this.denylist.isRevoked(claims);
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', 'Sign-in checks are unavailable; retry shortly', {
        headers: { 'retry-after': '5' },
      });
    }
  }

  /** Voids every token and session of a user (disable). */
  async revokeEverything(user: UserRow, reason: string): Promise<void> {
    await this.denylist.setUserEpoch(user.id, user.token_epoch);
    const ended = await this.sessions.revokeSessions({ userId: user.id }, reason);
    await this.directory.remove(
      user.id,
      ended.map((s) => s.id),
    );
  }

  /** Voids a user's access tokens only; refresh still works and picks up the new role. */
  async revokeAccessTokens(user: UserRow): Promise<void> {
    await this.denylist.setUserEpoch(user.id, user.token_epoch);
  }

  /** Rebuilds the denylist cache (and forgets recently ended sessions) from PostgreSQL (at start, and when Redis comes back empty). */
  async restoreDenylist(): Promise<void> {
    const { tokens, sessions } = await this.sessions.liveRevocations(this.tokens.ttlSeconds);
    const now = Date.now();
    for (const t of tokens) {
      await this.denylist.revokeToken(t.user_id, t.jti, (t.expires_at.getTime() - now) / 1000);
    }
    for (const s of sessions) {
      await this.denylist.revokeSession(s.user_id, s.id, this.tokens.ttlSeconds);
      // Redis may have kept its data but missed a removal while it was unreachable: the
      // next read of this user's sessions comes from PostgreSQL again.
      await this.directory.forget(s.user_id);
    }
    for (const u of await this.users.epochs()) {
      await this.denylist.setUserEpoch(u.id, u.token_epoch);
    }
  }

  private async startSession(user: UserRow, client: ClientInfo): Promise<AuthResult> {
    const refreshToken = newRefreshToken();
    const session = await this.sessions.createSession({
      userId: user.id,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      expiresAt: new Date(Date.now() + this.refreshTtlSeconds * 1000),
      refreshTokenHash: hashToken(refreshToken),
    });
    await this.directory.put(toSessionRecord(session));
    return {
      user: toUserView(user),
      accessToken: await this.issueAccessToken(user, session.id),
      refreshToken,
      expiresIn: this.tokens.ttlSeconds,
    };
  }

  private issueAccessToken(user: UserRow, sessionId: string): Promise<string> {
    return this.tokens.issue({
      userId: user.id,
      role: user.role,
      sessionId,
      epoch: user.token_epoch,
    });
  }

  /** Fills the directory for a user it does not know (first use, or after a Redis restart). */
  private async loadDirectory(userId: string): Promise<SessionRecord[]> {
    const live = await this.sessions.allLive(userId);
    await this.directory.load(userId, live);
    return (await this.directory.list(userId)) ?? live;
  }

  private async revokeSession(userId: string, sessionId: string, reason: string): Promise<void> {
    await this.sessions.revokeSessions({ sessionId }, reason);
    await this.directory.remove(userId, [sessionId]);
    await this.denylist.revokeSession(userId, sessionId, this.tokens.ttlSeconds);
  }
}

function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}
