import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  saveScreenshot,
  seriousViolations,
  signInThroughPage,
  startWebApp,
  watchPageErrors,
} from './support/browser.js';
import { bookedEvent } from './support/check-ins.js';
import type { SignedIn, TestApp } from './support/test-app.js';

// The door in a real headless Chromium against a real Evently (API and workers, so the live
// count travels outbox → consumer → WebSocket), with the server's CSP enforced: the organizer
// signs in through the login page, opens the event's check-in page, types a booked ticket's
// code (as a USB scanner does: the code, then Enter) and sees "Checked in" with the holder and
// seat; the same code again is "Already checked in" with the first time; an unknown code is
// "not found". axe-core finds no serious or critical violation; screenshots are saved.

let t: TestApp;
let base: string;
let browser: Browser;
let organizer: SignedIn;
let eventId: string;
let codes: string[];

beforeAll(async () => {
  ({ t, base } = await startWebApp({ OUTBOX_POLL_MS: '100' }));
  await t.deps.start({ api: true, workers: true });
  organizer = await t.signUp('organizer');
  const buyer = await t.signUp();
  ({ eventId, codes } = await bookedEvent(t, organizer, buyer, {
    seating: 'reserved',
    tickets: 2,
    name: 'Door Night',
  }));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function scan(page: Page, code: string): Promise<void> {
  const field = page.getByLabel('Ticket code');
  await field.fill(code);
  await field.press('Enter');
}

describe('an organizer at the door, in Chromium', () => {
  it('checks a booked ticket in by its code, then is told it is already checked in', async () => {
    const page = await browser.newPage();
    const problems = watchPageErrors(page);
    await signInThroughPage(page, base, organizer);
    await page.goto(`${base}/organizer/events/${eventId}/check-in`);
    await page.getByRole('heading', { name: 'Check-in: Door Night' }).waitFor();
    await page.getByText('0 of 2 checked in').waitFor();
    // This Chromium has no BarcodeDetector on Linux: the page says so; where it has one, the
    // camera button is offered instead.
    await page
      .getByText('Camera scanning is not available in this browser')
      .or(page.getByRole('button', { name: 'Scan with camera' }))
      .waitFor();
    expect(await seriousViolations(page), 'check-in page').toEqual([]);
    await saveScreenshot(page, 'checkin-ready');

    const result = page.getByRole('status');
    await scan(page, codes[0]!);
    await result.getByText('Checked in', { exact: false }).waitFor();
    await expect
      .poll(() => result.textContent())
      .toMatch(/✓ Checked in.*Test user.*Stalls, row A, seat \d/);
    // The live channel brings the count (every door's scans count).
    await page.getByText('1 of 2 checked in').waitFor();
    expect(await seriousViolations(page), 'checked in').toEqual([]);
    await saveScreenshot(page, 'checkin-checked-in');

    await scan(page, codes[0]!);
    await result.getByText('Already checked in').waitFor();
    await expect.poll(() => result.textContent()).toMatch(/First checked in at/);
    expect(await seriousViolations(page), 'already checked in').toEqual([]);
    await saveScreenshot(page, 'checkin-already');

    await scan(page, 'not-a-ticket-of-this-event');
    await result.getByText('Ticket not found').waitFor();
    await saveScreenshot(page, 'checkin-not-found');
    await page.getByText('3 scans on this device').waitFor();
    // The field is ready for the next scan.
    expect(await page.getByLabel('Ticket code').inputValue()).toBe('');
    // Chromium logs every 4xx answer as a console error: the refused scans (409, 404) are the
    // answers under test, and the 401 is the first request after the page load, which the
    // client answers by refreshing its access token (kept in memory only). Nothing else.
    const expected = /status of (401 \(Unauthorized\)|409 \(Conflict\)|404 \(Not Found\))$/;
    expect(problems.filter((p) => !expected.test(p))).toEqual([]);

    // The API agrees: one ticket checked in.
    const ticket = await t.deps.database.db
      .selectFrom('tickets')
      .select(['status', 'checked_in_at'])
      .where('code', '=', codes[0]!)
      .executeTakeFirstOrThrow();
    expect(ticket.status).toBe('checked_in');
    await page.close();
  }, 60_000);

  it('tells a signed-in user without a scanner grant that they may not scan here', async () => {
    const stranger = await t.signUp();
    const page = await browser.newPage();
    await signInThroughPage(page, base, stranger);
    await page.goto(`${base}/organizer/events/${eventId}/check-in`);
    await page.getByRole('alert').getByText('You are not allowed to do this.').waitFor();
    expect(await seriousViolations(page), 'refused').toEqual([]);
    await page.close();
  }, 60_000);
});
