import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumBinary } from './chromium-binary.js';
import { createTestApp, type SignedIn, type TestApp } from './test-app.js';
import { assertWebAppBuilt } from './web-build.js';

// What every browser test shares: Debian's Chromium driven by playwright-core, a real Evently
// on a port, axe-core run inside the page, and screenshots kept under test-results/.

export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'screenshots');

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/**
 * Headless Chromium (which one: `chromiumBinary`). The flags keep Chromium off the network it
 * cannot reach here (background updates, sync, QUIC), which otherwise floods the machine with
 * refused connections.
 */
export async function launchChromium(): Promise<Browser> {
  const binary = chromiumBinary();
  return chromium.launch({
    executablePath: binary.executablePath,
    ...(binary.env ? { env: { ...process.env, ...binary.env } } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface WebApp {
  t: TestApp;
  /** Origin the app listens on, e.g. http://127.0.0.1:41234 */
  base: string;
}

/** A test Evently (embedded, or the services from the environment) listening on a free port. */
export async function startWebApp(overrides: Record<string, string> = {}): Promise<WebApp> {
  assertWebAppBuilt();
  const t = await createTestApp(overrides);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return { t, base: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}` };
}

/** Collects console errors and uncaught page errors; a test expects the list to stay empty. */
export function watchPageErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return problems;
}

/** Serious and critical accessibility violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's CSP (no inline scripts) stays on.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    type Violation = { id: string; impact: string | null; nodes: Array<{ target: unknown }> };
    const axe = (
      globalThis as unknown as { axe: { run: () => Promise<{ violations: Violation[] }> } }
    ).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}, ${v.nodes} nodes)`);
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png (CI keeps the folder). */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Signs `user` in through the login page, as a person would, and waits until the app has left
 * it. Tests of other pages use this rather than planting tokens, so the session code is real.
 */
export async function signInThroughPage(page: Page, base: string, user: SignedIn): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel(/^Password/).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
}
