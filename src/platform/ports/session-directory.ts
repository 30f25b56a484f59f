/** A login as users see it in `GET /auth/sessions`. */
export interface SessionRecord {
  id: string;
  userId: string;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
}

/**
 * Every user's live sessions, kept where all instances read them fast (Redis when configured,
 * in process when embedded). PostgreSQL stays the record: refresh-token rotation and
 * revocation are decided there, and a user the directory does not know (never loaded, or lost
 * with a Redis restart) is loaded again from it.
 */
export interface SessionDirectory {
  /** Adds a new session or records its latest use. */
  put(session: SessionRecord): Promise<void>;
  /** Forgets ended sessions. */
  remove(userId: string, sessionIds: string[]): Promise<void>;
  /** The user's live sessions, or undefined when the directory does not know the user. */
  list(userId: string): Promise<SessionRecord[] | undefined>;
  /** Drops all that is known about a user, so the next read loads it from PostgreSQL. */
  forget(userId: string): Promise<void>;
  /** Records a user's sessions as loaded from PostgreSQL, keeping newer writes. */
  load(userId: string, sessions: SessionRecord[]): Promise<void>;
}
