import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Each file builds its own database (a fresh PostgreSQL database or an in-memory PGlite)
    // and its own Redis namespace, so files run in parallel and in any order.
    pool: 'forks',
    fileParallelism: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI also writes a JSON report, from which .ci/run prints one 'N passed, N failed' line.
    reporters: process.env.VITEST_JSON_OUTPUT ? ['default', 'json'] : ['default'],
    outputFile: { json: process.env.VITEST_JSON_OUTPUT ?? 'test-results/vitest.json' },
  },
});
