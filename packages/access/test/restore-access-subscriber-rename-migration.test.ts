import { describe, expect, inject, it } from 'vitest';
import { createPool, migrate } from '@ems/platform';
import { createTestDatabase } from '@ems/platform/testing';
import { ACCESS_SCHEMA } from '../src/db/access.db.ts';
import { migrations } from '../src/db/migrations.ts';

// One name per action: Access's migration 10 moves the processed-event records of the subscriber
// access.lift-hold-when-resignation-closed to its new name, so an event it handled before the upgrade is
// not handled again after it (firstDelivery keys on the subscriber's name).
const OLD = 'access.lift-hold-when-resignation-closed';
const NEW = 'access.restore-access-when-resignation-closed';

describe('upgrading a database whose restore-access subscriber recorded events under its old name', () => {
  it('when migration 10 runs, then its records are under the new name, an event recorded under both names is kept once, and other subscribers are untouched', async () => {
    const db = await createTestDatabase(inject('testServerUrl'), 'accessrename');
    const pool = createPool(db.url, { max: 2 });
    try {
      await migrate(pool, ACCESS_SCHEMA, migrations.filter((m) => m.version <= 9));
      await pool.query(
        `INSERT INTO access.processed_events (subscriber, event_id, processed_at) VALUES
           ($1, 'e-only-old', '2026-11-01T00:00:00Z'),
           ($1, 'e-both', '2026-11-02T00:00:00Z'),
           ($2, 'e-both', '2026-11-03T00:00:00Z'),
           ($2, 'e-only-new', '2026-11-04T00:00:00Z'),
           ('access.suspend-access-when-resignation-submitted', 'e-only-old', '2026-11-05T00:00:00Z')`,
        [OLD, NEW],
      );

      await migrate(pool, ACCESS_SCHEMA, migrations);

      const { rows } = await pool.query<{ subscriber: string; event_id: string; processed_at: Date }>(
        'SELECT subscriber, event_id, processed_at FROM access.processed_events ORDER BY subscriber, event_id',
      );
      expect(rows.map((r) => [r.subscriber, r.event_id, r.processed_at.toISOString()])).toEqual([
        [NEW, 'e-both', '2026-11-03T00:00:00.000Z'],
        [NEW, 'e-only-new', '2026-11-04T00:00:00.000Z'],
        [NEW, 'e-only-old', '2026-11-01T00:00:00.000Z'],
        ['access.suspend-access-when-resignation-submitted', 'e-only-old', '2026-11-05T00:00:00.000Z'],
      ]);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
