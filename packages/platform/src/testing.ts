import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withDatabase } from './db.ts';
import { bindable, unassignedPorts } from './embedded-postgres.ts';

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
  await admin(serverUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
    // Its service roles (`ems migrate` names them <database>_<service>) are the cluster's: they go with it.
    const roles = await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) AND NOT rolsuper', [`${name}_`]);
    for (const r of roles.rows) await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(r.rolname)}`);
  });
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

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  contentType: string;
  body: T;
}

/** A JSON request as a test makes it: any status is returned, never thrown. A string body is sent as is. */
export async function requestJson<T = Record<string, unknown>>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: (text ? JSON.parse(text) : {}) as T };
}

/** Polls until `probe` returns a value other than undefined; on time-out, fails naming what it waited for. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The cases a service's own tests name, standing in for EMS's answer to "does this case exist, whose is
 * it?" (as those tests stand in for EMS's events). The real lookup asks EMS over HTTP; the acceptance
 * suites and the split-deployment test run it.
 */
export function knownCases(): { lookup: import('./case-lookup.ts').CaseLookup; add(resignationId: string, employeeId: string): string } {
  const cases = new Map<string, string>();
  return {
    lookup: { get: async (id) => (cases.has(id) ? { id, employeeId: cases.get(id)! } : undefined) },
    add(resignationId, employeeId) {
      cases.set(resignationId, employeeId);
      return resignationId;
    },
  };
}

/**
 * A free port whose next `count - 1` ports are free too: `ems start --fleet` takes EMS_PORT for its gateway
 * and the ports after it for its members, and refuses to start when one is taken (on a shared machine,
 * one free port says nothing about its neighbours).
 */
export async function freePortRange(count: number): Promise<number> {
  // Below the ephemeral range, like freePort: an outgoing connection is never given one of these.
  const [low, high] = await unassignedPorts();
  for (let tries = 0; tries < 50; tries++) {
    const base = low + Math.floor(Math.random() * (high - low - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await bindable(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
