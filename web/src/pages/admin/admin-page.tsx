import { NavLink, Route, Routes } from 'react-router';
import { usePageTitle } from '../../components/use-page-title';
import { RequireSignIn } from '../../session/sign-in-redirect';
import { useSessionUser } from '../../session/session';
import { AdminAuditLog } from './admin-audit-log';
import { AdminDeadLetters } from './admin-dead-letters';
import { AdminOverview } from './admin-overview';
import { AdminSagas } from './admin-sagas';
import { AdminUsers } from './admin-users';
import './admin.css';

/** The admin sections, each a bookmarkable path under /admin. */
const SECTIONS = [
  { path: '', label: 'Overview', element: <AdminOverview /> },
  { path: 'users', label: 'Users', element: <AdminUsers /> },
  { path: 'audit', label: 'Audit log', element: <AdminAuditLog /> },
  { path: 'sagas', label: 'Sagas', element: <AdminSagas /> },
  { path: 'dead-letters', label: 'Dead letters', element: <AdminDeadLetters /> },
];

/**
 * `/admin/*`, loaded only when opened (its own chunk). Admins get the sections; anyone else
 * signed in is told the area is for admins (the API refuses them anyway).
 */
export function AdminPage() {
  return (
    <RequireSignIn>
      <AdminArea />
    </RequireSignIn>
  );
}

function AdminArea() {
  const user = useSessionUser();
  if (user?.role !== 'admin') return <AdminsOnly />;
  return (
    <section>
      <h1>Admin</h1>
      <nav aria-label="Admin sections">
        <ul className="tabs">
          {SECTIONS.map((s) => (
            <li key={s.path}>
              <NavLink to={`/admin${s.path ? `/${s.path}` : ''}`} end>
                {s.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Routes>
        {SECTIONS.map((s) =>
          s.path ? (
            <Route key={s.path} path={s.path} element={s.element} />
          ) : (
            <Route key="index" index element={s.element} />
          ),
        )}
        <Route path="*" element={<p>There is no such admin section.</p>} />
      </Routes>
    </section>
  );
}

function AdminsOnly() {
  usePageTitle('Admins only');
  return (
    <section className="narrow">
      <h1>Admins only</h1>
      <p>This area is for admins only. Your account cannot open it.</p>
    </section>
  );
}
