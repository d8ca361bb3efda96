import type { Pool } from './db.ts';
import { quoteIdent, withTransaction } from './db.ts';

export interface Migration {
  /** Strictly increasing; never renumber a migration that has shipped. */
  version: number;
  name: string;
  sql: string;
}

/**
 * Applies a service's versioned migrations to its own schema, each in a transaction.
 * An advisory lock per schema serialises replicas that start together: one migrates, the others wait
 * and then find nothing to do.
 */
export async function migrate(pool: Pool, schema: string, migrations: readonly Migration[]): Promise<number[]> {
  const versions = migrations.map((m) => m.version);
  if (versions.some((v, i) => i > 0 && v <= versions[i - 1]!)) {
    throw new Error(`migrations of schema ${schema} must have strictly increasing versions`);
  }
  const s = quoteIdent(schema);
  return withTransaction(pool, async (client) => {
    const applied: number[] = [];
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`ems.migrate.${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
    const have = new Set(done.rows.map((r) => r.version));
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      await client.query(`SET LOCAL search_path TO ${s}, public`);
      await client.query(m.sql);
      await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
