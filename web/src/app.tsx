import { lazy, Suspense } from 'react';
import { Link, NavLink, Route, Routes, useNavigate } from 'react-router';
import { api } from './api/client';
import { BrowsePage } from './pages/browse-page';
import { EventPage } from './pages/event-page';
import { LoginPage, RegisterPage } from './pages/auth-pages';
import { BookingsPage } from './pages/bookings-page';
import { NotFoundPage } from './pages/not-found-page';
import { session, useSessionUser } from './session/session';

// The ticket page carries the QR encoder: loaded when a booking is opened, not up front.
const BookingPage = lazy(() =>
  import('./pages/booking-page').then((m) => ({ default: m.BookingPage })),
);
// The door's check-in page (camera scanning, live counts): only organizers and scanners need it.
const CheckInPage = lazy(() =>
  import('./pages/check-in/check-in-page').then((m) => ({ default: m.CheckInPage })),
);

export function App() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" className="container">
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Routes>
            <Route path="/" element={<BrowsePage />} />
            <Route path="/events/:id" element={<EventPage />} />
            <Route path="/login" element={<LoginPage />} />
            <Route path="/register" element={<RegisterPage />} />
            <Route path="/bookings" element={<BookingsPage />} />
            <Route path="/bookings/:id" element={<BookingPage />} />
            <Route path="/organizer/events/:id/check-in" element={<CheckInPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </main>
      <footer className="site-footer container muted">
        Evently · <a href="/docs">API documentation</a>
      </footer>
    </>
  );
}

function Header() {
  const user = useSessionUser();
  const navigate = useNavigate();
  const signOut = async () => {
    await api.POST('/api/v1/auth/logout').catch(() => undefined);
    session.signOut();
    navigate('/');
  };
  return (
    <header className="site-header">
      <nav className="container nav" aria-label="Main">
        <Link to="/" className="brand">
          Evently
        </Link>
        <ul className="nav-links">
          <li>
            <NavLink to="/" end>
              Events
            </NavLink>
          </li>
          {user ? (
            <>
              <li>
                <NavLink to="/bookings">My bookings</NavLink>
              </li>
              <li>
                <button type="button" className="link-button" onClick={() => void signOut()}>
                  Sign out {user.name}
                </button>
              </li>
            </>
          ) : (
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
          )}
        </ul>
      </nav>
    </header>
  );
}
