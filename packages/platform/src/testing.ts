import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withDatabase } from './db.ts';

/**
 * A throwaway database for one test file. Its name marks it as a test database, and drop() refuses
 * to touch anything else (a guard against a misconfigured URL pointing at real data).
 */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export const TEST_DB_PREFIX = 'ems_test_';

export async function createTestDatabase(serverUrl: string, label = 'db'): Promise<TestDatabase> {
  const name = `${TEST_DB_PREFIX}${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  return {
    url: withDatabase(serverUrl, name),
    name,
    drop: () => dropTestDatabase(serverUrl, name),
  };
}

export async function dropTestDatabase(serverUrl: string, name: string): Promise<void> {
  if (!name.startsWith(TEST_DB_PREFIX)) throw new Error(`refusing to drop ${name}: not a test database`);
  await admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`));
}

async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
