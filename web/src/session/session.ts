import { useSyncExternalStore } from 'react';

/** The signed-in user as the API describes it. */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'organizer' | 'admin';
}

interface TokenPair {
  user: SessionUser;
  accessToken: string;
  refreshToken: string;
}

/** Why the last session ended: the user signed out, or the API stopped accepting it. */
export type SessionEnd = 'signed-out' | 'expired';

const REFRESH_KEY = 'evently.refreshToken';
const USER_KEY = 'evently.user';

/**
 * The browser's session: the access token lives in memory only (gone with the tab), the
 * refresh token in localStorage so a reload or a new tab signs in again through
 * POST /auth/refresh. Refreshes are shared: many 401s at once rotate the pair once.
 */
class Session {
  private access: string | null = null;
  private user: SessionUser | null = readUser();
  private inFlight: Promise<string | null> | null = null;
  private ended: SessionEnd | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly expiryListeners = new Set<() => void>();

  accessToken = () => this.access;
  currentUser = () => this.user;
  canRefresh = () => localStorage.getItem(REFRESH_KEY) !== null;
  /** How the last session of this tab ended (null: none has, or one is open). */
  endedBy = () => this.ended;

  signIn(pair: TokenPair): void {
    this.access = pair.accessToken;
    this.user = pair.user;
    this.ended = null;
    localStorage.setItem(REFRESH_KEY, pair.refreshToken);
    localStorage.setItem(USER_KEY, JSON.stringify(pair.user));
    this.emit();
  }

  signOut(reason: SessionEnd = 'signed-out'): void {
    const wasSignedIn = this.user !== null;
    this.access = null;
    this.user = null;
    this.ended = reason;
    localStorage.removeItem(REFRESH_KEY);
    localStorage.removeItem(USER_KEY);
    // Expiry listeners first: they move the user to the login page before the pages that
    // need a user re-render without one.
    if (reason === 'expired' && wasSignedIn)
      for (const listener of this.expiryListeners) listener();
    this.emit();
  }

  /** A fresh access token, or null (and signed out) when the refresh token is refused. */
  refresh(exchange: (refreshToken: string) => Promise<TokenPair | null>): Promise<string | null> {
    const refreshToken = localStorage.getItem(REFRESH_KEY);
    if (!refreshToken) return Promise.resolve(null);
    this.inFlight ??= exchange(refreshToken)
      .then((pair) => {
        if (!pair) {
          // Expired, revoked (signed out elsewhere, disabled) or reused: this session is over.
          this.signOut('expired');
          return null;
        }
        this.signIn(pair);
        return pair.accessToken;
      })
      .catch(() => null)
      .finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Called when the API stops accepting the session (its refresh token is refused). */
  onExpired = (listener: () => void) => {
    this.expiryListeners.add(listener);
    return () => {
      this.expiryListeners.delete(listener);
    };
  };

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

function readUser(): SessionUser | null {
  try {
    const raw = localStorage.getItem(USER_KEY);
    return raw && localStorage.getItem(REFRESH_KEY) ? (JSON.parse(raw) as SessionUser) : null;
  } catch {
    return null;
  }
}

export const session = new Session();

/** The signed-in user, re-rendering when it changes. */
export function useSessionUser(): SessionUser | null {
  return useSyncExternalStore(session.subscribe, session.currentUser);
}
