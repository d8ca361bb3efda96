import { defineConfig } from 'vitest/config';

/*
 * Three tiers, one run (`npm test` runs all three; CI runs `npm test`):
 *
 *   unit         packages/*\/src/**\/*.test.ts       pure logic, no database            parallel
 *   integration  packages/*\/test, test/ (the rest)   one service or the API in-process,  2 files at a time
 *                                                     real PostgreSQL / SMTP / NATS
 *   system       SYSTEM below                         whole processes (spawned, killed,   1 file at a time
 *                                                     restarted), fleets, replicas, a
 *                                                     browser, the benchmark; or slow
 *
 * `npm run test:fast` = unit + integration; `npm run test:system` = system.
 *
 * Why integration files may run two at a time: each file creates (and drops) its own database
 * (createTestDatabase), its own NATS stream prefix (testNatsPrefix), and listens on ports the OS picks
 * (freePort / port 0); nothing in test/support is shared between files. Two at a time keeps the
 * connections of two in-process EMSs (≈40 each at their peak, measured) under the 100 a stock
 * PostgreSQL allows, and both cores busy. System files kill processes and measure restarts: they run
 * alone, so a slow neighbour cannot starve a restart.
 */
const SYSTEM = [
  // Whole processes: spawned, crashed, restarted, replicated.
  'test/fleet-crash.test.ts',
  'test/replicas.test.ts',
  'test/crash-recovery.test.ts',
  'test/resume-after-kill.test.ts',
  'test/resume-after-kill-nats.test.ts',
  'test/timer-restart.test.ts',
  'test/workflow-upgrade.test.ts',
  'test/process-lifecycle.test.ts',
  'test/service-process.test.ts',
  'test/split-deployment-auth.test.ts',
  'test/embedded-start.test.ts',
  'test/startup-output.test.ts',
  'test/docker-compose.test.ts',
  // The benchmark's smoke runs (a handful of cases, both modes, NATS; LDAP).
  'test/bench-smoke.test.ts',
  'test/bench-ldap-smoke.test.ts',
  // A real browser against a running EMS.
  'test/browser/**/*.test.ts',
  // Slow (measured 65–72 s and ≈190 s): the NATS bus with a server of its own killed and restarted; both
  // acceptance suites once more on NATS (the PostgreSQL-bus runs of the same suites stay in integration).
  'packages/eventbus/test/nats-bus.test.ts',
  'test/acceptance/choreography-nats.test.ts',
  // ≈3,800 generated requests against a running EMS.
  'test/fuzz.test.ts',
];

const integration = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  globalSetup: ['test/global-setup.ts'],
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...SYSTEM],
          ...integration,
          sequence: { groupOrder: 1 },
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'system',
          include: SYSTEM,
          ...integration,
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          maxWorkers: 1,
        },
      },
    ],
  },
});
