import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchChromium,
  saveScreenshot,
  seriousViolations,
  startWebApp,
  watchPageErrors,
} from './support/browser.js';
import { createEvent, createVenue } from './support/fixtures.js';
import type { TestApp } from './support/test-app.js';

// The buyer's happy path in a real headless Chromium against a real Evently (in process, on a
// port), with the CSP the server sends enforced: register, pick two seats on the map (one by
// mouse, one by keyboard), hold, pay with the test Visa, see two QR tickets; the API then has
// the booking confirmed. axe-core checks each page visited: no serious or critical violation.
// Each page is saved under test-results/screenshots/.

let t: TestApp;
let browser: Browser;
let base: string;
let eventId: string;

beforeAll(async () => {
  ({ t, base } = await startWebApp());
  const organizer = await t.signUp('organizer');
  const venue = await createVenue(t, organizer, { rows: 2, seatsPerRow: 6 });
  eventId = (
    await createEvent(t, organizer, {
      seating: 'reserved',
      venueId: venue.id,
      name: `Browser Night ${randomUUID().slice(0, 8)}`,
    })
  ).id;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('a buyer in Chromium', () => {
  it('registers, holds two seats, pays with tok_visa and sees two QR tickets', async () => {
    const page = await browser.newPage();
    const problems = watchPageErrors(page);

    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Find your next event' }).waitFor();
    await page.getByRole('link', { name: /Browser Night/ }).waitFor();
    expect(await seriousViolations(page), 'browse page').toEqual([]);
    await saveScreenshot(page, 'buyer-browse');

    const email = `buyer-${randomUUID()}@example.test`;
    const password = 'correct horse battery';
    await page.goto(`${base}/register?next=${encodeURIComponent(`/events/${eventId}`)}`);
    expect(await seriousViolations(page), 'register page').toEqual([]);
    await saveScreenshot(page, 'buyer-register');
    await page.getByLabel('Name').fill('Browser Buyer');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel(/^Password/).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${base}/events/${eventId}`);

    const first = page.getByRole('checkbox', {
      name: /^Section Stalls, row A, seat 1, 25\.00 EUR, available$/,
    });
    await first.click();
    const second = page.getByRole('checkbox', { name: /^Section Stalls, row A, seat 2, / });
    await second.focus();
    await page.keyboard.press('Space');
    expect(await first.getAttribute('aria-checked')).toBe('true');
    expect(await second.getAttribute('aria-checked')).toBe('true');
    await page.getByText('2 seats · 50.00 EUR').waitFor();
    expect(await seriousViolations(page), 'event page').toEqual([]);
    await saveScreenshot(page, 'buyer-event-seats-selected');

    await page.getByRole('button', { name: 'Hold seats' }).click();
    await page.getByRole('heading', { name: 'Your tickets are held' }).waitFor();
    await expect.poll(() => page.getByRole('timer').textContent()).toMatch(/Held for \d+:\d\d/);
    await page.getByText('Total 50.00 EUR').waitFor();
    expect(await seriousViolations(page), 'checkout').toEqual([]);
    await saveScreenshot(page, 'buyer-checkout');

    await page.getByRole('button', { name: 'Pay with test Visa' }).click();
    await page.waitForURL(/\/bookings\/[0-9a-f-]{36}$/);
    const bookingId = page.url().split('/').pop()!;
    await page.getByText('confirmed').first().waitFor();
    await expect.poll(() => page.getByRole('img', { name: /^QR code of ticket/ }).count()).toBe(2);
    // Each ticket names its seat, and the tickets come as one PDF (fetched with the token).
    await page.getByText('Stalls · row A · seat 1', { exact: true }).waitFor();
    await page.getByText('Stalls · row A · seat 2', { exact: true }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download tickets (PDF)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`tickets-${bookingId}.pdf`);
    const pdf = await readFile((await download.path())!);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(await seriousViolations(page), 'booking page').toEqual([]);
    await saveScreenshot(page, 'buyer-booking-tickets');

    await page.getByRole('link', { name: 'My bookings' }).first().click();
    await page.getByRole('link', { name: 'Booking of 2 tickets' }).waitFor();
    expect(await seriousViolations(page), 'my bookings').toEqual([]);
    await saveScreenshot(page, 'buyer-my-bookings');
    expect(problems).toEqual([]);

    // The API agrees: the buyer's booking is confirmed with two tickets for the two seats.
    const login = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password },
    });
    const { accessToken } = login.json<{ accessToken: string }>();
    const booking = await t.inject({
      method: 'GET',
      url: `/api/v1/bookings/${bookingId}`,
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(booking.statusCode).toBe(200);
    const body = booking.json<{ status: string; eventId: string; tickets: unknown[] }>();
    expect(body.status).toBe('confirmed');
    expect(body.eventId).toBe(eventId);
    expect(body.tickets).toHaveLength(2);
    await page.close();
  }, 60_000);
});
