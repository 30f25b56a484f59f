/** Markdown tables for the terminal (and for pasting into docs/performance.md). */
import type { EndpointSummary } from './load.js';

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(cells[0]!),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...cells.slice(1).map(line),
  ].join('\n');
}

export function endpointRows(endpoints: Record<string, EndpointSummary>) {
  return Object.entries(endpoints).map(([name, e]) => [
    name,
    e.requests,
    e.perSecond,
    e.p50,
    e.p95,
    e.p99,
    e.max,
    Object.entries(e.byStatus)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', '),
  ]);
}

export const ENDPOINT_HEADERS = [
  'endpoint',
  'requests',
  'req/s',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'max ms',
  'responses',
];

export const pct = (value: number, ceiling: number | undefined) =>
  ceiling ? `${Math.round((value / ceiling) * 1000) / 10}%` : 'n/a';
