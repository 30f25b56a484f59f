import type { LiveState } from './event-live-socket';

const WORDS: Record<LiveState, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Live updates unavailable',
};

/** Whether what the buyer sees is kept up to date; announced politely when that changes. */
export function LiveBadge({ connection }: { connection: LiveState }) {
  return (
    <p className={`live-badge live-badge-${connection}`} role="status">
      {WORDS[connection]}
    </p>
  );
}
