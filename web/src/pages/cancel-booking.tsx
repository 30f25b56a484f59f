import { useState } from 'react';
import { api } from '../api/client';
import { isProblem, problemMessage } from '../api/problems';
import { ConfirmDialog } from '../components/confirm-dialog';
import { money } from '../format';

interface CancellableBooking {
  id: string;
  status: string;
  quantity: number;
  totalCents: number;
  currency: string;
}

/** What `POST /bookings/:id/cancel` answered. */
export interface Cancellation {
  refundCents: number;
}

/**
 * Cancel a booking, after a confirmation that says what comes back. The API cancels confirmed
 * bookings only, and a holder's cancellation refunds the whole amount paid (src/modules/bookings:
 * the cancellation saga refunds `totalCents`); the answer's `refundCents` is shown afterwards.
 */
export function CancelBooking({
  booking,
  onCancelled,
}: {
  booking: CancellableBooking;
  onCancelled: (result: Cancellation) => void;
}) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (booking.status !== 'confirmed') return null;

  const refund = money(booking.totalCents, booking.currency);
  const tickets =
    booking.quantity === 1 ? 'Your ticket stops' : `Your ${booking.quantity} tickets stop`;

  const cancel = async () => {
    setBusy(true);
    setError(null);
    const {
      data,
      error: problem,
      response,
    } = await api.POST('/api/v1/bookings/{id}/cancel', {
      params: { path: { id: booking.id } },
    });
    setBusy(false);
    if (!data) return setError(cancelProblem(problem, response));
    setOpen(false);
    onCancelled({ refundCents: data.refundCents });
  };

  return (
    <div className="booking-actions">
      <button
        type="button"
        className="button button-secondary"
        onClick={() => {
          setError(null);
          setOpen(true);
        }}
      >
        Cancel booking
      </button>
      <ConfirmDialog
        open={open}
        title="Cancel this booking?"
        confirmLabel={`Cancel and refund ${refund}`}
        cancelLabel="Keep booking"
        danger
        busy={busy}
        error={error}
        onConfirm={() => void cancel()}
        onClose={() => setOpen(false)}
      >
        <p className="refund-line">
          You will be refunded <strong>{refund}</strong>, the full amount you paid.
        </p>
        <p className="muted">{tickets} working at once and cannot be restored.</p>
      </ConfirmDialog>
    </div>
  );
}

/** A refund the provider cannot take now still completes later: say so, not "try again". */
function cancelProblem(problem: unknown, response: Response): string {
  if (isProblem(problem) && problem.code === 'PAYMENT_UNAVAILABLE') {
    const retryAfter = Number(response.headers.get('retry-after'));
    return `The refund could not be made right now. Your cancellation is recorded and will complete on its own${retryAfter > 0 ? `; check again in ${retryAfter} s` : ''}.`;
  }
  return problemMessage(problem, response);
}
