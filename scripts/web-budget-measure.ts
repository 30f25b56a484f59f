import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, startWebApp, type WebApp } from '../test/support/browser.js';
import { createEvent, seatRows } from '../test/support/fixtures.js';
import type { SignedIn } from '../test/support/test-app.js';
import { PROBES } from './web-budget-probes.js';

// `npm run web:budget -- --measure`: the 20,000-seat map in Chromium. Evently runs embedded in
// this process (the test configuration: PGlite, in-process bus and pub/sub), the event is made
// through the API, and every page is a fresh browser profile at 1280×800, so the first load is
// a cold one (nothing cached).

const SECTIONS = 20;
const ROWS = 20;
const SEATS_PER_ROW = 50;
const SEAT_COUNT = SECTIONS * ROWS * SEATS_PER_ROW;
const LOAD_RUNS = 3;
const HOLD_RUNS = 3;

interface Figure {
  what: string;
  samples: number[];
  /** Frame times report their 95th percentile as the worst case instead of the maximum. */
  worst?: 'max' | 'p95';
}

export async function measureSeatMap(): Promise<void> {
  const app = await startWebApp();
  let browser: Browser | undefined;
  try {
    await app.t.deps.start({ api: true, workers: true });
    const eventId = await arenaEvent(app);
    browser = await launchChromium();
    const figures: Figure[] = [];

    const loads: number[] = [];
    const seatsArrived: number[] = [];
    let seatsJsonBytes = 0;
    for (let run = 0; run < LOAD_RUNS; run++) {
      const page = await freshPage(browser);
      await page.goto(`${app.base}/events/${eventId}`, { waitUntil: 'commit' });
      loads.push(await page.evaluate<number>('window.__budget.seatsDrawn()'));
      await assertAllSeats(page);
      seatsJsonBytes = await page.evaluate<number>(`window.__budget.transferred('/seats')`);
      seatsArrived.push(await page.evaluate<number>(`window.__budget.arrived('/seats')`));
      await page.context().close();
    }
    figures.push({
      what: `navigation → all ${SEAT_COUNT.toLocaleString('en')} seats drawn (cold)`,
      samples: loads,
    });
    figures.push({
      what: '… of which waiting for the seat map (GET /events/:id/seats fully received)',
      samples: seatsArrived,
    });

    const page = await freshPage(browser);
    await signInToEvent(page, app, await app.t.signUp('user'), eventId);
    const seats = page.locator('[data-seat-id]');
    const selections: number[] = [];
    const holds: number[] = [];
    for (let run = 0; run < HOLD_RUNS; run++) {
      for (const index of [run * 2, run * 2 + 1]) {
        const seat = seats.nth(index);
        const id = (await seat.getAttribute('data-seat-id'))!;
        const box = (await seat.boundingBox())!;
        selections.push(
          await timed(page, `'seatSelected', '${id}'`, () =>
            page.mouse.click(box.x + box.width / 2, box.y + box.height / 2),
          ),
        );
      }
      holds.push(
        await timed(page, `'checkoutShown'`, () =>
          page.getByRole('button', { name: 'Hold seats' }).click(),
        ),
      );
      await page.getByRole('button', { name: 'Release the hold' }).click();
      await page.getByRole('button', { name: 'Hold seats' }).waitFor();
      await assertAllSeats(page);
    }
    figures.push({ what: 'click a seat → shown selected', samples: selections });
    figures.push({
      what: 'click Hold → checkout panel shown (POST /holds included)',
      samples: holds,
    });

    figures.push({
      what: "another buyer's hold (API answer) → seat shown held",
      samples: await liveLatencies(app, page, await app.t.signUp('user'), eventId),
    });
    figures.push({
      what: 'frame interval while zooming (wheel) and dragging',
      samples: await gestureFrames(page),
      worst: 'p95',
    });

    report(figures, seatsJsonBytes, browser.version());
  } finally {
    await browser?.close();
    await app.t.close();
  }
}

