import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client';
import type { ListItem } from '../../api/list-item';
import { Alert } from '../../components/alert';
import { usePageTitle } from '../../components/use-page-title';
import { useCursorList } from '../../components/use-cursor-list';
import { when } from '../../format';

type Saga = ListItem<'/api/v1/admin/sagas'>;
const STATUSES = ['running', 'compensating', 'completed', 'compensated', 'failed'] as const;
type Status = (typeof STATUSES)[number];

/** `/admin/sagas`: booking and cancellation sagas, newest first, by status. */
export function AdminSagas() {
  usePageTitle('Sagas · Admin');
  const [status, setStatus] = useState<Status | ''>('');
  const list = useCursorList<Saga>(status, (cursor) =>
    api.GET('/api/v1/admin/sagas', {
      params: { query: { cursor, ...(status ? { status } : {}) } },
    }),
  );

  return (
    <>
      <h2>Sagas</h2>
      <div className="filters">
        <label>
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as Status | '')}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="button button-secondary" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <Alert message={list.error} />
      {list.items === null && !list.error && <p className="muted">Loading…</p>}
      {list.items?.length === 0 && (
        <p className="muted">{status ? `No ${status} sagas.` : 'No sagas yet.'}</p>
      )}
      {list.items && list.items.length > 0 && (
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">Saga</th>
              <th scope="col">Status</th>
              <th scope="col">Step</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last error</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((saga) => (
              <tr key={saga.id}>
                <td data-label="Saga">
                  <strong>{saga.type}</strong>
                  {saga.bookingId && (
                    <div className="small">
                      <Link to={`/bookings/${saga.bookingId}`}>
                        Booking <span className="code">{saga.bookingId.slice(0, 8)}</span>
                      </Link>
                    </div>
                  )}
                </td>
                <td data-label="Status">
                  <span className={`badge badge-${saga.status}`}>{saga.status}</span>
                </td>
                <td data-label="Step">
                  <code>{saga.step}</code>
                </td>
                <td data-label="Attempts">{saga.attempts}</td>
                <td data-label="Last error" className="break">
                  {saga.lastError ?? <span className="muted">—</span>}
                </td>
                <td data-label="Updated">{when(saga.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.more && (
        <button type="button" className="button button-secondary" onClick={list.more}>
          More sagas
        </button>
      )}
    </>
  );
}
