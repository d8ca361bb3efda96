import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Pool, ServiceModule } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import type { DemoOrg } from '@ems/demo-org';
import { access } from '@ems/contracts';
import type { EventedService } from '@ems/eventbus';
import { createRecordingBus } from '@ems/eventbus/testing';
import { connectedSystems } from '../src/connectors/registry.ts';
import { scimConnector } from '../src/connectors/scim/index.ts';
import type { ConnectorContext } from '../src/connectors/connector.ts';
import { startScimProvider, type ScimProvider } from './scim-provider.ts';
import { createKysely } from '@ems/platform';
import { ACCESS_SCHEMA, type AccessDB } from '../src/db/access.db.ts';
import { runReconciliation } from '../src/detect-drift/run-reconciliation.ts';
import { bootAccess, employeePicker, knownCase, log, poolFor, serve, type AccessHttp } from './support.ts';

/**
 * Drift detection is the connector's inspect() and nothing else: the same reconciliation against a SCIM
 * service provider (scim-provider.ts, RFC 7644 on loopback) finds a user re-activated during a hold and
 * a group membership re-added, by SCIM group id.
 */

const SYSTEM = 'idp';
const freshEmployee = employeePicker();

let testDb: TestDatabase;
let pool: Pool;
let provider: ScimProvider;
let service: ServiceModule<DemoOrg> & EventedService;
let http: AccessHttp;

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'driftscim');
  pool = poolFor(testDb);
  provider = await startScimProvider();
  const context: ConnectorContext = { systemId: SYSTEM, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, readSecretFile: () => provider.token };
  const connector = scimConnector.create(scimConnector.parseSettings({ baseUrl: provider.url, tokenFile: 'idp.token', timeout: '2s' }), context);
  // A bus that checks every event against the catalogue, as the real buses do before publishing.
  const bus = await createRecordingBus(pool);
  service = await bootAccess(pool, {
    bus,
    connectedSystems: connectedSystems([{ id: SYSTEM, name: 'Identity provider', critical: true, type: 'scim', connector, description: {} }]),
    connectorWorker: { intervalMs: 100, timeoutMs: 5_000 },
    reconcile: { intervalMs: 3_600_000 },
  });
  await service.start!();
  http = await serve(service, pool);
});

afterAll(async () => {
  await http?.app.close();
  await service?.stop?.();
  await pool?.end();
  await testDb?.drop();
  await provider?.close();
});

async function reconcile(): Promise<access.Reconciliation> {
  const res = await http.call('POST', access.AccessPaths.reconciliations);
  expect(res.status).toBe(200);
  return access.Reconciliation.parse(res.body);
}

/**
 * A fresh employee with a SCIM User (found by email) in one group, and the active grant Access holds for that
 * membership: the account as both sides agree on it before anything drifts.
 */
async function memberOfGroup(prefix: string) {
  const e = freshEmployee();
  const user = provider.addUser(e.email, { externalId: e.id });
  const group = `${prefix}-${e.id}`;
  provider.addGroup(group, [user.id]);
  await pool.query('UPDATE access.identities SET email = $2 WHERE employee_id = $1', [e.id, e.email]);
  await pool.query('INSERT INTO access.grants (id, employee_id, system_id, role) VALUES ($1, $2, $3, $4)', [`scim-${group}`, e.id, SYSTEM, group]);
  return { e, user, group };
}

/** A hold for the employee's case, waited for until the provider has applied its suspension; the case's id. */
async function holdApplied(employeeId: string): Promise<string> {
  const resignationId = knownCase(employeeId);
  expect((await http.call('POST', access.AccessPaths.holds, { resignationId, employeeId })).status).toBe(201);
  await waitFor(async () => ((await pool.query<{ status: string }>("SELECT status FROM access.connector_tasks WHERE employee_id = $1 AND action = 'suspend'", [employeeId])).rows[0]?.status === 'done' ? true : undefined), 'the suspension applied');
  return resignationId;
}

