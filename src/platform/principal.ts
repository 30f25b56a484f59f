import type { UserRole } from './database/schema.js';

/** Who is calling, as established from a verified, unrevoked access token. */
export interface Principal {
  userId: string;
  role: UserRole;
  sessionId: string;
  jti: string;
  expiresAt: number;
}

/** What the route guards need of the auth module: a bearer token in, its caller out. */
export interface Authenticator {
  /** Throws UNAUTHENTICATED (or SERVICE_UNAVAILABLE) when the token cannot be trusted. */
  authenticate(token: string | undefined): Promise<Principal>;
}
