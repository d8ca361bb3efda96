import type { DemoOrg } from '@ems/demo-org';
import type { Pool, ServiceModule } from '@ems/platform';

/**
 * Bumped when a release seeds something new (e.g. a service that owns a new part of the organisation),
 * so an existing installation is topped up on its next start. Every seed is an idempotent upsert.
 */
export const SEED_VERSION = 3;

/** Loads the demo organisation into every service that owns a part of it, then records the version. */
export async function seedAll(pool: Pool, services: readonly ServiceModule<DemoOrg>[], org: DemoOrg): Promise<void> {
  for (const s of services) if (s.seed) await s.seed(org);
  await pool.query(
    `INSERT INTO ems.meta (key, value) VALUES ('seed_version', $1)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`,
    [String(SEED_VERSION)],
  );
}

/** True when this installation holds the current demo seed. */
export async function isSeeded(pool: Pool): Promise<boolean> {
  const r = await pool.query<{ value: string }>(`SELECT value FROM ems.meta WHERE key = 'seed_version'`);
  return Number(r.rows[0]?.value ?? 0) >= SEED_VERSION;
}
