import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { ListItem } from '../../api/list-item';
import { problemMessage } from '../../api/problems';
import { Alert } from '../../components/alert';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { usePageTitle } from '../../components/use-page-title';
import { useCursorList } from '../../components/use-cursor-list';
import { when } from '../../format';

type User = ListItem<'/api/v1/admin/users'>;
type Role = User['role'];
const ROLES: Role[] = ['user', 'organizer', 'admin'];

/** A change waiting for the admin's confirmation. */
type Pending = { user: User; change: { role: Role } | { disabled: boolean } };

/** `/admin/users`: find users by email and role, change a role, disable or enable an account. */
export function AdminUsers() {
  usePageTitle('Users · Admin');
  const [filter, setFilter] = useState<{ email?: string; role?: Role }>({});
  const list = useCursorList<User>(JSON.stringify(filter), (cursor) =>
    api.GET('/api/v1/admin/users', { params: { query: { ...filter, cursor } } }),
  );
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const email = String(form.get('email') ?? '').trim();
    const role = String(form.get('role') ?? '');
    setFilter({
      ...(email ? { email } : {}),
      ...(ROLES.includes(role as Role) ? { role: role as Role } : {}),
    });
  };

  const apply = async ({ user, change }: Pending) => {
    setBusy(true);
    setError(null);
    const {
      data,
      error: problem,
      response,
    } = await api.PATCH('/api/v1/admin/users/{id}', {
      params: { path: { id: user.id } },
      body: change,
    });
    setBusy(false);
    if (!data) return setError(problemMessage(problem, response));
    list.replace((u) => u.id === data.id, data);
    setPending(null);
    setDone(describe(data, change));
  };

  return (
    <>
      <h2>Users</h2>
      <form className="filters" role="search" onSubmit={search}>
        <label>
          <span>Email contains</span>
          <input name="email" type="search" maxLength={254} />
        </label>
        <label>
          <span>Role</span>
          <select name="role" defaultValue="">
            <option value="">Any role</option>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button">
          Search
        </button>
      </form>
      <Alert message={done} tone="info" />
      <Alert message={list.error} />
      {list.items === null && !list.error && <p className="muted">Loading…</p>}
      {list.items?.length === 0 && <p className="muted">No user matches.</p>}
      {list.items && list.items.length > 0 && (
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Joined</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((user) => (
              <UserRow
                key={user.id}
                user={user}
                onRole={(role) => {
                  setError(null);
                  setPending({ user, change: { role } });
                }}
                onDisabled={(disabled) => {
                  setError(null);
                  setPending({ user, change: { disabled } });
                }}
              />
            ))}
          </tbody>
        </table>
      )}
      {list.more && (
        <button type="button" className="button button-secondary" onClick={list.more}>
          More users
        </button>
      )}
      <ConfirmDialog
        open={pending !== null}
        title={pending ? question(pending) : ''}
        confirmLabel={pending ? confirmLabel(pending) : ''}
        danger={pending !== null && 'disabled' in pending.change && pending.change.disabled}
        busy={busy}
        error={error}
        onConfirm={() => pending && void apply(pending)}
        onClose={() => setPending(null)}
      >
        {pending && <p>{consequence(pending)}</p>}
      </ConfirmDialog>
    </>
  );
}

function UserRow({
  user,
  onRole,
  onDisabled,
}: {
  user: User;
  onRole: (role: Role) => void;
  onDisabled: (disabled: boolean) => void;
}) {
  return (
    <tr>
      <td data-label="User">
        <strong>{user.name}</strong>
        <br />
        <span className="muted small break">{user.email}</span>
      </td>
      <td data-label="Role">
        <select
          aria-label={`Role of ${user.email}`}
          value={user.role}
          onChange={(e) => onRole(e.target.value as Role)}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </td>
      <td data-label="Status">
        <span className={user.disabled ? 'badge badge-failed' : 'badge badge-confirmed'}>
          {user.disabled ? 'disabled' : 'active'}
        </span>
      </td>
      <td data-label="Joined">{when(user.createdAt)}</td>
      <td data-label="Actions">
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={() => onDisabled(!user.disabled)}
        >
          {user.disabled ? 'Enable' : 'Disable'}
          <span className="visually-hidden"> {user.email}</span>
        </button>
      </td>
    </tr>
  );
}

function question({ user, change }: Pending): string {
  if ('role' in change) return `Make ${user.name} ${article(change.role)} ${change.role}?`;
  return change.disabled ? `Disable ${user.name}?` : `Enable ${user.name}?`;
}

function confirmLabel({ change }: Pending): string {
  if ('role' in change) return `Make ${change.role}`;
  return change.disabled ? 'Disable account' : 'Enable account';
}

function consequence({ user, change }: Pending): string {
  if ('role' in change)
    return `${user.email} keeps their sessions; their current access tokens stop working and are renewed with the new role.`;
  return change.disabled
    ? `${user.email} is signed out everywhere at once and cannot sign in until enabled again.`
    : `${user.email} can sign in again.`;
}

function describe(user: User, change: Pending['change']): string {
  if ('role' in change) return `${user.email} is now ${article(user.role)} ${user.role}.`;
  return `${user.email} is ${user.disabled ? 'disabled' : 'enabled'}.`;
}

const article = (role: Role) => (role === 'admin' || role === 'organizer' ? 'an' : 'a');
