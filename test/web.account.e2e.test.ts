import { randomBytes, randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdAndBook } from './support/bookings.js';
import {
  launchChromium,
  saveScreenshot,
  seriousViolations,
  signInThroughPage,
  startWebApp,
  watchPageErrors,
} from './support/browser.js';
import { createEvent } from './support/fixtures.js';
import { eventually } from './support/kit.js';
import type { SignedIn, TestApp } from './support/test-app.js';

// The account side and the admin pages in a real headless Chromium against a real Evently with
// its workers running (outbox relay, notifications consumer, sagas), so notifications and dead
// letters arise as they do in production. Each page visited is checked with axe-core (no
// serious or critical violation) and saved under test-results/screenshots/.

let t: TestApp;
let base: string;
let browser: Browser;
let organizer: SignedIn;
/** A consumer with a bug, for dead letters: it fails every booking it has not been told to heal. */
const flaky = `flaky-${randomBytes(4).toString('hex')}`;
const healed = new Set<string>();
const handled = new Set<string>();

beforeAll(async () => {
  ({ t, base } = await startWebApp({
    OUTBOX_POLL_MS: '100',
    MESSAGE_MAX_ATTEMPTS: '2',
    MESSAGE_RETRY_BASE_MS: '50',
  }));
  await t.deps.start({ api: true, workers: true });
  await t.deps.messaging.bus.consume({
    name: flaky,
    bindings: ['booking.confirmed'],
    handle: async (message) => {
      const bookingId = String(message.payload.bookingId);
      if (!healed.has(bookingId)) throw new Error(`flaky consumer failed on ${bookingId}`);
      handled.add(bookingId);
    },
  });
  organizer = await t.signUp('organizer');
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/**
 * Console errors other than the browser's own line for an HTTP refusal the test provokes on
 * purpose (Chromium logs "Failed to load resource: … status of 409" for every such answer).
 */
function unexpected(problems: string[], statuses: number[] = []): string[] {
  return problems.filter(
    (p) => !statuses.some((s) => p.includes(`Failed to load resource`) && p.includes(`${s}`)),
  );
}

async function checkPage(page: Page, name: string): Promise<void> {
  expect(await seriousViolations(page), name).toEqual([]);
  await saveScreenshot(page, name);
}

const apiAs = (who: SignedIn, method: 'GET' | 'POST', url: string) =>
  t.inject({ method, url, headers: who.auth });

describe('an admin in Chromium', () => {
  it('disables a user after confirming; the API then refuses that user, and the audit log shows it', async () => {
    const admin = await t.signUp('admin');
    const target = await t.signUp();
    const page = await browser.newPage();
    const problems = watchPageErrors(page);
    await signInThroughPage(page, base, admin);

    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Organizer' }).waitFor();
    await nav.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Tickets sold').waitFor();
    await checkPage(page, 'admin-overview');

    await page
      .getByRole('navigation', { name: 'Admin sections' })
      .getByRole('link', { name: 'Users' })
      .click();
    await page.waitForURL(`${base}/admin/users`);
    await page.getByLabel('Email contains').fill(target.email);
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('row').filter({ hasText: target.email });
    await row.getByText('active').waitFor();
    await expect.poll(() => page.getByRole('row').count()).toBe(2); // the header and one user
    await checkPage(page, 'admin-users');

    await row.getByRole('button', { name: `Disable ${target.email}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable Test user?' });
    await dialog.getByText('signed out everywhere').waitFor();
    // It opens on the safe answer; Escape closes it and nothing changes.
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Cancel');
    await checkPage(page, 'admin-users-disable-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await apiAs(target, 'GET', '/api/v1/auth/me')).statusCode).toBe(200);

    await row.getByRole('button', { name: `Disable ${target.email}` }).click();
    await dialog.getByRole('button', { name: 'Disable account' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByText(`${target.email} is disabled.`).waitFor();
    await row.getByText('disabled', { exact: true }).waitFor();
    await row.getByRole('button', { name: `Enable ${target.email}` }).waitFor();

    // The API agrees: the user's token stops working at once and their password no longer signs in.
    expect((await apiAs(target, 'GET', '/api/v1/auth/me')).statusCode).toBe(401);
    const login = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: target.email, password: target.password },
    });
    expect(login.statusCode).toBe(401);
    expect(login.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });

    await page
      .getByRole('navigation', { name: 'Admin sections' })
      .getByRole('link', { name: 'Audit log' })
      .click();
    await page.getByLabel('Action').fill('user.disabled');
    await page.getByRole('button', { name: 'Filter' }).click();
    const entry = page.getByRole('row').filter({ hasText: target.id });
    await entry.getByText('user.disabled').waitFor();
    await entry.getByText('{"disabled":false} → {"disabled":true}').waitFor();
    // The entry names its actor; following it filters the log to that admin's actions.
    await entry.getByRole('button', { name: `admin ${admin.id}` }).click();
    await expect.poll(() => page.getByLabel('Actor (user id)').inputValue()).toBe(admin.id);
    await entry.waitFor();
    await checkPage(page, 'admin-audit-log');

    expect(unexpected(problems)).toEqual([]);
    await page.close();
  }, 60_000);

  it('changes a user’s role after confirming, and the API shows the new role', async () => {
    const admin = await t.signUp('admin');
    const target = await t.signUp();
    const page = await browser.newPage();
    const problems = watchPageErrors(page);
    await signInThroughPage(page, base, admin);
    await page.goto(`${base}/admin/users`);
    await page.getByLabel('Email contains').fill(target.email);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByLabel(`Role of ${target.email}`).selectOption('organizer');
    const dialog = page.getByRole('dialog', { name: 'Make Test user an organizer?' });
    await dialog.getByRole('button', { name: 'Make organizer' }).click();
    await page.getByText(`${target.email} is now an organizer.`).waitFor();
    expect(await page.getByLabel(`Role of ${target.email}`).inputValue()).toBe('organizer');

    const users = await t.inject({
      method: 'GET',
      url: `/api/v1/admin/users?email=${encodeURIComponent(target.email)}`,
      headers: admin.auth,
    });
    expect(users.json<{ items: Array<{ role: string }> }>().items).toMatchObject([
      { role: 'organizer' },
    ]);
    expect(unexpected(problems)).toEqual([]);
    await page.close();
  }, 60_000);

  it('sees the sagas, and retries dead letters: one requeued, one whose consumer is gone refused with the reason', async () => {
    const admin = await t.signUp('admin');
    const buyer = await t.signUp();
    const event = await createEvent(t, organizer, { capacity: 10 });
    const booking = await holdAndBook(t, buyer, event.id);
    const db = t.deps.database.db;
    // The flaky consumer fails on the booking's confirmation twice: a dead letter.
    await eventually(
      () =>
        db.selectFrom('dead_letters').select('id').where('consumer', '=', flaky).executeTakeFirst(),
      'the dead letter of the flaky consumer',
    );
    // A letter of a consumer no longer running anywhere.
    const retired = `retired-${randomBytes(4).toString('hex')}`;
    await db
      .insertInto('dead_letters')
      .values({
        consumer: retired,
        message_id: randomUUID(),
        type: 'booking.cancelled',
        payload: JSON.stringify({ bookingId: randomUUID() }),
        error: 'the consumer was retired',
        attempts: 5,
      })
      .execute();

    // In dark mode: axe checks the dark colours' contrast too.
    const page = await browser.newPage({ colorScheme: 'dark' });
    const problems = watchPageErrors(page);
    await signInThroughPage(page, base, admin);
    await page.goto(`${base}/admin/sagas`);
    await page.getByRole('heading', { name: 'Sagas' }).waitFor();
    await page.getByLabel('Status').selectOption('completed');
    const sagaRow = page.getByRole('row').filter({ hasText: booking.id.slice(0, 8) });
    await sagaRow.getByText('completed').waitFor();
    await checkPage(page, 'admin-sagas');
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No failed sagas.').waitFor();

    await page
      .getByRole('navigation', { name: 'Admin sections' })
      .getByRole('link', { name: 'Dead letters' })
      .click();
    await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
    const letter = page.getByRole('listitem').filter({ hasText: booking.id });
    await letter.getByText(`flaky consumer failed on ${booking.id}`).waitFor();
    const gone = page.getByRole('listitem').filter({ hasText: retired });
    await gone.waitFor();
    await checkPage(page, 'admin-dead-letters');

    // The bug is fixed: the retry puts the message back and the consumer handles it.
    healed.add(booking.id);
    await letter.getByRole('button', { name: /^Retry/ }).click();
    await letter.getByText('Requeued: the consumer gets the message again.').waitFor();
    await eventually(() => handled.has(booking.id), 'the requeued message handled');
    expect(await letter.getByRole('button', { name: /^Retry/ }).isDisabled()).toBe(true);

    await gone.getByRole('button', { name: /^Retry/ }).click();
    await gone.getByText(`Not requeued. No worker consumes ${retired} here`).waitFor();
    await checkPage(page, 'admin-dead-letters-retried');

    await page.getByLabel('Consumer').fill(`nobody-${randomBytes(3).toString('hex')}`);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText(/^No dead letters for nobody-/).waitFor();

    expect(unexpected(problems, [409])).toEqual([]);
    await page.close();
  }, 60_000);

  it('a user or an organizer at /admin is told it is for admins only', async () => {
    for (const role of ['user', 'organizer'] as const) {
      const who = await t.signUp(role);
      const page = await browser.newPage();
      const problems = watchPageErrors(page);
      await signInThroughPage(page, base, who);
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'My bookings' }).waitFor();
      expect(await nav.getByRole('link', { name: 'Admin' }).count()).toBe(0);
      expect(await nav.getByRole('link', { name: 'Organizer' }).count()).toBe(
        role === 'organizer' ? 1 : 0,
      );
      await page.goto(`${base}/admin/users`);
      await page.getByRole('heading', { name: 'Admins only' }).waitFor();
      await page.getByText('This area is for admins only.').waitFor();
      expect(await page.getByRole('table').count()).toBe(0);
      await checkPage(page, `admins-only-${role}`);
      expect(unexpected(problems)).toEqual([]);
      await page.close();
    }
  }, 60_000);
});

describe('a buyer in Chromium', () => {
  it('cancels a confirmed booking from its page, sees the refund, and finds both notifications', async () => {
    const buyer = await t.signUp();
    const event = await createEvent(t, organizer, { capacity: 10, name: 'Cancel Night' });
    const booking = await holdAndBook(t, buyer, event.id, { quantity: 2 });
    const page = await browser.newPage();
    const problems = watchPageErrors(page);
    await signInThroughPage(page, base, buyer);

    await page.goto(`${base}/bookings/${booking.id}`);
    await page.getByRole('heading', { name: 'Cancel Night' }).waitFor();
    await page.getByRole('button', { name: 'Cancel booking' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this booking?' });
    await dialog.getByText('You will be refunded 50.00 EUR, the full amount you paid.').waitFor();
    await checkPage(page, 'buyer-cancel-dialog');
    await dialog.getByRole('button', { name: 'Keep booking' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await page.getByRole('button', { name: 'Cancel booking' }).click();
    await dialog.getByRole('button', { name: 'Cancel and refund 50.00 EUR' }).click();
    await page.getByText('Booking cancelled. 50.00 EUR will be refunded to your card.').waitFor();
    await page.getByText('Refunded 50.00 EUR').waitFor();
    await page.getByText('cancelled', { exact: true }).first().waitFor();
    expect(await page.getByRole('button', { name: 'Cancel booking' }).count()).toBe(0);
    await checkPage(page, 'buyer-booking-cancelled');

    const after = await apiAs(buyer, 'GET', `/api/v1/bookings/${booking.id}`);
    expect(after.json()).toMatchObject({ status: 'cancelled', refundCents: 5000 });

    // The confirmation and the cancellation come through the outbox: reload until both show.
    // Each reload waits for the badge's count first: that request needed the page's token
    // refresh to finish (a reload in the middle of one would lose the rotated refresh token).
    await page.goto(`${base}/notifications`);
    await eventually(
      async () => {
        await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
        await page
          .getByRole('status')
          .filter({ hasText: /unread|All caught up/ })
          .waitFor();
        const shown = await page.getByRole('heading', { name: /^Unread: Your booking is/ }).count();
        if (shown === 2) return true;
        await page.reload();
        return false;
      },
      'both notifications on the page',
      30_000,
      1000,
    );
    await page.getByRole('heading', { name: 'Unread: Your booking is cancelled' }).waitFor();
    await page.getByRole('heading', { name: 'Unread: Your booking is confirmed' }).waitFor();
    const badge = page.getByRole('link', { name: /^Notifications\W+2 unread$/ });
    await badge.waitFor();
    await checkPage(page, 'buyer-notifications');

    const confirmed = page.getByRole('listitem').filter({ hasText: 'Your booking is confirmed' });
    await confirmed.getByRole('button', { name: 'Mark as read' }).click();
    await page.getByRole('link', { name: /^Notifications\W+1 unread$/ }).waitFor();
    await page.getByRole('button', { name: 'Mark all as read' }).click();
    await page.getByText('All caught up.').waitFor();
    await expect
      .poll(() => page.getByRole('link', { name: /^Notifications/ }).textContent())
      .toBe('Notifications');
    const unread = await apiAs(buyer, 'GET', '/api/v1/me/notifications/unread-count');
    expect(unread.json()).toEqual({ unread: 0 });

    await page
      .getByRole('listitem')
      .filter({ hasText: 'Your booking is cancelled' })
      .getByRole('link', { name: 'View booking' })
      .click();
    await page.waitForURL(`${base}/bookings/${booking.id}`);
    expect(unexpected(problems)).toEqual([]);
    await page.close();
  }, 90_000);
});

describe('the session in Chromium', () => {
  it('revoked while a page is open: the next request sends the user to sign in, with a message, and back', async () => {
    const buyer = await t.signUp();
    // A phone-sized window: the navigation folds into the Menu button.
    const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
    const problems = watchPageErrors(page);
    await signInThroughPage(page, base, buyer);
    const menu = page.getByRole('button', { name: 'Menu' });
    const myBookings = page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'My bookings' });
    expect(await myBookings.isVisible()).toBe(false);
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await myBookings.waitFor();
    await checkPage(page, 'phone-menu-open');
    await myBookings.click();
    await page.getByRole('heading', { name: 'My bookings' }).waitFor();
    expect(await myBookings.isVisible()).toBe(false); // following a link closes the menu

    // Through the API, the user ends the browser's session: the page's tokens stop working.
    const sessions = await apiAs(buyer, 'GET', '/api/v1/auth/sessions');
    const all = sessions.json<{ items: Array<{ id: string; userAgent: string | null }> }>().items;
    const pageSessions = all.filter((s) => s.userAgent?.includes('Chrome'));
    expect(pageSessions).toHaveLength(1);
    const ended = await t.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${pageSessions[0]!.id}`,
      headers: buyer.auth,
    });
    expect(ended.statusCode).toBe(204);

    await menu.click();
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Notifications' })
      .click();
    await page.waitForURL(`${base}/login?next=%2Fnotifications`);
    await page.getByText('Your session has expired — sign in again').waitFor();
    expect(await page.evaluate("localStorage.getItem('evently.refreshToken')")).toBeNull();
    await checkPage(page, 'session-expired-login');

    await page.getByLabel('Email').fill(buyer.email);
    await page.getByLabel(/^Password/).fill(buyer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/notifications`);
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    await checkPage(page, 'phone-notifications');
    // The refused access token and refresh token: 401s the test caused on purpose.
    expect(unexpected(problems, [401])).toEqual([]);
    await page.close();
  }, 60_000);

  it('a page that needs sign-in sends a visitor to the login page and back afterwards', async () => {
    const buyer = await t.signUp();
    const page = await browser.newPage();
    const problems = watchPageErrors(page);
    await page.goto(`${base}/notifications`);
    await page.waitForURL(`${base}/login?next=%2Fnotifications`);
    expect(await page.getByText('Your session has expired').count()).toBe(0);
    await page.getByLabel('Email').fill(buyer.email);
    await page.getByLabel(/^Password/).fill(buyer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/notifications`);
    await page.getByText('No notifications yet.').waitFor();
    expect(unexpected(problems)).toEqual([]);
    await page.close();
  }, 60_000);
});
