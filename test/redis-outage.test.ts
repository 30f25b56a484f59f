import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from './support/fixtures.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { startThrowawayRedis, type ThrowawayRedis } from './support/throwaway-redis.js';

// Redis is an accelerator: losing it must not lose data or let a revoked token through.
describe('when Redis goes away', () => {
  let redis: ThrowawayRedis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await startThrowawayRedis();
    t = await createTestApp({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('keeps serving the catalog from the database and refuses tokens it cannot check', async () => {
    const organizer = await t.signUp('organizer');
    const event = await createEvent(t, organizer, { name: 'Outage Gig' });
    expect((await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}` })).statusCode).toBe(
      200,
    );

    await redis.stop();

    const read = await t.inject({ method: 'GET', url: `/api/v1/events/${event.id}/seats` });
    expect(read.statusCode).toBe(200);
    const me = await t.inject({ method: 'GET', url: '/api/v1/auth/me', headers: organizer.auth });
    expect(me.statusCode).toBe(503);
    expect(me.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(me.headers['retry-after']).toBe('5');

    const ready = await t.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.redis.status).toBe('down');
  });
});
