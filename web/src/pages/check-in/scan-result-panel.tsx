import { when } from '../../format';
import type { ScanResult } from './scan-result';

/**
 * The answer to the last scan, big enough to read at arm's length: a colour, a headline and
 * the details. Announced politely to screen readers as it changes.
 */
export function ScanResultPanel({ result, code }: { result: ScanResult | null; code: string }) {
  return (
    <div className="scan-result-region" role="status" aria-live="polite">
      {result && (
        <div className={`scan-result scan-result-${result.kind}`}>
          <p className="scan-result-headline">{headline(result)}</p>
          <Details result={result} />
          <p className="scan-result-code">{code}</p>
        </div>
      )}
    </div>
  );
}

function headline(result: ScanResult): string {
  switch (result.kind) {
    case 'checked_in':
      return '✓ Checked in';
    case 'already':
      return '! Already checked in';
    case 'not_found':
      return '✗ Ticket not found';
    case 'not_valid':
      return '✗ Ticket not valid';
    case 'error':
      return 'Scan failed';
  }
}

function Details({ result }: { result: ScanResult }) {
  switch (result.kind) {
    case 'checked_in':
      return (
        <>
          <p className="scan-result-holder">{result.holderName}</p>
          <p>
            {result.seat
              ? `${result.seat.section}, row ${result.seat.row}, seat ${result.seat.number}`
              : 'General admission'}
          </p>
        </>
      );
    case 'already':
      return <p>{result.at ? `First checked in at ${when(result.at)}` : 'Checked in before'}</p>;
    case 'not_found':
      return <p>No ticket of this event has this code.</p>;
    case 'not_valid':
      return <p>This ticket was cancelled.</p>;
    case 'error':
      return <p>{result.message}</p>;
  }
}
