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
  private readonly listeners = new Set<() => void>();

  accessToken = () => this.access;
  currentUser = () => this.user;
  canRefresh = () => localStorage.getItem(REFRESH_KEY) !== null;

  signIn(pair: TokenPair): void {
    this.access = pair.accessToken;
    this.user = pair.user;
    localStorage.setItem(REFRESH_KEY, pair.refreshToken);
    localStorage.setItem(USER_KEY, JSON.stringify(pair.user));
    this.emit();
  }

  signOut(): void {
    this.access = null;
    this.user = null;
    localStorage.removeItem(REFRESH_KEY);
    localStorage.removeItem(USER_KEY);
    this.emit();
  }

  /** A fresh access token, or null (and signed out) when the refresh token is refused. */
  refresh(exchange: (refreshToken: string) => Promise<TokenPair | null>): Promise<string | null> {
    const refreshToken = localStorage.getItem(REFRESH_KEY);
    if (!refreshToken) return Promise.resolve(null);
    this.inFlight ??= exchange(refreshToken)
      .then((pair) => {
        if (!pair) {
          this.signOut();
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
