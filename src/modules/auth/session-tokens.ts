import { createHash, randomBytes } from 'node:crypto';
import type { SessionDirectory } from '../../platform/ports/session-directory.js';
import type { UserRow, UserView } from '../users/index.js';
import { toUserView } from '../users/index.js';
import { toSessionRecord, type SessionRepository } from './session.repository.js';
import type { TokenIssuer } from './token-issuer.js';

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

/** Refresh tokens are stored only as this hash: a database leak hands out no session. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export const newRefreshToken = (): string => randomBytes(32).toString('base64url');

/** Opens a login (a session with its refresh token) and issues its access tokens. */
export class SessionTokens {
  constructor(
    private readonly deps: {
      sessions: SessionRepository;
      directory: SessionDirectory;
      tokens: TokenIssuer;
      refreshTtlSeconds: number;
    },
  ) {}

  get accessTtlSeconds(): number {
    return this.deps.tokens.ttlSeconds;
  }

  async startSession(user: UserRow, client: ClientInfo): Promise<AuthResult> {
    const refreshToken = newRefreshToken();
    const session = await this.deps.sessions.createSession({
      userId: user.id,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      expiresAt: new Date(Date.now() + this.deps.refreshTtlSeconds * 1000),
      refreshTokenHash: hashToken(refreshToken),
    });
    await this.deps.directory.put(toSessionRecord(session));
    return {
      user: toUserView(user),
      accessToken: await this.issueAccessToken(user, session.id),
      refreshToken,
      expiresIn: this.accessTtlSeconds,
    };
  }

  issueAccessToken(user: UserRow, sessionId: string): Promise<string> {
    return this.deps.tokens.issue({
      userId: user.id,
      role: user.role,
      sessionId,
      epoch: user.token_epoch,
    });
  }
}
