import type { FastifyInstance } from 'fastify';
import { withTimeout } from './timeout.js';

export interface DependencyCheck {
  name: string;
  /** A required dependency being down makes the instance not ready. */
  required: boolean;
  /** Throws when the dependency is down; may answer 'degraded' when it works only in part. */
  check(): Promise<void | 'degraded'>;
}

type DependencyState = 'healthy' | 'degraded' | 'down';

interface DependencyReport {
  status: DependencyState;
  required: boolean;
  latencyMs: number;
  error?: string;
}

const CHECK_TIMEOUT_MS = 2000;
const SLOW_MS = 500;

async function probe(dependency: DependencyCheck): Promise<DependencyReport> {
  const started = performance.now();
  try {
    const answer = await withTimeout(dependency.check(), CHECK_TIMEOUT_MS, 'timed out');
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    return {
      status: answer === 'degraded' || latencyMs > SLOW_MS ? 'degraded' : 'healthy',
      required: dependency.required,
      latencyMs,
    };
  } catch (error) {
    return {
      status: 'down',
      required: dependency.required,
      latencyMs: Math.round(performance.now() - started),
      // Only the message: connection errors can carry URLs, and URLs can carry passwords.
      error: error instanceof Error ? error.message.replace(/\/\/[^@\s]*@/g, '//***@') : 'failed',
    };
  }
}

export function registerHealthRoutes(
  app: FastifyInstance,
  dependencies: DependencyCheck[],
  about: { version: string; environment: string; mode: string },
): void {
  const tags = ['operations'];
  const checkAll = async () =>
    Object.fromEntries(
      await Promise.all(dependencies.map(async (d) => [d.name, await probe(d)] as const)),
    );

  app.get('/health/live', { schema: { tags, summary: 'The process is up' } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/health/ready',
    { schema: { tags, summary: 'Required dependencies reachable (503 when not)' } },
    async (_request, reply) => {
      const checks = await checkAll();
      const ready = Object.values(checks).every((c) => !c.required || c.status !== 'down');
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );

  app.get(
    '/health/status',
    { schema: { tags, summary: 'Per-dependency health, version and environment' } },
    async () => {
      const checks = await checkAll();
      const states = Object.values(checks);
      const status = states.some((c) => c.required && c.status === 'down')
        ? 'down'
        : states.every((c) => c.status === 'healthy')
          ? 'healthy'
          : 'degraded';
      return {
        status,
        version: about.version,
        environment: about.environment,
        mode: about.mode,
        uptimeSeconds: Math.round(process.uptime()),
        timestamp: new Date().toISOString(),
        checks,
      };
    },
  );
}
