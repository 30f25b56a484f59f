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

/** What openapi-fetch answers for login and register. */
interface SignInAnswer {
  data?: Parameters<typeof session.signIn>[0];
  error?: Parameters<typeof problemMessage>[0];
  response: Response;
}

/**
 * Login and registration end the same way: the tokens go to the session and the user to
 * `next`; a refusal becomes the form's message.
 */
function useSignInForm(next: string, send: (form: FormData) => Promise<SignInAnswer>) {
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setBusy(true);
    const { data, error: problem, response } = await send(new FormData(e.currentTarget));
    setBusy(false);
    if (!data) return setError(problemMessage(problem, response));
    session.signIn(data);
    navigate(next);
  };
  return { error, busy, submit };
}

export function LoginPage() {
  usePageTitle('Sign in');
  const next = useNext();
  const { error, busy, submit } = useSignInForm(next, (form) =>
    api.POST('/api/v1/auth/login', {
      body: { email: String(form.get('email')), password: String(form.get('password')) },
    }),
  );

  // Read once: signing in again clears it, and the message should stay while the form is used.
  const [expired] = useState(() => session.endedBy() === 'expired');

  return (
    <section className="narrow">
      <h1>Sign in</h1>
      <form className="stack card" onSubmit={(e) => void submit(e)}>
        <Alert message={expired ? 'Your session has expired — sign in again' : null} tone="info" />
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
  const next = useNext();
  const { error, busy, submit } = useSignInForm(next, (form) =>
    api.POST('/api/v1/auth/register', {
      body: {
        name: String(form.get('name')),
        email: String(form.get('email')),
        password: String(form.get('password')),
      },
    }),
  );

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
