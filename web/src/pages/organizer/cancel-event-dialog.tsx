import { useEffect, useRef } from 'react';

/**
 * Asks before cancelling: cancelling refunds every confirmed booking and tells its holders,
 * and cannot be undone. A native modal <dialog>: it keeps the focus inside and Escape closes it.
 */
export function CancelEventDialog({
  open,
  eventName,
  sold,
  busy,
  onConfirm,
  onClose,
}: {
  open: boolean;
  eventName: string;
  sold: number;
  busy: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="cancel-title"
      aria-describedby="cancel-consequence"
      onClose={onClose}
    >
      <h2 id="cancel-title">Cancel “{eventName}”?</h2>
      <p id="cancel-consequence">
        {sold > 0
          ? `Every confirmed booking is refunded in full (${sold} ${sold === 1 ? 'ticket' : 'tickets'} sold so far) and its holders are notified.`
          : 'No tickets are sold yet; any booking made meanwhile is refunded in full and its holder notified.'}{' '}
        Sales stop at once. This cannot be undone.
      </p>
      <div className="button-row">
        <button type="button" className="button button-danger" disabled={busy} onClick={onConfirm}>
          {busy ? 'Cancelling…' : 'Cancel event and refund bookings'}
        </button>
        <button type="button" className="button button-secondary" autoFocus onClick={onClose}>
          Keep the event
        </button>
      </div>
    </dialog>
  );
}
