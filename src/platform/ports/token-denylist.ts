/** What identifies an access token for revocation checks. */
export interface TokenIdentity {
  jti: string;
  sessionId: string;
  userId: string;
  /** The user's token epoch when the token was issued. */
  epoch: number;
}

/**
 * Fast revocation checks for access tokens. PostgreSQL stays the record (revoked tokens,
 * revoked sessions, user epochs); an adapter is a cache of it, rebuilt with `restore`.
 */
export interface TokenDenylist {
  revokeToken(userId: string, jti: string, ttlSeconds: number): Promise<void>;
  revokeSession(userId: string, sessionId: string, ttlSeconds: number): Promise<void>;
  /** Tokens carrying an older epoch than this stop working. */
  setUserEpoch(userId: string, epoch: number): Promise<void>;
  isRevoked(token: TokenIdentity): Promise<boolean>;
}
