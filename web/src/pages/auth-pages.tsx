import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api } from '../api/client';
import { problemMessage } from '../api/problems';
import { Alert } from '../components/alert';
import { usePageTitle } from '../components/use-page-title';
import { session } from '../session/session';

/** Where to go after signing in: the page that sent the user here, if it is ours. */
function useNext(): string {
  const [params] = useSearchParams();
  const next = params.get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function LoginPage() {
  usePageTitle('Sign in');
  const navigate = useNavigate();
  const next = useNext();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    const { data, error, response } = await api.POST('/api/v1/auth/login', {
      body: { email: String(form.get('email')), password: String(form.get('password')) },
    });
    setBusy(false);
    if (!data) return setError(problemMessage(error, response));
    session.signIn(data);
    navigate(next);
  };

  return (
    <section className="narrow">
      <h1>Sign in</h1>
      <form className="stack card" onSubmit={(e) => void submit(e)}>
        <Alert message={error} />
        <label>
          <span>Email</span>
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          <span>Password</span>
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" className="button" disabled={busy}>
          Sign in
        </button>
        <p className="muted">
          New here? <Link to={`/register?next=${encodeURIComponent(next)}`}>Create an account</Link>
        </p>
      </form>
    </section>
  );
}

export function RegisterPage() {
  usePageTitle('Create account');
  const navigate = useNavigate();
  const next = useNext();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    const { data, error, response } = await api.POST('/api/v1/auth/register', {
      body: {
        name: String(form.get('name')),
        email: String(form.get('email')),
        password: String(form.get('password')),
      },
    });
    setBusy(false);
    if (!data) return setError(problemMessage(error, response));
    session.signIn(data);
    navigate(next);
  };

  return (
    <section className="narrow">
      <h1>Create your account</h1>
      <form className="stack card" onSubmit={(e) => void submit(e)}>
        <Alert message={error} />
        <label>
          <span>Name</span>
          <input name="name" autoComplete="name" required />
        </label>
        <label>
          <span>Email</span>
          <input name="email" type="email" autoComplete="email" required />
        </label>
        <label>
          <span>Password (at least 10 characters)</span>
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            minLength={10}
            required
          />
        </label>
        <button type="submit" className="button" disabled={busy}>
          Create account
        </button>
        <p className="muted">
          Already registered? <Link to={`/login?next=${encodeURIComponent(next)}`}>Sign in</Link>
        </p>
      </form>
    </section>
  );
}
