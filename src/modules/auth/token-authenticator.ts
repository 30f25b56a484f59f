import { AppError } from '../../platform/errors.js';
import type { TokenDenylist, TokenIdentity } from '../../platform/ports/token-denylist.js';
import type { Authenticator, Principal } from '../../platform/principal.js';
import type { TokenIssuer } from './token-issuer.js';

const unauthenticated = (detail: string) => new AppError('UNAUTHENTICATED', detail);

/** Verifies bearer tokens for the auth guards; any failure is the same 401 so nothing leaks. */
export class TokenAuthenticator implements Authenticator {
  constructor(private readonly deps: { tokens: TokenIssuer; denylist: TokenDenylist }) {}

  async authenticate(bearer: string | undefined): Promise<Principal> {
    if (!bearer) throw unauthenticated('A bearer access token is required');
    const claims = await this.deps.tokens.verify(bearer);
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
      return await this.deps.denylist.isRevoked(claims);
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', 'Sign-in checks are unavailable; retry shortly', {
        headers: { 'retry-after': '5' },
      });
    }
  }
}
