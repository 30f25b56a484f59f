import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createDependencies } from '../src/composition.js';
import { loadConfig } from '../src/config.js';
import { migrate } from '../src/infra/postgres/migrator.js';
import { createTestDatabase } from './support/test-database.js';
import { testConfig, usingRedis } from './support/test-app.js';

// NAMESPACE keeps deployments that share a Redis or a RabbitMQ apart.

describe('NAMESPACE', () => {
  it('accepts short lower-case names and refuses anything else', () => {
    expect(loadConfig({ NAMESPACE: 'blue-1' }).namespace).toBe('blue-1');
    expect(loadConfig({}).namespace).toBeUndefined();
    for (const bad of ['Blue', 'blue space', '-blue', 'a'.repeat(33), 'blue:1']) {
      expect(() => loadConfig({ NAMESPACE: bad }), bad).toThrow(/NAMESPACE/);
    }
  });

  // The prefixes only exist where the services are shared.
  if (usingRedis && process.env.AMQP_URL) {
    it('prefixes the Redis keys and the RabbitMQ exchange and queues of a deployment', async () => {
      const namespace = `ns-${randomBytes(4).toString('hex')}`;
      const testDb = await createTestDatabase();
      await migrate(testDb.database);
      const deps = await createDependencies(testConfig({ NAMESPACE: namespace }), testDb.database);
      const app = await buildApp(deps, { logger: false });
      const redis = new Redis(process.env.REDIS_URL!);
      const connection = await amqp.connect(process.env.AMQP_URL!);
      try {
        await deps.start({ api: true, workers: true });
        const registered = await app.inject({
          method: 'POST',
          url: '/api/v1/auth/register',
          payload: {
            email: `${namespace}@example.test`,
            password: 'correct horse battery',
            name: 'N',
          },
        });
        expect(registered.statusCode).toBe(201);
        const userId = registered.json<{ user: { id: string } }>().user.id;
        // The session record went to this deployment's keys, and nowhere else.
        expect(await redis.exists(`${namespace}:sessions:{user:${userId}}`)).toBe(1);
        expect(await redis.exists(`evently:sessions:{user:${userId}}`)).toBe(0);
        const channel = await connection.createChannel();
        await channel.checkExchange(`${namespace}.evently`);
        const queue = await channel.checkQueue(`${namespace}.evently.notifications`);
        expect(queue.queue).toBe(`${namespace}.evently.notifications`);
        await channel.close();
      } finally {
        await app.close();
        await deps.close();
        // Leave the broker as it was.
        const cleanup = await connection.createChannel();
        for (const consumer of deps.messaging.consumers.map((c) => c.name)) {
          await cleanup.deleteQueue(`${namespace}.evently.${consumer}`).catch(() => undefined);
        }
        await cleanup.deleteExchange(`${namespace}.evently`).catch(() => undefined);
        await connection.close().catch(() => undefined);
        const keys = await redis.keys(`${namespace}:*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
        await testDb.drop();
      }
    });
  }
});
