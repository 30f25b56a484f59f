import { AppError } from '../../platform/errors.js';
import { asActor, type AuditContext, type AuditTrail } from '../audit/index.js';
import type { UserAccounts } from '../users/index.js';
import type { PasswordHasher } from './password-hasher.js';
import type { AuthResult, ClientInfo, SessionTokens } from './session-tokens.js';

const emailTaken = () => new AppError('EMAIL_TAKEN', 'An account with this email already exists');

/** `POST /auth/register` and `POST /auth/login`: both end signed in, with a new session. */
export class SignIn {
  constructor(
    private readonly deps: {
      users: UserAccounts;
      hasher: PasswordHasher;
      sessionTokens: SessionTokens;
      auditLog: AuditTrail;
    },
  ) {}

  /** Registration always creates a plain `user`; roles are granted by an admin. */
  async register(
    input: { email: string; password: string; name: string },
    client: ClientInfo,
    audit: AuditContext,
  ): Promise<AuthResult> {
    const { users, hasher, sessionTokens, auditLog } = this.deps;
    if (await users.findByEmail(input.email)) throw emailTaken();
    const user = await users.insert({
      email: input.email,
      name: input.name,
      passwordHash: await hasher.hash(input.password),
      role: 'user',
    });
    if (!user) throw emailTaken();
    const result = await sessionTokens.startSession(user, client);
    await auditLog.append({
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
    const { users, hasher, sessionTokens, auditLog } = this.deps;
    const user = await users.findByEmail(input.email);
    const passwordOk = await hasher.verify(input.password, user?.password_hash);
    // Unknown email, wrong password and disabled account get the same answer.
    if (!user || !passwordOk || user.disabled) {
      // Nobody is signed in: the attempted email (never the password) says who was tried.
      await auditLog.append({
        context: { ...audit, actorId: null, actorRole: null },
        action: 'auth.login_failed',
        target: user && { type: 'user', id: user.id },
        after: {
          email: input.email,
          reason: !user ? 'unknown_email' : !passwordOk ? 'wrong_password' : 'disabled',
        },
      });
      throw new AppError('INVALID_CREDENTIALS', 'Email or password is wrong');
    }
    const result = await sessionTokens.startSession(user, client);
    await auditLog.append({
      context: asActor(audit, user),
      action: 'auth.login',
      target: { type: 'user', id: user.id },
      after: { email: user.email },
    });
    return result;
  }
}
