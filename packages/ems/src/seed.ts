import type { DemoOrg } from '@ems/demo-org';
import type { Pool, ServiceModule } from '@ems/platform';

/** Loads the demo organisation into every service that owns a part of it, then marks it done. */
export async function seedAll(pool: Pool, services: readonly ServiceModule<DemoOrg>[], org: DemoOrg): Promise<void> {
  for (const s of services) if (s.seed) await s.seed(org);
  await pool.query(
    `INSERT INTO ems.meta (key, value) VALUES ('seeded_at', now()::text)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`,
  );
}

export async function isSeeded(pool: Pool): Promise<boolean> {
  const r = await pool.query(`SELECT 1 FROM ems.meta WHERE key = 'seeded_at'`);
  return (r.rowCount ?? 0) > 0;
}
