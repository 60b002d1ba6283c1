import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share real Redis, PostgreSQL and Docker: two workers on a two-core machine keeps them honest
    // without starving the services they talk to.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
