import { useEffect, type ReactNode } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { session, useSessionUser } from './session';

/** The login page, coming back to `next` (a path of this app) afterwards. */
export function signInPath(next: string): string {
  return `/login?next=${encodeURIComponent(next)}`;
}

/** Shows `children` to a signed-in user; sends anyone else to sign in first. */
export function RequireSignIn({ children }: { children: ReactNode }) {
  const user = useSessionUser();
  const location = useLocation();
  if (!user) return <Navigate to={signInPath(location.pathname + location.search)} replace />;
  return children;
}

/**
 * When the API stops accepting the session (the refresh token expired or was revoked), the
 * user is taken to the login page, which says why, and comes back here after signing in.
 */
export function SessionExpiryRedirect() {
  const navigate = useNavigate();
  useEffect(
    () =>
      session.onExpired(() => {
        // Read at the moment of expiry: this effect's closure would hold an old location.
        const { pathname, search } = window.location;
        if (pathname !== '/login') navigate(signInPath(pathname + search), { replace: true });
      }),
    [navigate],
  );
  return null;
}
