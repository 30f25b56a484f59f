import { lazy } from 'react';
import { Link, Route, Routes, useLocation } from 'react-router';
import { usePageTitle } from '../../components/use-page-title';
import { useSessionUser } from '../../session/session';
import { NotFoundPage } from '../not-found-page';
import { EventEditorPage } from './event-editor-page';
import { OrganizerHomePage } from './organizer-home-page';
import { VenueEditorPage } from './venue-editor-page';
import './organizer.css';

// The sales dashboard brings the chart library: loaded when an event is opened, not with the
// overview or the editors.
const EventManagePage = lazy(() =>
  import('./event-manage-page').then((m) => ({ default: m.EventManagePage })),
);

/**
 * Everything under /organizer, loaded as its own chunk (app.tsx) so buyers never download it.
 * Organizers and admins only; the API refuses everyone else anyway, this says so up front.
 */
export function OrganizerArea() {
  const user = useSessionUser();
  if (!user || (user.role !== 'organizer' && user.role !== 'admin')) {
    return <OrganizersOnly signedIn={user !== null} />;
  }
  return (
    <div className="organizer-area">
      <Routes>
        <Route index element={<OrganizerHomePage />} />
        <Route path="venues/new" element={<VenueEditorPage />} />
        <Route path="events/new" element={<EventEditorPage />} />
        <Route path="events/:id" element={<EventManagePage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </div>
  );
}

function OrganizersOnly({ signedIn }: { signedIn: boolean }) {
  usePageTitle('Organizers only');
  const location = useLocation();
  const next = encodeURIComponent(location.pathname + location.search);
  return (
    <section className="narrow card stack">
      <h1>Organizers only</h1>
      {signedIn ? (
        <>
          <p>
            These pages are for event organizers. Your account is a buyer account: it can book
            tickets but not create venues or events.
          </p>
          <p className="muted">
            If an admin has just made your account an organizer, sign out and in again.
          </p>
          <p>
            <Link to="/">Browse events</Link>
          </p>
        </>
      ) : (
        <>
          <p>
            These pages are for event organizers. Sign in with an organizer account to continue.
          </p>
          <p>
            <Link className="button" to={`/login?next=${next}`}>
              Sign in
            </Link>
          </p>
        </>
      )}
    </section>
  );
}
