import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share real Redis, PostgreSQL and Docker: two workers on a two-core machine keeps them honest
    // without starving the services they talk to.
    maxWorkers: 2,
    // scripts/test.sh asks for a JSON report too, to print one closing line over every suite.
    reporters: process.env.SLIPWAY_VITEST_JSON ? ['default', 'json'] : ['default'],
    ...(process.env.SLIPWAY_VITEST_JSON ? { outputFile: { json: process.env.SLIPWAY_VITEST_JSON } } : {}),
  },
});
