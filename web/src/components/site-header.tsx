import { useEffect, useState } from 'react';
import { Link, NavLink, useLocation, useNavigate } from 'react-router';
import { api } from '../api/client';
import { useUnreadCount } from '../notifications/unread-count';
import { session, useSessionUser, type SessionUser } from '../session/session';

/**
 * The site's navigation, by role: organizers and admins get the organizer pages, admins the
 * admin pages. Below 48rem the links fold into a menu opened by one button.
 */
export function SiteHeader() {
  const user = useSessionUser();
  const { pathname } = useLocation();
  const [open, setOpen] = useState(false);

  // A link followed in the folded menu closes it.
  useEffect(() => setOpen(false), [pathname]);

  return (
    <header className="site-header">
      <nav className="container nav" aria-label="Main">
        <Link to="/" className="brand">
          Evently
        </Link>
        <button
          type="button"
          className="menu-toggle button button-secondary button-small"
          aria-expanded={open}
          aria-controls="main-menu"
          onClick={() => setOpen((o) => !o)}
        >
          Menu
        </button>
        <ul id="main-menu" className={open ? 'nav-links nav-links-open' : 'nav-links'}>
          <li>
            <NavLink to="/" end>
              Events
            </NavLink>
          </li>
          {user ? <SignedInLinks user={user} /> : <SignedOutLinks />}
        </ul>
      </nav>
    </header>
  );
}

function SignedInLinks({ user }: { user: SessionUser }) {
  const navigate = useNavigate();
  const unread = useUnreadCount();
  const signOut = async () => {
    await api.POST('/api/v1/auth/logout').catch(() => undefined);
    session.signOut();
    navigate('/');
  };
  return (
    <>
      {(user.role === 'organizer' || user.role === 'admin') && (
        <li>
          <NavLink to="/organizer">Organizer</NavLink>
        </li>
      )}
      {user.role === 'admin' && (
        <li>
          <NavLink to="/admin">Admin</NavLink>
        </li>
      )}
      <li>
        <NavLink to="/bookings">My bookings</NavLink>
      </li>
      <li>
        <NavLink to="/notifications" className="nav-notifications">
          Notifications
          {unread !== null && unread > 0 && (
            // Read as "Notifications 2 unread"; no aria-label, so the name keeps the visible text.
            <span className="count-badge">
              {unread > 99 ? '99+' : unread}
              <span className="visually-hidden"> unread</span>
            </span>
          )}
        </NavLink>
      </li>
      <li>
        <button type="button" className="link-button" onClick={() => void signOut()}>
          Sign out <span className="nav-user">{user.name}</span>
        </button>
      </li>
    </>
  );
}

function SignedOutLinks() {
  return (
    <>
      <li>
        <NavLink to="/login">Sign in</NavLink>
      </li>
      <li>
        <NavLink to="/register" className="button button-small">
          Create account
        </NavLink>
      </li>
    </>
  );
}