/** A venue of SECTIONS × ROWS × SEATS_PER_ROW seats and a published event in it, via the API. */
async function arenaEvent({ t }: WebApp): Promise<string> {
  const organizer = await t.signUp('organizer');
  const venue = await t.inject({
    method: 'POST',
    url: '/api/v1/venues',
    headers: organizer.auth,
    payload: {
      name: 'Budget Arena',
      address: '1 Measure Street',
      city: 'Benchville',
      timezone: 'Europe/Berlin',
      sections: Array.from({ length: SECTIONS }, (_, i) => ({
        name: `${i + 1}`,
        rows: seatRows(ROWS, SEATS_PER_ROW),
      })),
    },
  });
  if (venue.statusCode !== 201) throw new Error(`venue: ${venue.body}`);
  const event = await createEvent(t, organizer, {
    seating: 'reserved',
    venueId: venue.json<{ id: string }>().id,
    name: `Budget Arena ${randomUUID().slice(0, 8)}`,
  });
  return event.id;
}

async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(PROBES);
  return context.newPage();
}

async function assertAllSeats(page: Page): Promise<void> {
  const drawn = await page.locator('[data-seat-id]').count();
  if (drawn !== SEAT_COUNT)
    throw new Error(`expected ${SEAT_COUNT} seats on the map, found ${drawn}`);
}

async function signInToEvent(page: Page, { base }: WebApp, user: SignedIn, eventId: string) {
  await page.goto(`${base}/login?next=${encodeURIComponent(`/events/${eventId}`)}`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel(/^Password/).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/events/${eventId}`);
  await page.evaluate('window.__budget.seatsDrawn()');
  await page
    .getByRole('status')
    .filter({ hasText: /^Live$/ })
    .waitFor();
  await page.locator('[aria-label="Seat map"]').scrollIntoViewIfNeeded();
}

/** Arms an in-page timer, performs `act`, and returns what the page measured. */
async function timed(page: Page, condition: string, act: () => Promise<unknown>): Promise<number> {
  const result = page.evaluate<number>(`window.__budget.timeUntil(${condition})`);
  await page.evaluate('0'); // the timer is armed once this later evaluation has answered
  await act();
  return result;
}

/** From another buyer's hold answered by the API to its seat reading "held" on the page. */
async function liveLatencies(app: WebApp, page: Page, other: SignedIn, eventId: string) {
  const samples: number[] = [];
  for (let run = 0; run < 3; run++) {
    const seat = page.locator('[data-seat-id]').nth(SEAT_COUNT - 1 - run);
    const seatId = (await seat.getAttribute('data-seat-id'))!;
    const hold = await app.t.inject({
      method: 'POST',
      url: `/api/v1/events/${eventId}/holds`,
      headers: { ...other.auth, 'idempotency-key': randomUUID() },
      payload: { seatIds: [seatId] },
    });
    if (hold.statusCode !== 201) throw new Error(`hold: ${hold.body}`);
    const answered = performance.now();
    while (!(await seat.getAttribute('aria-label'))!.endsWith(', held')) {
      if (performance.now() - answered > 10_000) throw new Error('the held seat never showed');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    samples.push(performance.now() - answered);
  }
  return samples;
}

/** Frame intervals while the wheel zooms in at the centre, a drag pans, and the wheel zooms out. */
async function gestureFrames(page: Page): Promise<number[]> {
  const box = (await page.locator('[aria-label="Seat map"]').boundingBox())!;
  const x = box.x + box.width / 2;
  const y = box.y + Math.min(box.height, 800 - box.y) / 2;
  await page.mouse.move(x, y);
  await page.evaluate('window.__budget.startFrames()');
  for (let i = 0; i < 10; i++) await page.mouse.wheel(0, -120);
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) await page.mouse.move(x - i * 15, y - i * 5);
  await page.mouse.up();
  for (let i = 0; i < 10; i++) await page.mouse.wheel(0, 120);
  await page.waitForTimeout(200);
  return page.evaluate<number[]>('window.__budget.stopFrames()');
}

function report(figures: Figure[], seatsJsonBytes: number, chromium: string): void {
  const ms = (n: number) => `${Math.round(n).toLocaleString('en')} ms`;
  console.log(
    `\nThe ${SEAT_COUNT.toLocaleString('en')}-seat map in Chromium ${chromium} (headless, 1280×800):\n`,
  );
  console.log('| measure | median | worst | samples |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const f of figures) {
    const sorted = [...f.samples].sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    const worst =
      f.worst === 'p95'
        ? `${ms(sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!)} (p95)`
        : ms(sorted.at(-1)!);
    console.log(`| ${f.what} | ${ms(median)} | ${worst} | ${f.samples.length} |`);
  }
  console.log(`\nGET /events/:id/seats body: ${(seatsJsonBytes / 1024 / 1024).toFixed(2)} MiB`);
  console.log(`Machine load: ${execFileSync('uptime').toString().trim()}`);
}
