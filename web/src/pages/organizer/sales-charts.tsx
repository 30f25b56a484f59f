import { memo, useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { money } from '../../format';
import { salesSeries, type HourOfSales } from './sales-series';

const HEIGHT = 220;
const hourFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});

/**
 * Sales by hour (bars) and cumulative revenue (a line), drawn by uPlot on canvas. uPlot sets
 * its element styles through the CSSOM, which the CSP's style-src 'self' allows. The canvases
 * are hidden from screen readers: each figure says what it shows in words and has the same
 * numbers as a table under "Show the numbers".
 */
export const SalesCharts = memo(function SalesCharts({
  salesByHour,
  currency,
}: {
  salesByHour: HourOfSales[];
  currency: string;
}) {
  const series = useMemo(() => salesSeries(salesByHour), [salesByHour]);
  // Stable between renders: a chart is rebuilt only when its numbers change.
  const ticketData = useMemo<[number[], number[]]>(() => [series.hours, series.tickets], [series]);
  const revenueData = useMemo<[number[], number[]]>(
    () => [series.hours, series.cumulativeRevenueCents.map((c) => c / 100)],
    [series],
  );
  const totalTickets = series.tickets.reduce((a, b) => a + b, 0);
  const totalRevenue = series.cumulativeRevenueCents.at(-1) ?? 0;
  const busiest = series.tickets.reduce(
    (best, tickets, i) => (tickets > best.tickets ? { tickets, i } : best),
    { tickets: 0, i: -1 },
  );
  const hourOf = (i: number) => hourFormat.format(new Date(series.hours[i]! * 1000));
  const rows = series.hours
    .map((_, i) => i)
    .filter((i) => series.tickets[i]! > 0 || series.revenueCents[i]! > 0);

  return (
    <div className="charts">
      <figure className="chart-figure">
        <figcaption>
          <strong>Tickets sold per hour</strong>{' '}
          <span className="muted small">
            {totalTickets} {totalTickets === 1 ? 'ticket' : 'tickets'} since {hourOf(0)}
            {busiest.i >= 0 ? `; busiest hour ${hourOf(busiest.i)} with ${busiest.tickets}` : ''}.
          </span>
        </figcaption>
        <Chart data={ticketData} label="Tickets" kind="bars" format={wholeNumber} />
      </figure>
      <figure className="chart-figure">
        <figcaption>
          <strong>Cumulative revenue</strong>{' '}
          <span className="muted small">
            {money(totalRevenue, currency)} in total (gross, before refunds).
          </span>
        </figcaption>
        <Chart data={revenueData} label={`Revenue (${currency})`} kind="line" format={amount} />
      </figure>
      <details className="chart-data">
        <summary>Show the numbers</summary>
        {/* Scrolls on its own on a phone; focusable so the keyboard can scroll it too. */}
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Sales per hour">
          <table>
            <caption className="visually-hidden">Sales per hour</caption>
            <thead>
              <tr>
                <th scope="col">Hour starting</th>
                <th scope="col">Tickets</th>
                <th scope="col">Revenue</th>
                <th scope="col">Revenue so far</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((i) => (
                <tr key={series.hours[i]}>
                  <th scope="row">{hourOf(i)}</th>
                  <td>{series.tickets[i]}</td>
                  <td>{money(series.revenueCents[i]!, currency)}</td>
                  <td>{money(series.cumulativeRevenueCents[i]!, currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
});

const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000];
const wholeNumber = (value: number) => String(value);
const amount = (value: number) => value.toFixed(2);

/** The chart colours from the design tokens, so the canvas follows light and dark mode. */
function palette() {
  const css = getComputedStyle(document.documentElement);
  const token = (name: string) => css.getPropertyValue(name).trim();
  return {
    accent: token('--color-primary'),
    text: token('--color-muted'),
    grid: token('--color-border'),
  };
}

function useColorScheme(): string {
  const query = useMemo(() => window.matchMedia('(prefers-color-scheme: dark)'), []);
  const [scheme, setScheme] = useState(query.matches ? 'dark' : 'light');
  useEffect(() => {
    const change = () => setScheme(query.matches ? 'dark' : 'light');
    query.addEventListener('change', change);
    return () => query.removeEventListener('change', change);
  }, [query]);
  return scheme;
}

function Chart({
  data,
  label,
  kind,
  format,
}: {
  data: [number[], number[]];
  label: string;
  kind: 'bars' | 'line';
  format: (value: number) => string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const scheme = useColorScheme();
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const colors = palette();
    const axis = {
      stroke: colors.text,
      grid: { stroke: colors.grid, width: 1 },
      ticks: { show: false },
    };
    const chart = new uPlot(
      {
        width: element.clientWidth,
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          // Half an hour either side, so the first and last bars are drawn whole.
          x: { time: true, range: (_u, min, max) => [min - 1800, max + 1800] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
        },
        axes: [
          axis,
          {
            ...axis,
            values: (_u, ticks) => ticks.map(format),
            size: 56,
            // Whole tickets: no 0.5 steps on the count axis.
            ...(kind === 'bars' ? { incrs: WHOLE_STEPS } : {}),
          },
        ],
        series: [
          {},
          kind === 'bars'
            ? {
                label,
                stroke: colors.accent,
                fill: colors.accent,
                paths: uPlot.paths.bars!({ size: [0.7, 40] }),
                points: { show: false },
              }
            : { label, stroke: colors.accent, width: 2, points: { show: data[0].length < 30 } },
        ],
      },
      data,
      element,
    );
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: element.clientWidth, height: HEIGHT }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [data, label, kind, format, scheme]);
  return <div ref={ref} className="chart" aria-hidden="true" />;
}
