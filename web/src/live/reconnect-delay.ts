const FIRST_MS = 1_000;
const MAX_MS = 30_000;

/**
 * How long to wait before reconnect attempt `attempt` (0-based): 1 s, 2 s, 4 s … up to 30 s,
 * each between half and the full value, so that after a server restart its clients do not all
 * knock at the same instant.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_MS, FIRST_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
