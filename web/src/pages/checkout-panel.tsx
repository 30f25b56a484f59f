import { useEffect, useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, type paths } from '../api/client';
import { problemMessage } from '../api/problems';
import { Alert } from '../components/alert';
import { money, newKey } from '../format';

export type Hold =
  paths['/api/v1/events/{id}/holds']['post']['responses'][201]['content']['application/json'];

const TEST_CARDS = [
  { token: 'tok_visa', label: 'Pay with test Visa' },
  { token: 'tok_declined', label: 'Pay with a declined card' },
] as const;

/**
 * The held tickets: a countdown to expiresAt, the total, and payment with the simulated
 * gateway's test cards. Each (hold, card) pair has its own Idempotency-Key, so a double click
 * never books twice, while a declined card can be followed by another one.
 */
export function CheckoutPanel({
  hold,
  onExpired,
  onReleased,
}: {
  hold: Hold;
  onExpired: () => void;
  onReleased: () => void;
}) {
  const navigate = useNavigate();
  const remaining = useCountdown(hold.expiresAt);
  const keys = useMemo(() => new Map<string, string>(), []);
  const [paying, setPaying] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (remaining === 0) onExpired();
  }, [remaining, onExpired]);

  const pay = async (token: string) => {
    if (!keys.has(token)) keys.set(token, newKey());
    setPaying(true);
    setError(null);
    const { data, error, response } = await api.POST('/api/v1/bookings', {
      params: { header: { 'idempotency-key': keys.get(token)! } },
      body: { holdId: hold.id, payment: { token } },
    });
    setPaying(false);
    if (data) return navigate(`/bookings/${data.id}`);
    if (response.status === 410) return onExpired();
    setError(problemMessage(error, response));
  };

  const release = async () => {
    await api.DELETE('/api/v1/holds/{id}', { params: { path: { id: hold.id } } });
    onReleased();
  };

  const minutes = Math.floor(remaining / 60);
  const seconds = String(remaining % 60).padStart(2, '0');
  return (
    <section className="card checkout" aria-labelledby="checkout-title">
      <h2 id="checkout-title">Your tickets are held</h2>
      <p className="countdown" role="timer" aria-live="off">
        Held for <strong>{`${minutes}:${seconds}`}</strong>
      </p>
      <p>
        {hold.quantity} {hold.quantity === 1 ? 'ticket' : 'tickets'} ·{' '}
        <strong>Total {money(hold.totalCents, hold.currency)}</strong>
      </p>
      <Alert message={error} />
      <div className="button-row">
        {TEST_CARDS.map((card) => (
          <button
            key={card.token}
            type="button"
            className={card.token === 'tok_visa' ? 'button' : 'button button-secondary'}
            disabled={paying}
            onClick={() => void pay(card.token)}
          >
            {card.label}
          </button>
        ))}
        <button type="button" className="link-button" onClick={() => void release()}>
          Release the hold
        </button>
      </div>
      <p className="muted small">Payments are simulated: no real card is charged.</p>
    </section>
  );
}

function useCountdown(expiresAt: string): number {
  const left = () => Math.max(0, Math.round((Date.parse(expiresAt) - Date.now()) / 1000));
  const [remaining, setRemaining] = useState(left);
  useEffect(() => {
    const timer = setInterval(() => setRemaining(left()), 1000);
    return () => clearInterval(timer);
  }, [expiresAt]);
  return remaining;
}
