import { defineConfig } from 'vitest/config';

// Unit tests (pure logic) and integration tests (real PostgreSQL, real SMTP over loopback) are
// separate projects so `npm run test:unit` stays fast. Integration files share one throwaway
// database per test file; they run one file at a time to stay kind to a 2-core machine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
