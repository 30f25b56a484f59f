import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from './support/kit.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { builtAsset } from './support/web-build.js';

// The web front end is served by the API's own server (API.md, "Web app"): index.html for
// every app route a browser navigates to, hashed files cached for good, a strict CSP; the
// server's own paths keep answering problem documents.

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const page = (url: string) => t.inject({ method: 'GET', url, headers: { accept: 'text/html' } });

describe('GET / and the app routes', () => {
  it.each(['/', '/events/4b1f0a52-0000-4000-8000-000000000000', '/login', '/bookings/x?y=1'])(
    'answers %s with index.html, never cached',
    async (url) => {
      const response = await page(url);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body).toContain('<div id="root"></div>');
    },
  );

  it('sends a CSP without inline scripts or styles, and the page has no inline script', async () => {
    const response = await page('/');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("object-src 'none'");
    // Served over plain HTTP on a LAN address, the page must still load its own scripts.
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(response.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('keeps the looser policy Swagger UI needs on /docs only', async () => {
    let response = await t.inject({ method: 'GET', url: '/docs' });
    if (response.statusCode >= 300 && response.statusCode < 400) {
      response = await t.inject({ method: 'GET', url: String(response.headers.location) });
    }
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/swagger/i);
    expect(response.headers['content-security-policy']).toContain("'unsafe-inline'");
  });
});

describe('GET /assets/*', () => {
  it('serves a built file as immutable for a year', async () => {
    const response = await t.inject({ method: 'GET', url: `/assets/${builtAsset()}` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers a missing file with the problem-document 404', async () => {
    const response = await t.inject({ method: 'GET', url: '/assets/nope-123.js' });
    expectProblem(response, 404, 'ROUTE_NOT_FOUND');
  });
});

describe('what stays the server’s', () => {
  it.each(['/api/v1/no-such-thing', '/api', '/health/nope', '/docs/nope.html', '/metrics/x'])(
    'answers %s with a 404 problem document even to a browser',
    async (url) => {
      expectProblem(await page(url), 404, 'ROUTE_NOT_FOUND');
    },
  );

  it('answers a client that does not ask for HTML with the problem-document 404', async () => {
    const response = await t.inject({ method: 'GET', url: '/events/x' });
    expectProblem(response, 404, 'ROUTE_NOT_FOUND');
  });

  it('serves no page to other methods', async () => {
    const response = await t.inject({
      method: 'POST',
      url: '/events/x',
      headers: { accept: 'text/html' },
    });
    expectProblem(response, 404, 'ROUTE_NOT_FOUND');
  });
});
