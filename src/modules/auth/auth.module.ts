import type { SessionDirectory } from '../../platform/ports/session-directory.js';
import type { TokenDenylist } from '../../platform/ports/token-denylist.js';
import type { AuditTrail } from '../audit/index.js';
import type { UserAccounts } from '../users/index.js';
import { AccountQueries } from './account-queries.js';
import type { PasswordHasher } from './password-hasher.js';
import { RefreshSession } from './refresh-session.use-case.js';
import { Revocations } from './revocations.js';
import { SessionTokens } from './session-tokens.js';
import type { SessionRepository } from './session.repository.js';
import { SignIn } from './sign-in.use-case.js';
import { SignOut } from './sign-out.use-case.js';
import { TokenAuthenticator } from './token-authenticator.js';
import type { TokenIssuer } from './token-issuer.js';

/** The auth use cases, one per file, and what other modules use of auth. */
export interface AuthModule {
  signIn: SignIn;
  refresh: RefreshSession;
  signOut: SignOut;
  account: AccountQueries;
  /** For the auth guards. */
  authenticator: TokenAuthenticator;
  /** For user administration (disable, role change) and the start-up denylist rebuild. */
  revocations: Revocations;
}

export function createAuthModule(deps: {
  users: UserAccounts;
  sessions: SessionRepository;
  hasher: PasswordHasher;
  tokens: TokenIssuer;
  denylist: TokenDenylist;
  directory: SessionDirectory;
  refreshTtlSeconds: number;
  auditLog: AuditTrail;
}): AuthModule {
  const { users, sessions, hasher, tokens, denylist, directory, auditLog } = deps;
  const sessionTokens = new SessionTokens({
    sessions,
    directory,
    tokens,
    refreshTtlSeconds: deps.refreshTtlSeconds,
  });
  const revocations = new Revocations({
    users,
    sessions,
    denylist,
    directory,
    accessTtlSeconds: tokens.ttlSeconds,
  });
  return {
    signIn: new SignIn({ users, hasher, sessionTokens, auditLog }),
    refresh: new RefreshSession({
      users,
      sessions,
      directory,
      sessionTokens,
      revocations,
      auditLog,
    }),
    signOut: new SignOut({ sessions, denylist, revocations, auditLog }),
    account: new AccountQueries({ users, sessions, directory }),
    authenticator: new TokenAuthenticator({ tokens, denylist }),
    revocations,
  };
}
