import type { SessionDirectory, SessionRecord } from '../../platform/ports/session-directory.js';

/** In-process session directory for the embedded mode (one process holds every session). */
export class MemorySessionDirectory implements SessionDirectory {
  private readonly users = new Map<
    string,
    { loaded: boolean; sessions: Map<string, SessionRecord> }
  >();

  async put(session: SessionRecord): Promise<void> {
    this.entry(session.userId).sessions.set(session.id, session);
  }

  async remove(userId: string, sessionIds: string[]): Promise<void> {
    const entry = this.users.get(userId);
    for (const id of sessionIds) entry?.sessions.delete(id);
  }

  async list(userId: string): Promise<SessionRecord[] | undefined> {
    const entry = this.users.get(userId);
    if (!entry?.loaded) return undefined;
    const now = Date.now();
    for (const [id, session] of entry.sessions) {
      if (session.expiresAt.getTime() <= now) entry.sessions.delete(id);
    }
    return [...entry.sessions.values()];
  }

  async forget(userId: string): Promise<void> {
    this.users.delete(userId);
  }

  async load(userId: string, sessions: SessionRecord[]): Promise<void> {
    const entry = this.entry(userId);
    for (const session of sessions) {
      if (!entry.sessions.has(session.id)) entry.sessions.set(session.id, session);
    }
    entry.loaded = true;
  }

  private entry(userId: string) {
    let entry = this.users.get(userId);
    if (!entry) {
      entry = { loaded: false, sessions: new Map() };
      this.users.set(userId, entry);
    }
    return entry;
  }
}
