import type { paths } from '../../api/client';

export type EventAnalytics =
  paths['/api/v1/events/{id}/analytics']['get']['responses'][200]['content']['application/json'];
export type HourOfSales = EventAnalytics['salesByHour'][number];

const HOUR_MS = 3_600_000;
/** Past this many hours the series keeps only the hours with sales (a long sale: mostly zeros). */
const MAX_FILLED_HOURS = 24 * 31;

export interface SalesSeries {
  /** Hour starts, in seconds (uPlot's time unit). */
  hours: number[];
  tickets: number[];
  revenueCents: number[];
  cumulativeRevenueCents: number[];
}

/**
 * The API lists only hours that had sales; the charts want every hour from the first sale to
 * the current hour (zeros where nothing sold), so the bars keep their places on the time axis
 * and the revenue line runs up to now. At least two hours: uPlot stretches a lone point's time
 * axis over years.
 */
export function salesSeries(salesByHour: HourOfSales[], now = Date.now()): SalesSeries {
  const byHour = new Map(salesByHour.map((h) => [Date.parse(h.hour), h]));
  const starts = [...byHour.keys()].sort((a, b) => a - b);
  const first = starts[0];
  const series: SalesSeries = {
    hours: [],
    tickets: [],
    revenueCents: [],
    cumulativeRevenueCents: [],
  };
  if (first === undefined) return series;
  const last = Math.max(starts.at(-1)!, Math.floor(now / HOUR_MS) * HOUR_MS, first + HOUR_MS);
  const hours =
    (last - first) / HOUR_MS <= MAX_FILLED_HOURS
      ? Array.from({ length: (last - first) / HOUR_MS + 1 }, (_, i) => first + i * HOUR_MS)
      : [...starts, ...(starts.length === 1 ? [first + HOUR_MS] : [])];
  let running = 0;
  for (const start of hours) {
    const h = byHour.get(start);
    running += h?.revenueCents ?? 0;
    series.hours.push(start / 1000);
    series.tickets.push(h?.tickets ?? 0);
    series.revenueCents.push(h?.revenueCents ?? 0);
    series.cumulativeRevenueCents.push(running);
  }
  return series;
}
