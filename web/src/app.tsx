import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router';
import { SiteHeader } from './components/site-header';
import { BrowsePage } from './pages/browse-page';
import { EventPage } from './pages/event-page';
import { LoginPage, RegisterPage } from './pages/auth-pages';
import { BookingsPage } from './pages/bookings-page';
import { NotFoundPage } from './pages/not-found-page';
import { SessionExpiryRedirect } from './session/sign-in-redirect';

// The ticket page carries the QR encoder: loaded when a booking is opened, not up front.
const BookingPage = lazy(() =>
  import('./pages/booking-page').then((m) => ({ default: m.BookingPage })),
);
const NotificationsPage = lazy(() =>
  import('./pages/notifications-page').then((m) => ({ default: m.NotificationsPage })),
);
// The admin area (users, audit log, sagas, dead letters) is for a few people: its own chunk.
const AdminPage = lazy(() =>
  import('./pages/admin/admin-page').then((m) => ({ default: m.AdminPage })),
);
// The organizer pages (editors, dashboard, charts) are chunks of their own: buyers never load them.
const OrganizerArea = lazy(() =>
  import('./pages/organizer/organizer-area').then((m) => ({ default: m.OrganizerArea })),
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
      <SiteHeader />
      <SessionExpiryRedirect />
      <main id="main" className="container">
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Routes>
            <Route path="/" element={<BrowsePage />} />
            <Route path="/events/:id" element={<EventPage />} />
            <Route path="/login" element={<LoginPage />} />
            <Route path="/register" element={<RegisterPage />} />
            <Route path="/bookings" element={<BookingsPage />} />
            <Route path="/bookings/:id" element={<BookingPage />} />
            <Route path="/notifications" element={<NotificationsPage />} />
            <Route path="/admin/*" element={<AdminPage />} />
            <Route path="/organizer/*" element={<OrganizerArea />} />
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
