import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKysely, HttpProblem, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { ACCESS_SCHEMA, type AccessDB } from '../src/db/access.db.ts';
import { createReconciler, type Reconciler } from '../src/detect-drift/reconciler.ts';
import { bootAccess, log, poolFor } from './support.ts';

/**
 * runNow (POST /api/access/reconciliations) while another process's round holds the reconciler row:
 * it looks again (platform's backoffDelay, 50 ms doubling up to 1 s) until the round ends, or answers
 * 409 when it did not end within the wait.
 */

let testDb: TestDatabase;
let pool: Pool;
let reconciler: Reconciler;

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'reconciler');
  pool = poolFor(testDb, 4);
  // Migrated and seeded as a running Access would be; its own reconciler is never started here.
  await bootAccess(pool, {});
  const db = createKysely<AccessDB>(pool, ACCESS_SCHEMA);
  reconciler = createReconciler({ db, clock: { now: () => new Date() }, log, systems: { all: [] }, concurrency: 1, timeoutMs: 1_000 }, { intervalMs: 3_600_000 });
});

afterAll(async () => {
  await reconciler?.stop();
  await pool?.end();
  await testDb?.drop();
});

/** Another process's round, as its claim leaves the row: running, with a lease and a token. */
const holdRow = (token: string) =>
  pool.query("UPDATE access.reconciler SET running_until = clock_timestamp() + interval '1 hour', run_token = $1", [token]);
const releaseRow = (token: string) =>
  pool.query('UPDATE access.reconciler SET running_until = NULL, run_token = NULL, last_round_at = clock_timestamp() WHERE run_token = $1', [token]);

describe('a round asked for now while another runs', () => {
  it('when the other round does not end within the wait, then it answers 409 and the other round keeps the row', async () => {
    const other = randomUUID();
    await holdRow(other);
    const err: unknown = await reconciler.runNow(null, 300).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpProblem);
    expect((err as HttpProblem).status).toBe(409);
    const { rows } = await pool.query<{ run_token: string | null }>('SELECT run_token FROM access.reconciler');
    expect(rows).toEqual([{ run_token: other }]);
    await releaseRow(other);
  });

  it('when the other round\'s lease runs out while it waits, then it claims the row only after that, runs its round and releases the row', async () => {
    // The other round's lease ends 600 ms from now (the database's clock): until then every claim fails, so runNow must look again.
    const { rows: held } = await pool.query<{ until: Date }>(
      "UPDATE access.reconciler SET running_until = clock_timestamp() + interval '600 milliseconds', run_token = $1 RETURNING running_until AS until",
      [randomUUID()],
    );
    const summary = await reconciler.runNow(null, 30_000);
    expect(summary.systems).toEqual([]);
    const { rows } = await pool.query<{ run_token: string | null; running_until: Date | null; last_round_at: Date; last_round: { systems: unknown[] } | null }>(
      'SELECT run_token, running_until, last_round_at, last_round FROM access.reconciler',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ run_token: null, running_until: null });
    expect(rows[0]!.last_round?.systems).toEqual([]);
    // Its round ended after the other's lease did: it waited for it rather than running beside it.
    expect(rows[0]!.last_round_at.getTime()).toBeGreaterThanOrEqual(held[0]!.until.getTime());
  });
});
