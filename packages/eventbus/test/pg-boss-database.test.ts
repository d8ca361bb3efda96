import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool, type Pool } from '@ems/platform';
import { createTestDatabase, type TestDatabase } from '@ems/platform/testing';
import { poolDatabase } from '../src/postgres/pg-boss-database.ts';

describe("pg-boss's statements on the process's pool", () => {
  let testDb: TestDatabase;
  let pool: Pool;
  beforeAll(async () => {
    testDb = await createTestDatabase(inject('testServerUrl'), 'pgboss_db');
    // One connection: whatever a failed text leaves on it, the next statement meets.
    pool = createPool(testDb.url, { max: 1 });
  });
  afterAll(async () => {
    await pool.end();
    await testDb.drop();
  });

  it('when a multi-statement text fails between its BEGIN and COMMIT, then the next statement never meets its aborted transaction', async () => {
    const db = poolDatabase(pool);
    // pg rejects on the server's ErrorResponse, which PostgreSQL flushes before its ReadyForQuery: whether the
    // transaction is still open is not yet known then. Many rounds, so the two arriving apart is seen.
    for (let round = 0; round < 300; round++) {
      await expect(db.executeSql('BEGIN; SELECT 1 / 0; COMMIT', [])).rejects.toThrow(/division by zero/);
      const { rows } = await db.executeSql('SELECT 1 AS one', []);
      expect(rows).toEqual([{ one: 1 }]);
    }
  });
});
