import { AppError } from '../../platform/errors.js';
import {
  cursorDate,
  decodeCursor,
  newestFirstInMemory,
  toPage,
} from '../../platform/pagination.js';
import type { SessionDirectory, SessionRecord } from '../../platform/ports/session-directory.js';
import type { Principal } from '../../platform/principal.js';
import type { UserAccounts, UserView } from '../users/index.js';
import { toUserView } from '../users/index.js';
import { toSessionView, type SessionView } from './auth.schemas.js';
import type { SessionRepository } from './session.repository.js';

/** `GET /me` and `GET /me/sessions`: the caller's account and live logins. */
export class AccountQueries {
  constructor(
    private readonly deps: {
      users: UserAccounts;
      sessions: SessionRepository;
      directory: SessionDirectory;
    },
  ) {}

  async me(principal: Principal): Promise<UserView> {
    const user = await this.deps.users.findById(principal.userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 'The account no longer exists');
    return toUserView(user);
  }

  /** The caller's live logins, newest first, from the session directory. */
  async listSessions(
    principal: Principal,
    query: { limit: number; cursor?: string },
  ): Promise<{ items: SessionView[]; nextCursor: string | null }> {
    const before = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const live =
      (await this.deps.directory.list(principal.userId)) ??
      (await this.loadDirectory(principal.userId));
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

  /** Fills the directory for a user it does not know (first use, or after a Redis restart). */
  private async loadDirectory(userId: string): Promise<SessionRecord[]> {
    const live = await this.deps.sessions.allLive(userId);
    await this.deps.directory.load(userId, live);
    return (await this.deps.directory.list(userId)) ?? live;
  }
}