describe('drift detection against a SCIM service provider', () => {
  it('when a held user is re-activated and re-added to the group outside EMS, then one round reports account_enabled and entitlement_added by group id', async () => {
    const { e, user, group } = await memberOfGroup('g-payroll');
    const resignationId = await holdApplied(e.id);
    expect(provider.users.get(user.id)!.active).toBe(false);
    expect(provider.groups.get(group)!.members.has(user.id)).toBe(false);
    expect((await reconcile()).systems).toEqual([expect.objectContaining({ systemId: SYSTEM, newDrifts: 0 })]);

    // An administrator of the identity provider undoes it.
    provider.users.get(user.id)!.active = true;
    provider.groups.get(group)!.members.add(user.id);
    const round = await reconcile();
    expect(round.systems[0]).toMatchObject({ systemId: SYSTEM, newDrifts: 2 });
    const listed = access.DriftList.parse((await http.call('GET', `${access.AccessPaths.drifts}?employeeId=${e.id}`)).body).items;
    expect(listed.map((d) => [d.kind, d.entitlement, d.resignationId]).sort()).toEqual([
      ['account_enabled', null, resignationId],
      ['entitlement_added', group, resignationId],
    ]);
  });

  it('when the held user is also added to a group whose id is longer than an event may carry, then the account re-enabled is still reported (the long name is shortened, not the drift lost)', async () => {
    const { e, user } = await memberOfGroup('g-vpn');
    await holdApplied(e.id);

    // Someone with rights on the provider re-activates the user and adds it to a group with a 600-character id.
    const long = `g-${'x'.repeat(600)}-${e.id}`;
    provider.users.get(user.id)!.active = true;
    provider.addGroup(long, [user.id]);
    const round = await reconcile();
    expect(round.systems[0]).toMatchObject({ systemId: SYSTEM, status: 'ok', newDrifts: 2 });
    const listed = access.DriftList.parse((await http.call('GET', `${access.AccessPaths.drifts}?employeeId=${e.id}`)).body).items;
    expect(listed.map((d) => d.kind).sort()).toEqual(['account_enabled', 'entitlement_added']);
    expect(listed.find((d) => d.kind === 'entitlement_added')!.entitlement).toBe(long);
    const events = await pool.query<{ n: string }>("SELECT count(*) AS n FROM access.audit WHERE employee_id = $1 AND event = 'access_drift_detected'", [e.id]);
    expect(Number(events.rows[0]!.n)).toBe(2);
    // Found again next round: not reported twice.
    expect((await reconcile()).systems[0]).toMatchObject({ status: 'ok', newDrifts: 0 });
  });

  it('when outside any exit a user leaves one group and joins another in the provider, then EMS mirrors it without a drift: the old grant revoked, the new one discovered, each audited', async () => {
    const { e, user, group } = await memberOfGroup('g-wiki');
    provider.groups.get(group)!.members.delete(user.id);
    const joined = `g-chat-${e.id}`;
    provider.addGroup(joined, [user.id]);
    const round = await reconcile();
    expect(round.systems[0]).toMatchObject({ systemId: SYSTEM, status: 'ok' });
    expect(round.systems[0]!.discoveredGrants).toBeGreaterThanOrEqual(1);
    expect(round.systems[0]!.removedGrants).toBeGreaterThanOrEqual(1);
    const grants = await pool.query<{ role: string; status: string }>('SELECT role, status FROM access.grants WHERE employee_id = $1 AND system_id = $2 ORDER BY role', [e.id, SYSTEM]);
    expect(grants.rows).toEqual([
      { role: joined, status: 'active' },
      { role: group, status: 'revoked' },
    ]);
    const audit = await pool.query('SELECT event, from_status, to_status, reason FROM access.audit WHERE employee_id = $1 AND system_id = $2 ORDER BY id', [e.id, SYSTEM]);
    expect(audit.rows).toEqual([
      { event: 'grant_discovered', from_status: null, to_status: 'active', reason: 'discovered in Identity provider' },
      { event: null, from_status: 'active', to_status: 'revoked', reason: 'removed in Identity provider, outside EMS' },
    ]);
    const drifts = access.DriftList.parse((await http.call('GET', `${access.AccessPaths.drifts}?employeeId=${e.id}`)).body).items;
    expect(drifts).toEqual([]);
  });

  it('when the provider answers one account with an error holding a NUL or half a surrogate pair, then the round is still answered and stored (that account not compared, the message made storable)', async () => {
    const e = freshEmployee();
    provider.addUser(e.email, { externalId: e.id });
    await pool.query('UPDATE access.identities SET email = $2 WHERE employee_id = $1', [e.id, e.email]);
    await pool.query('INSERT INTO access.grants (id, employee_id, system_id, role) VALUES ($1, $2, $3, $4)', [`scim-odd-${e.id}`, e.id, SYSTEM, `g-odd-${e.id}`]);
    provider.faults.push((req) => (req.method === 'GET' && decodeURIComponent(req.path).includes(e.email) ? { status: 400, body: { detail: 'no such\u0000user \ud800 here' } } : undefined));
    const round = await reconcile();
    expect(round.systems[0]).toMatchObject({ systemId: SYSTEM, status: 'partial' });
    expect(round.systems[0]!.error).toContain('no such user');
    const stored = await pool.query<{ last_round: { systems: Array<{ status: string }> } | null; running_until: Date | null }>('SELECT last_round, running_until FROM access.reconciler');
    expect(stored.rows[0]).toMatchObject({ running_until: null, last_round: { systems: [expect.objectContaining({ status: 'partial' })] } });
  });

  it('when the system finds no account for a person outside any exit (their email changed in the directory, not yet in the provider), then EMS keeps their grants: at their resignation the system still gets its suspension, which says it found no one', async () => {
    const { e, user, group } = await memberOfGroup('g-crm');
    const statusOf = async () => (await pool.query<{ status: string }>('SELECT status FROM access.grants WHERE id = $1', [`scim-${group}`])).rows[0]!.status;
    await reconcile();
    expect(await statusOf()).toBe('active');

    // The directory gives the person a new address; the provider still knows the old one.
    await pool.query('UPDATE access.identities SET email = $2 WHERE employee_id = $1', [e.id, `renamed-${e.email}`]);
    await reconcile();
    expect(await statusOf()).toBe('active');

    expect((await http.call('POST', access.AccessPaths.holds, { resignationId: knownCase(e.id), employeeId: e.id })).status).toBe(201);
    const failed = await waitFor(async () => {
      const r = await pool.query<{ status: string; last_error: string | null }>("SELECT status, last_error FROM access.connector_tasks WHERE employee_id = $1 AND action = 'suspend'", [e.id]);
      return r.rows[0]?.status === 'failed' ? r.rows[0] : undefined;
    }, 'the suspension to fail, naming why');
    expect(failed.last_error).toContain('no SCIM User matches');
    expect(provider.users.get(user.id)!.active).toBe(true);
  });

  it('when the provider refuses EMS\u2019s own credentials, then the round marks the system failed after one refusal, not one per account (no storm of refused logins every round)', async () => {
    const context: ConnectorContext = { systemId: SYSTEM, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, readSecretFile: () => 'a-token-the-provider-never-issued' };
    const refused = scimConnector.create(scimConnector.parseSettings({ baseUrl: provider.url, tokenFile: 'idp.token', timeout: '2s' }), context);
    const accounts = Number((await pool.query<{ n: string }>('SELECT count(DISTINCT employee_id) AS n FROM access.grants WHERE system_id = $1', [SYSTEM])).rows[0]!.n);
    expect(accounts).toBeGreaterThan(2);
    provider.seen.length = 0;
    const round = await runReconciliation(
      { db: createKysely<AccessDB>(pool, ACCESS_SCHEMA), clock: { now: () => new Date() }, log, systems: { all: [{ id: SYSTEM, name: 'Identity provider', connector: refused }] }, concurrency: 1, timeoutMs: 5_000 },
      null,
    );
    expect(round.systems[0]).toMatchObject({ systemId: SYSTEM, status: 'failed', accounts: 0 });
    expect(round.systems[0]!.error).toContain('401');
    expect(provider.seen).toHaveLength(1);
  });
});
