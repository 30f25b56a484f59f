import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { TokenIssuer } from '../../src/modules/auth/token-issuer.js';
import type { SignedIn, TestApp } from './test-app.js';

/**
 * `n` plain users in one INSERT, each with an access token signed with the app's own key:
 * for load tests that need many different buyers, where registering and signing in through
 * the API (bcrypt and two requests per user) would take most of the test's time. They cannot
 * sign in with a password (none is set) and their session id is made up: an access token is
 * checked against its signature and the denylist only.
 */
export async function insertUsers(t: TestApp, n: number): Promise<SignedIn[]> {
  const tag = randomBytes(4).toString('hex');
  const { rows } = await sql<{ id: string; email: string }>`
    INSERT INTO users (email, name, password_hash)
    SELECT 'bulk-' || ${tag} || '-' || i || '@example.test', 'Bulk buyer ' || i, 'no-password'
    FROM generate_series(1, ${n}::int) AS i
    RETURNING id, email`.execute(t.deps.database.db);
  const issuer = await TokenIssuer.create(t.deps.config.jwt, t.deps.config.accessTokenTtlSeconds);
  return Promise.all(
    rows.map(async (row): Promise<SignedIn> => {
      const accessToken = await issuer.issue({
        userId: row.id,
        role: 'user',
        sessionId: randomUUID(),
        epoch: 0,
      });
      return {
        id: row.id,
        email: row.email,
        password: '',
        role: 'user',
        accessToken,
        refreshToken: '',
        auth: { authorization: `Bearer ${accessToken}` },
      };
    }),
  );
}
