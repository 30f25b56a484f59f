import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdAndBook, seatIdsOf } from './support/bookings.js';
import {
  SCREENSHOT_DIR,
  launchChromium,
  saveScreenshot,
  seriousViolations,
  signInThroughPage,
  startWebApp,
  watchPageErrors,
} from './support/browser.js';
import type { SignedIn, TestApp } from './support/test-app.js';

// The organizer's pages in a real headless Chromium against a real Evently, with the CSP the
// server sends enforced: build a venue in the layout editor, create and publish a reserved
// event on it, watch a sale arrive on the dashboard over the WebSocket, export the attendees;
// create a general-admission event, meet a refusal from the API, cancel it after confirming;
// and a buyer account is turned away. axe-core checks every page: no serious or critical
// violation. Screenshots go to test-results/screenshots/.

let t: TestApp;
let browser: Browser;
let base: string;

beforeAll(async () => {
  ({ t, base } = await startWebApp());
  // The live channel and the analytics are fed by consumers: this instance runs them too.
  await t.deps.start({ api: true, workers: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const tag = () => randomUUID().slice(0, 8);

async function expectAccessible(page: Page, what: string): Promise<void> {
  expect(await seriousViolations(page), what).toEqual([]);
}

/** Just one part of the page (for the pictures in docs/web.md), next to the full-page ones. */
async function saveElementScreenshot(page: Page, selector: string, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.locator(selector).screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

/** The page's width fits the viewport: nothing overflows sideways. */
async function expectNoSidewaysScroll(page: Page): Promise<void> {
  // The elements that stick out, named so a failure says where to look. (A string: these
  // tests compile without the DOM's types.) Seat maps and tables scroll inside their frames.
  const sticking = await page.evaluate<string[]>(`(() => {
    const width = document.documentElement.clientWidth;
    return [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > width + 0.5)
      .filter((e) => !e.closest('.seat-map-frame svg, .table-scroll table'))
      .slice(0, 5)
      .map((e) => e.tagName.toLowerCase() + '.' + e.className + ' ' + e.getBoundingClientRect().right);
  })()`);
  expect(sticking).toEqual([]);
}

/**
 * A page signed in as `user` through the login form, which then goes on to `path` inside the
 * app (a full page load would start without an access token: its first call answers 401 and
 * is repeated after a refresh, which Chromium logs as an error).
 */
async function signedInPage(
  user: SignedIn,
  path: string,
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems = watchPageErrors(page);
  await page.goto(`${base}/login?next=${encodeURIComponent(path)}`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel(/^Password/).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}${path}`);
  return { page, problems };
}

/** The live summary under "Capacity utilization", e.g. "2 of 94 sold (2.1%), 0 held, 92 available". */
const utilization = (page: Page) =>
  page.getByRole('status').filter({ hasText: / sold \(.*held.*available/ });

describe('the organizer pages in Chromium', () => {
  it('build a venue in the layout editor, then a reserved event on it that sells live on the dashboard', async () => {
    const organizer = await t.signUp('organizer');
    const { page, problems } = await signedInPage(organizer, '/organizer');

    await page.getByRole('heading', { name: 'Organizer', level: 1 }).waitFor();
    await page.getByText('No events yet.').waitFor();
    await page.getByText('No venues yet.').waitFor();
    await page.getByRole('heading', { name: 'Last 30 days' }).waitFor();
    await expectAccessible(page, 'empty overview');

    // The venue: the editor starts with one section ("Stalls", rows A–E of 12).
    await page.getByRole('link', { name: 'New venue' }).click();
    await page.getByRole('heading', { name: 'New venue' }).waitFor();
    const venueName = `Harbour Hall ${tag()}`;
    // Saving with the details missing shows the messages at their fields, sends nothing.
    await page.getByRole('button', { name: 'Create venue' }).click();
    await page.getByText('Enter the venue’s name.').waitFor();
    await expect
      .poll(() => page.getByLabel('Venue name').getAttribute('aria-invalid'))
      .toBe('true');
    await expectAccessible(page, 'venue editor with messages');

    await page.getByLabel('Venue name').fill(venueName);
    await page.getByLabel('Address').fill('1 Quay Street');
    await page.getByLabel('City').fill('Hamburg');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByLabel('Section name').fill('Parterre');
    await page.getByRole('button', { name: 'Remove row E of Parterre' }).click();
    await page.getByLabel('Seats in row D of Parterre').fill('10');

    await page.getByRole('button', { name: 'Add a section' }).click();
    const second = page.getByRole('group', { name: 'Section 2' });
    await second.getByLabel('Section name').fill('Balcony');
    const balcony = page.getByRole('group', { name: 'Balcony', exact: true });
    const bulk = balcony.getByRole('group', { name: 'Add several rows to Balcony' });
    await bulk.getByLabel('Rows').fill('2');
    await bulk.getByLabel('Seats per row').fill('8');
    await bulk.getByRole('button', { name: 'Add 2 rows of 8 seats' }).click();
    await balcony.getByLabel('Seats in row E of Balcony').waitFor();
    // A duplicate row label is caught at its field before anything is sent.
    await balcony.getByLabel('Label of row 5 in Balcony').fill('A');
    await page.getByRole('button', { name: 'Create venue' }).click();
    await page.getByText('Another row has this label.').waitFor();
    await balcony.getByLabel('Label of row 5 in Balcony').fill('E');
    await expect.poll(() => page.getByText('Another row has this label.').count()).toBe(0);

    // Parterre 3 × 12 + 10, Balcony 3 × 10 + 2 × 8: the preview draws all 92 seats.
    await page.getByText('2 sections, 9 rows, 92 seats').waitFor();
    expect(await page.locator('.layout-preview rect.seat').count()).toBe(92);
    await expectAccessible(page, 'venue editor');
    await saveScreenshot(page, 'organizer-venue-editor');
    await saveElementScreenshot(page, '.layout-editor', 'organizer-layout-editor');
    await page.setViewportSize({ width: 375, height: 800 });
    await expectNoSidewaysScroll(page);
    await saveScreenshot(page, 'organizer-venue-editor-phone');
    await page.setViewportSize({ width: 1200, height: 900 });

    await page.getByRole('button', { name: 'Create venue' }).click();
    await page.waitForURL(`${base}/organizer`);
    await page.getByText(`Venue “${venueName}” created.`).waitFor();
    await page.getByRole('heading', { name: venueName }).waitFor();

    // The event, at that venue, with its own price for the balcony.
    await page.getByRole('link', { name: 'Create an event there' }).click();
    await page.getByRole('heading', { name: 'New event' }).waitFor();
    expect(await page.getByLabel(/^Reserved seats/).isChecked()).toBe(true);
    const eventName = `Harbour Night ${tag()}`;
    await page.getByLabel('Event name').fill(eventName);
    await page.getByLabel('Description').fill('Sea shanties under the stars.');
    await page.getByLabel('Price', { exact: true }).fill('25');
    await page.getByLabel('Price in Balcony').fill('15.50');
    await page.getByText(`Preview: ${venueName} as buyers will see it`).waitFor();
    await expectAccessible(page, 'event editor');
    await saveScreenshot(page, 'organizer-event-editor');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.waitForURL(/\/organizer\/events\/[0-9a-f-]{36}$/);
    const eventId = page.url().split('/').pop()!;
    await page.getByText('Draft saved.').waitFor();
    await page.getByRole('heading', { name: eventName }).waitFor();
    await page.getByText('draft', { exact: true }).waitFor();
    await expectAccessible(page, 'draft event');

    const created = (
      await t.inject({ method: 'GET', url: `/api/v1/events/${eventId}`, headers: organizer.auth })
    ).json();
    expect(created).toMatchObject({
      status: 'draft',
      seating: 'reserved',
      capacity: 92,
      priceCents: 2500,
      currency: 'EUR',
      sectionPrices: { Balcony: 1550 },
    });

    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Published: the event is on sale.').waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    await expect.poll(() => utilization(page).textContent()).toMatch(/^0 of 92 sold/);
    await page.getByText('No sales yet.').waitFor();
    await expectAccessible(page, 'dashboard before sales');

    // A buyer books two seats through the API; the dashboard counts them without a reload.
    const buyer = await t.signUp('user');
    const seats = (await seatIdsOf(t, eventId)).slice(0, 2);
    const booking = await holdAndBook(t, buyer, eventId, { seatIds: seats });
    await expect
      .poll(() => utilization(page).textContent(), { timeout: 5000 })
      .toMatch(/^2 of 92 sold \(2\.2%\), 0 held, 90 available/);
    // Doors open: a scan (here through the API) moves the check-in count live too.
    const checkIns = page.getByRole('term').filter({ hasText: 'Checked in' }).locator('xpath=..');
    await expect.poll(() => checkIns.textContent()).toContain('0 / 2');
    const scan = await t.inject({
      method: 'POST',
      url: `/api/v1/events/${eventId}/check-ins`,
      headers: organizer.auth,
      payload: { code: booking.tickets[0]!.code },
    });
    expect(scan.statusCode).toBe(200);
    await expect.poll(() => checkIns.textContent(), { timeout: 5000 }).toContain('1 / 2');
    // The charts follow shortly after (the analytics are re-read after a change).
    await page.getByText('Tickets sold per hour').waitFor({ timeout: 15_000 });
    await page.getByText('50.00 EUR in total').waitFor();
    await page.getByText('Show the numbers').click();
    const row = page.getByRole('table', { name: 'Sales per hour' }).getByRole('row').nth(1);
    expect(await row.textContent()).toContain('50.00 EUR');
    await expectAccessible(page, 'dashboard with sales');
    await saveScreenshot(page, 'organizer-dashboard');
    await saveElementScreenshot(page, '.dashboard', 'organizer-dashboard-sales');
    await page.emulateMedia({ colorScheme: 'dark' });
    await saveScreenshot(page, 'organizer-dashboard-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 375, height: 800 });
    await expectNoSidewaysScroll(page);
    await saveScreenshot(page, 'organizer-dashboard-phone');
    await page.setViewportSize({ width: 1200, height: 900 });

    // The attendee list comes down as a file, fetched with the organizer's token.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download attendees (CSV)' }).click();
    const csv = readFileSync((await (await download).path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toContain('attendee_email');
    expect(csv).toContain(booking.id);
    expect(csv).toContain(buyer.email);

    // The overview lists the event with its sales, and the venue.
    await page.locator('#main').getByRole('link', { name: 'Organizer' }).click();
    const listed = page.getByRole('row', { name: new RegExp(eventName) });
    await listed.waitFor();
    expect(await listed.textContent()).toContain('published');
    expect(await listed.textContent()).toContain('2 / 92');
    await expectAccessible(page, 'overview');
    await saveScreenshot(page, 'organizer-overview');
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it('create a general-admission event, show the API’s refusal, and cancel it only after confirming', async () => {
    const organizer = await t.signUp('organizer');
    const { page, problems } = await signedInPage(organizer, '/organizer/events/new');
    await page.getByRole('heading', { name: 'New event' }).waitFor();
    await page.getByLabel(/^General admission/).check();
    const eventName = `Open Air ${tag()}`;
    await page.getByLabel('Event name').fill(eventName);
    await page.getByLabel('Capacity (tickets)').fill('5');
    await page.getByLabel('Price', { exact: true }).fill('10');
    // An end before the start is caught at its field.
    const starts = await page.getByLabel('Starts').inputValue();
    await page.getByLabel('Ends').fill(starts.replace(/T\d\d:\d\d$/, 'T08:00'));
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('The end must be after the start.').waitFor();
    await expectAccessible(page, 'event editor with messages');
    await page.getByLabel('Ends').fill(starts.replace(/T\d\d:\d\d$/, 'T23:00'));
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.waitForURL(/\/organizer\/events\/[0-9a-f-]{36}$/);
    const eventId = page.url().split('/').pop()!;
    const saved = (
      await t.inject({ method: 'GET', url: `/api/v1/events/${eventId}`, headers: organizer.auth })
    ).json();
    expect(saved).toMatchObject({
      seating: 'general',
      capacity: 5,
      priceCents: 1000,
      venueId: null,
    });
    // The times typed in local time arrive as the same instants.
    expect(new Date(saved.endsAt).getHours()).toBe(23);

    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Published: the event is on sale.').waitFor();
    const buyer = await t.signUp('user');
    await holdAndBook(t, buyer, eventId, { quantity: 3 });
    await expect
      .poll(() => utilization(page).textContent(), { timeout: 5000 })
      .toMatch(/^3 of 5 sold/);

    // The API refuses a capacity under what is sold: its problem is shown, nothing changes.
    await page.getByLabel('Capacity (tickets)').fill('2');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Capacity cannot drop below the 3 tickets' })
      .waitFor();
    // An accepted change is saved with PATCH.
    await page.getByLabel('Capacity (tickets)').fill('8');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    await expect.poll(() => utilization(page).textContent()).toMatch(/^3 of 8 sold/);

    // Cancelling asks first, and says the bookings are refunded.
    await page.getByRole('button', { name: 'Cancel event…' }).click();
    const dialog = page.getByRole('dialog', { name: `Cancel “${eventName}”?` });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('refunded in full (3 tickets sold so far)');
    await expectAccessible(page, 'cancel dialog');
    await saveScreenshot(page, 'organizer-cancel-dialog');
    await dialog.getByRole('button', { name: 'Keep the event' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(
      (await t.inject({ method: 'GET', url: `/api/v1/events/${eventId}` })).json().status,
    ).toBe('published');

    await page.getByRole('button', { name: 'Cancel event…' }).click();
    await dialog.getByRole('button', { name: 'Cancel event and refund bookings' }).click();
    await page.getByText('Cancelled: sales stopped').waitFor();
    await page.getByText('cancelled', { exact: true }).first().waitFor();
    expect(await page.getByRole('button', { name: 'Cancel event…' }).count()).toBe(0);
    expect(
      (await t.inject({ method: 'GET', url: `/api/v1/events/${eventId}` })).json().status,
    ).toBe('cancelled');
    await expectAccessible(page, 'cancelled event');
    // Chromium logs the refused PATCH (409) as a failed resource load: that one was expected.
    expect(problems.filter((p) => !p.includes('status of 409 (Conflict)'))).toEqual([]);
    await page.close();
  }, 120_000);

  it('turn away a signed-out visitor (with a sign-in link) and a buyer account', async () => {
    const page = await browser.newPage();
    const problems = watchPageErrors(page);
    await page.goto(`${base}/organizer/events/new`);
    await page.getByRole('heading', { name: 'Organizers only' }).waitFor();
    const signIn = page.getByRole('link', { name: 'Sign in' }).last();
    expect(await signIn.getAttribute('href')).toBe('/login?next=%2Forganizer%2Fevents%2Fnew');
    await expectAccessible(page, 'organizers only, signed out');
    await saveScreenshot(page, 'organizer-only-signed-out');

    const user = await t.signUp('user');
    await signInThroughPage(page, base, user);
    await page.goto(`${base}/organizer`);
    await page.getByRole('heading', { name: 'Organizers only' }).waitFor();
    await page.getByText('Your account is a buyer account').waitFor();
    expect(await page.getByRole('link', { name: 'New event' }).count()).toBe(0);
    await expectAccessible(page, 'organizers only, buyer');
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
