import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { ListItem } from '../../api/list-item';
import { Alert } from '../../components/alert';
import { usePageTitle } from '../../components/use-page-title';
import { useCursorList } from '../../components/use-cursor-list';
import { when } from '../../format';
import { dayEnd, dayStart } from './dates';

type Entry = ListItem<'/api/v1/admin/audit-log'>;
interface Filter {
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
}

/** The actions Evently records today, offered as suggestions (any action name is accepted). */
const ACTIONS = [
  'auth.registered',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.session_ended',
  'auth.refresh_reused',
  'user.role_changed',
  'user.disabled',
  'user.enabled',
  'venue.created',
  'event.created',
  'event.updated',
  'event.published',
  'event.cancelled',
  'hold.released',
  'booking.cancelled',
  'booking.failed',
  'payment.refunded',
  'admin.dead_letter_retried',
];
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/**
 * `/admin/audit`: the append-only audit log, newest first, filtered as the API allows: by the
 * acting user, the action, and a date range.
 */
export function AdminAuditLog() {
  usePageTitle('Audit log · Admin');
  const [filter, setFilter] = useState<Filter>({});
  const list = useCursorList<Entry>(JSON.stringify(filter), (cursor) =>
    api.GET('/api/v1/admin/audit-log', { params: { query: { ...filter, cursor } } }),
  );

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (name: string) => String(form.get(name) ?? '').trim() || undefined;
    setFilter(
      withoutEmpty({
        actor: text('actor'),
        action: text('action'),
        from: dayStart(form.get('from')),
        to: dayEnd(form.get('to')),
      }),
    );
  };

  return (
    <>
      <h2>Audit log</h2>
      <form className="filters" role="search" aria-label="Audit log filters" onSubmit={submit}>
        <label>
          <span>Action</span>
          <input name="action" list="audit-actions" pattern="[a-z_]+\.[a-z_]+" />
          <datalist id="audit-actions">
            {ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <label>
          <span>Actor (user id)</span>
          <input
            name="actor"
            key={filter.actor ?? ''}
            defaultValue={filter.actor}
            pattern={UUID}
            title="A user id (UUID)"
          />
        </label>
        <label>
          <span>From</span>
          <input name="from" type="date" />
        </label>
        <label>
          <span>To (inclusive)</span>
          <input name="to" type="date" />
        </label>
        <button type="submit" className="button">
          Filter
        </button>
      </form>
      <Alert message={list.error} />
      {list.items === null && !list.error && <p className="muted">Loading…</p>}
      {list.items?.length === 0 && <p className="muted">No entries match.</p>}
      {list.items && list.items.length > 0 && (
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Actor</th>
              <th scope="col">Target</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((entry) => (
              <tr key={entry.id}>
                <td data-label="When">{when(entry.occurredAt)}</td>
                <td data-label="Action">
                  <code>{entry.action}</code>
                </td>
                <td data-label="Actor">
                  {entry.actorId ? (
                    <button
                      type="button"
                      className="link-button code small"
                      title="Show only this actor's entries"
                      onClick={() => setFilter({ ...filter, actor: entry.actorId! })}
                    >
                      {entry.actorRole} {entry.actorId}
                    </button>
                  ) : (
                    <span className="muted">{entry.actorRole ?? 'system'}</span>
                  )}
                  {entry.ip && <div className="muted small">from {entry.ip}</div>}
                </td>
                <td data-label="Target" className="code small">
                  {entry.targetType ? `${entry.targetType} ${entry.targetId ?? ''}` : '—'}
                </td>
                <td data-label="Change" className="code small">
                  {change(entry)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.more && (
        <button type="button" className="button button-secondary" onClick={list.more}>
          More entries
        </button>
      )}
    </>
  );
}

/** `{"disabled":false} → {"disabled":true}`: what the action changed, in one line. */
function change(entry: Entry): string {
  const show = (v: Record<string, unknown> | null) => (v ? JSON.stringify(v) : '');
  if (entry.before && entry.after) return `${show(entry.before)} → ${show(entry.after)}`;
  return show(entry.after) || show(entry.before) || '—';
}

function withoutEmpty(filter: Filter): Filter {
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined));
}
