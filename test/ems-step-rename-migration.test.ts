import { describe, expect, inject, it } from 'vitest';
import { createPool, migrate } from '@ems/platform';
import { createTestDatabase } from '@ems/platform/testing';
import { EMS_SCHEMA } from '@ems/ems';
import { migrations } from '../packages/ems/src/db/migrations.ts';

// One name per action: EMS's migration 17 renames the step blockAccess to suspendAccess, with the timeline keys
// built from it, so a case opened before the upgrade reads and retries under the new name.
describe('upgrading a database whose cases recorded the step blockAccess', () => {
  it('when migration 17 runs, then the step is suspendAccess with its status, its timeline keys follow, other keys are untouched, and blockAccess is refused', async () => {
    const db = await createTestDatabase(inject('testServerUrl'), 'steprename');
    const pool = createPool(db.url, { max: 2 });
    try {
      await migrate(pool, EMS_SCHEMA, migrations.filter((m) => m.version <= 16));
      const id = '00000000-0000-4000-8000-000000000017';
      await pool.query(
        `INSERT INTO ems.resignations (id, employee_id, employee_name, employee_email, employee_timezone, hr_partner_id, last_working_day, status, mode, correlation_id, submitted_at, updated_at)
         VALUES ($1, 'e1', 'Ada', 'ada@acme.example', 'Europe/Berlin', 'hrp-1', '2026-12-31', 'awaiting_decision', 'orchestration', 'corr-1', now(), now())`,
        [id],
      );
      await pool.query(`INSERT INTO ems.steps (resignation_id, name, status, attempts) VALUES ($1, 'blockAccess', 'done', 2), ($1, 'notifyManager', 'done', 1)`, [id]);
      await pool.query(
        `INSERT INTO ems.timeline (resignation_id, at, service, type, summary, correlation_id, dedupe_key)
         VALUES ($1, now(), 'access', 'x', 'attempt', 'corr-1', 'blockAccess.attempt.1'), ($1, now(), 'access', 'x', 'done', 'corr-1', 'blockAccess.done'),
                ($1, now(), 'notification', 'x', 'done', 'corr-1', 'notifyManager.done'), ($1, now(), 'ems', 'x', 'event', 'corr-1', 'event.blockAccess.done')`,
        [id],
      );

      await migrate(pool, EMS_SCHEMA, migrations);

      expect((await pool.query(`SELECT name, status, attempts FROM ems.steps WHERE resignation_id = $1 ORDER BY name`, [id])).rows).toEqual([
        { name: 'notifyManager', status: 'done', attempts: 1 },
        { name: 'suspendAccess', status: 'done', attempts: 2 },
      ]);
      expect((await pool.query(`SELECT dedupe_key FROM ems.timeline WHERE resignation_id = $1 ORDER BY dedupe_key`, [id])).rows.map((r: { dedupe_key: string }) => r.dedupe_key)).toEqual([
        'event.blockAccess.done',
        'notifyManager.done',
        'suspendAccess.attempt.1',
        'suspendAccess.done',
      ]);
      await expect(pool.query(`INSERT INTO ems.steps (resignation_id, name, status, attempts) VALUES ($1, 'blockAccess', 'pending', 0)`, [id])).rejects.toThrow(/steps_name_check/);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
