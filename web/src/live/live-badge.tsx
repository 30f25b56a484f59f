import type { LiveConnection } from './use-event-live';

const WORDS: Record<LiveConnection, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unavailable: 'Live updates unavailable',
};

/** Whether what the buyer sees is kept up to date; announced politely when that changes. */
export function LiveBadge({ connection }: { connection: LiveConnection }) {
  return (
    <p className={`live-badge live-badge-${connection}`} role="status">
      {WORDS[connection]}
    </p>
  );
}
