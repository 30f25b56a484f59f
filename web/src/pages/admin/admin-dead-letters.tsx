import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { ListItem } from '../../api/list-item';
import { problemMessage } from '../../api/problems';
import { Alert } from '../../components/alert';
import { usePageTitle } from '../../components/use-page-title';
import { useCursorList } from '../../components/use-cursor-list';
import { when } from '../../format';

type DeadLetter = ListItem<'/api/v1/admin/dead-letters'>;
/** What a retry answered, per letter: requeued, or the API's reason why not. */
type Outcome = { ok: true } | { ok: false; message: string };

/**
 * `/admin/dead-letters`: messages a consumer failed on every attempt, newest first; each can
 * be put back on its consumer's queue once, and the page says what the API answered.
 */
export function AdminDeadLetters() {
  usePageTitle('Dead letters · Admin');
  const [consumer, setConsumer] = useState('');
  const list = useCursorList<DeadLetter>(consumer, (cursor) =>
    api.GET('/api/v1/admin/dead-letters', {
      params: { query: { cursor, ...(consumer ? { consumer } : {}) } },
    }),
  );
  const [outcomes, setOutcomes] = useState<Record<string, Outcome>>({});
  const [busy, setBusy] = useState<string | null>(null);

  const retry = async (letter: DeadLetter) => {
    setBusy(letter.id);
    const { data, error, response } = await api.POST('/api/v1/admin/dead-letters/{id}/retry', {
      params: { path: { id: letter.id } },
    });
    setBusy(null);
    setOutcomes((o) => ({
      ...o,
      [letter.id]: data ? { ok: true } : { ok: false, message: problemMessage(error, response) },
    }));
    if (data)
      list.replace((d) => d.id === letter.id, { ...letter, retriedAt: new Date().toISOString() });
  };

  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setConsumer(String(new FormData(e.currentTarget).get('consumer') ?? '').trim());
  };

  return (
    <>
      <h2>Dead letters</h2>
      <form className="filters" role="search" aria-label="Dead letter filter" onSubmit={search}>
        <label>
          <span>Consumer</span>
          <input name="consumer" maxLength={100} />
        </label>
        <button type="submit" className="button">
          Filter
        </button>
      </form>
      <Alert message={list.error} />
      {list.items === null && !list.error && <p className="muted">Loading…</p>}
      {list.items?.length === 0 && (
        <p className="muted">
          No dead letters{consumer ? ` for ${consumer}` : ''}: every message was handled.
        </p>
      )}
      <ul className="list">
        {list.items?.map((letter) => (
          <li key={letter.id} className="card dead-letter">
            <div className="dead-letter-head">
              <h3>
                <code>{letter.type}</code> for <code>{letter.consumer}</code>
              </h3>
              <span className="muted small">
                {letter.attempts} attempts ·{' '}
                <time dateTime={letter.createdAt}>{when(letter.createdAt)}</time>
              </span>
            </div>
            <p className="alert alert-error break">{letter.error}</p>
            <details>
              <summary>Payload</summary>
              <pre className="code small payload">{JSON.stringify(letter.payload, null, 2)}</pre>
            </details>
            <div className="button-row">
              <button
                type="button"
                className="button button-small"
                disabled={busy === letter.id || letter.retriedAt !== null}
                onClick={() => void retry(letter)}
              >
                Retry
                <span className="visually-hidden">
                  {' '}
                  {letter.type} for {letter.consumer}
                </span>
              </button>
              {letter.retriedAt && (
                <span className="muted small">
                  Requeued <time dateTime={letter.retriedAt}>{when(letter.retriedAt)}</time>
                </span>
              )}
            </div>
            <RetryOutcome outcome={outcomes[letter.id]} />
          </li>
        ))}
      </ul>
      {list.more && (
        <button type="button" className="button button-secondary" onClick={list.more}>
          More dead letters
        </button>
      )}
    </>
  );
}

function RetryOutcome({ outcome }: { outcome: Outcome | undefined }) {
  if (!outcome) return null;
  return outcome.ok ? (
    <Alert tone="info" message="Requeued: the consumer gets the message again." />
  ) : (
    <Alert message={`Not requeued. ${outcome.message}`} />
  );
}
