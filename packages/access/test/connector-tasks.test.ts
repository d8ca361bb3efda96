import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKysely, type Clock, type Pool, type ServiceModule } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import type { DemoOrg, Employee } from '@ems/demo-org';
import { access } from '@ems/contracts';
import { EventSources, EventTypes, type EventData } from '@ems/contracts/events';
import { createEvent, type CloudEvent, type EventedService } from '@ems/eventbus';
import { createRecordingBus, type RecordingBus } from '@ems/eventbus/testing';
import { ACCESS_SCHEMA, type AccessDB } from '../src/db/access.db.ts';
import { suspendAccessInTransaction } from '../src/suspend-access/suspend-access.ts';
import { releaseHold } from '../src/restore-access/release-hold.ts';
import { byEvent } from '../src/audit/actor.ts';
import { verifyAuditChain } from '../src/audit/verify-audit-chain.ts';
import { sealAllPending } from '../src/audit/seal-audit.ts';
import { connectedSystems, type ConnectedSystem } from '../src/connectors/registry.ts';
import { ConnectorError, type Connector, type ConnectorChange, type ConnectorOutcome } from '../src/connectors/connector.ts';
import { createConnectorWorker } from '../src/connectors/apply-changes/apply-changes.worker.ts';
import { UPDATE_IDENTITY_SUBSCRIBER } from '../src/identities/update-identity-when-person-changed.ts';
import { bootAccess, count, employeePicker, knownCase, log, org, poolFor, serve, type AccessHttp } from './support.ts';

/**
 * Access carrying its decisions to connected systems: a hold, release or revocation writes one task per
 * connected system concerned, in its own transaction; the connector worker applies each, exactly once,
 * in order per employee and system, retrying what is transient, and the hold/revocation, the audit and
 * the events say what each system did. The systems here are a small in-test implementation of the
 * Connector port (this tests Access's own logic); the real LDAP/SCIM/HTTP connectors have their own tests.
 */

type Behaviour = (change: ConnectorChange, signal: AbortSignal) => Promise<ConnectorOutcome>;

/** A connected system as a script: records every call, answers as the test says (per employee), verified by default. */
class ScriptedSystem implements Connector {
  readonly calls: ConnectorChange[] = [];
  readonly behaviours = new Map<string, Behaviour>();
  closed = false;
  readonly type: 'ldap' | 'scim' | 'http';
  constructor(type: 'ldap' | 'scim' | 'http') {
    this.type = type;
  }
  apply(change: ConnectorChange, signal: AbortSignal): Promise<ConnectorOutcome> {
    this.calls.push(change);
    const behave = this.behaviours.get(change.account.employeeId);
    return behave ? behave(change, signal) : Promise.resolve({ verification: `${change.action} verified for ${change.account.email}` });
  }
  callsFor(employeeId: string): ConnectorChange[] {
    return this.calls.filter((c) => c.account.employeeId === employeeId);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A promise the test opens when it wants (a system that hangs until then). */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

const SYSTEMS = [
  { id: 'dir-a', name: 'Directory A', critical: true, type: 'ldap' as const },
  { id: 'idp-b', name: 'Identity provider B', critical: true, type: 'scim' as const },
  { id: 'wiki-c', name: 'Wiki C', critical: false, type: 'http' as const },
];

function scriptedSystems(): { systems: Record<string, ScriptedSystem>; connected: ReturnType<typeof connectedSystems> } {
  const systems = Object.fromEntries(SYSTEMS.map((s) => [s.id, new ScriptedSystem(s.type)]));
  const list: ConnectedSystem[] = SYSTEMS.map((s) => ({ ...s, connector: systems[s.id]!, description: { url: `${s.type}://${s.id}.example` } }));
  return { systems, connected: connectedSystems(list) };
}

const ROLES = { 'dir-a': ['cn=eng,ou=groups,dc=acme', 'cn=vpn,ou=groups,dc=acme'], 'idp-b': ['grp-1'], 'wiki-c': ['editor'] } as const;

/** Gives `employee` grants on the connected systems (as an administrator would have). */
async function grantConnected(pool: Pool, employee: Employee): Promise<void> {
  for (const [systemId, roles] of Object.entries(ROLES)) {
    for (const [i, role] of roles.entries()) {
      await pool.query(`INSERT INTO access.grants (id, employee_id, system_id, role) VALUES ($1, $2, $3, $4)`, [`${employee.id}-${systemId}-${i}`, employee.id, systemId, role]);
    }
  }
}

const RETRY = { intervalMs: 100, timeoutMs: 3_000, maxAttempts: 3, backoffBaseMs: 50, backoffMaxMs: 200 };

type Changed = EventData<typeof EventTypes.systemAccessChanged>;
type ChangeFailed = EventData<typeof EventTypes.systemAccessChangeFailed>;

describe('connector tasks and the connector worker', () => {
  const freshEmployee = employeePicker();
  let testDb: TestDatabase;
  let pool: Pool;
  let bus: RecordingBus;
  let service: ServiceModule<DemoOrg> & EventedService;
  let http: AccessHttp;
  let systems: Record<string, ScriptedSystem>;

  beforeAll(async () => {
    testDb = await createTestDatabase(inject('testServerUrl'), 'accessconnectors');
    pool = poolFor(testDb, 20);
    bus = await createRecordingBus(pool);
    const scripted = scriptedSystems();
    systems = scripted.systems;
    service = await bootAccess(pool, { bus, connectedSystems: scripted.connected, connectorWorker: RETRY });
    await service.start!();
    http = await serve(service, pool);
  });

  afterAll(async () => {
    await http?.app.close();
    await service?.stop?.();
    await pool?.end();
    await testDb?.drop();
  });

  const hold = async (employee: Employee) => {
    const r = await http.call('POST', access.AccessPaths.holds, { resignationId: knownCase(employee.id), employeeId: employee.id });
    expect(r.status).toBe(201);
    return access.AccessHold.parse(r.body);
  };
  const holdView = async (id: string) => access.AccessHold.parse((await http.call('GET', `/api/access-holds/${id}`)).body);
  /** Waits until the hold shows `n` system changes, none pending. */
  const settled = (id: string, n: number) =>
    waitFor(async () => {
      const h = await holdView(id);
      return h.systems.length === n && h.systems.every((s) => s.status !== 'pending') ? h : undefined;
    }, `the hold's ${n} system changes to settle`);
  const eventsOf = async <T>(type: string, employeeId: string) => (await bus.published(type)).map((e) => e.data as T & { employeeId: string }).filter((d) => d.employeeId === employeeId);
  const tasksOf = (employeeId: string) => count(pool, `SELECT count(*)::int AS n FROM access.connector_tasks WHERE employee_id = $1`, [employeeId]);

  it('when a hold suspends grants on connected systems, then its transaction writes one suspend task per critical connected system; each is applied and verified, and the hold, the audit and the events say so', async () => {
    const employee = freshEmployee();
    await grantConnected(pool, employee);
    const created = await hold(employee);
    // Written with the hold: visible in its very answer, the non-critical wiki left out.
    expect(created.systems.map((s) => [s.systemId, s.action, s.entitlements])).toEqual([
      ['dir-a', 'suspend', [...ROLES['dir-a']]],
      ['idp-b', 'suspend', [...ROLES['idp-b']]],
    ]);

    const done = await settled(created.id, 2);
    // The answer at creation is what reading the hold back shows, as it was then (the tasks pending).
    const fixed = ({ changeId, systemId, systemName, connector, action, entitlements }: (typeof done.systems)[number]) => ({ changeId, systemId, systemName, connector, action, entitlements });
    expect(created.systems.map(fixed)).toEqual(done.systems.map(fixed));
    for (const s of created.systems) {
      expect(s).toMatchObject({ status: 'pending', attempts: 0, lastError: null, verification: null, nextAttemptAt: created.createdAt, updatedAt: created.createdAt });
    }
    expect({ ...created, systems: [] }).toEqual({ ...done, systems: [] });
    for (const s of done.systems) {
      expect(s).toMatchObject({ status: 'done', attempts: 1, lastError: null, verification: `suspend verified for ${employee.email}`, nextAttemptAt: null });
    }
    expect(systems['dir-a']!.callsFor(employee.id)).toEqual([
      { changeId: done.systems[0]!.changeId, action: 'suspend', account: { employeeId: employee.id, email: employee.email }, entitlements: [...ROLES['dir-a']] },
    ]);
    expect(systems['wiki-c']!.callsFor(employee.id)).toEqual([]);

    const changed = await eventsOf<Changed>(EventTypes.systemAccessChanged, employee.id);
    // The two systems' changes run side by side: in whichever order they finished.
    expect(changed.map((e) => [e.systemId, e.connector, e.action, e.attempts, e.resignationId]).sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
      ['dir-a', 'ldap', 'suspend', 1, created.resignationId],
      ['idp-b', 'scim', 'suspend', 1, created.resignationId],
    ]);
    const audit = (await http.audit(`employeeId=${employee.id}`)).filter((e) => e.event !== null).sort((a, b) => String(a.system).localeCompare(String(b.system)));
    expect(audit.map((e) => [e.system, e.event, e.holdId, e.grantId, e.actor.client])).toEqual([
      ['dir-a', 'system_access_changed', created.id, null, 'connectors'],
      ['idp-b', 'system_access_changed', created.id, null, 'connectors'],
    ]);
    expect(audit[0]!.detail).toMatchObject({ changeId: done.systems[0]!.changeId, action: 'suspend', verification: `suspend verified for ${employee.email}` });
    // Sealed, this employee's entries are in the chain and the chain verifies (other tests' retries may still be writing: pending need not be 0).
    await sealAllPending(createKysely<AccessDB>(pool, ACCESS_SCHEMA));
    expect((await http.audit(`employeeId=${employee.id}`)).filter((e) => e.pending)).toEqual([]);
    expect(await verifyAuditChain(createKysely<AccessDB>(pool, ACCESS_SCHEMA))).toMatchObject({ ok: true });
  });

  it('when the hold’s transaction rolls back, then no task is written either', async () => {
    const employee = freshEmployee();
    await grantConnected(pool, employee);
    const db = createKysely<AccessDB>(pool, ACCESS_SCHEMA);
    const rolledBack = new Error('the caller failed after the hold');
    await expect(
      db.transaction().execute(async (trx) => {
        const outcome = await suspendAccessInTransaction(trx, { clock: { now: () => new Date() }, bus }, { resignationId: knownCase(employee.id), employeeId: employee.id }, undefined, {}, byEvent(null));
        expect('refused' in outcome).toBe(false);
        expect(await trx.selectFrom('connector_tasks').select('id').where('employee_id', '=', employee.id).execute()).toHaveLength(2);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    expect(await tasksOf(employee.id)).toBe(0);
    expect(await count(pool, `SELECT count(*)::int AS n FROM access.holds WHERE employee_id = $1`, [employee.id])).toBe(0);
  });

  it('when a system fails transiently and then answers, then the change is retried, done on the second attempt, and told once as failing (willRetry) and once as done', async () => {
    const employee = freshEmployee();
    await grantConnected(pool, employee);
    let calls = 0;
    systems['dir-a']!.behaviours.set(employee.id, async (c) => {
      calls++;
      if (calls === 1) throw new ConnectorError('server busy (LDAP 51)', { transient: true, code: '51' });
      return { verification: `bind as ${c.account.email} refused: account locked` };
    });
    const created = await hold(employee);
    const done = await settled(created.id, 2);
    expect(done.systems.find((s) => s.systemId === 'dir-a')).toMatchObject({ status: 'done', attempts: 2, lastError: 'server busy (LDAP 51)', verification: `bind as ${employee.email} refused: account locked` });

    const failed = await eventsOf<ChangeFailed>(EventTypes.systemAccessChangeFailed, employee.id);
    expect(failed.map((e) => [e.systemId, e.willRetry, e.attempts, e.error])).toEqual([['dir-a', true, 1, 'server busy (LDAP 51)']]);
    expect(failed[0]!.retryAt).not.toBeNull();
    const changed = await eventsOf<Changed>(EventTypes.systemAccessChanged, employee.id);
    expect(changed.map((e) => [e.systemId, e.attempts])).toEqual([
      ['idp-b', 1],
      ['dir-a', 2],
    ]);
  });

  it('when a system refuses for good, then its change fails at once with its own error (audited, told once, willRetry false) and the other system is not held up', async () => {
    const employee = freshEmployee();
    await grantConnected(pool, employee);
    systems['idp-b']!.behaviours.set(employee.id, async () => {
      throw new ConnectorError('no SCIM user matches userName eq "x" (404)', { transient: false, code: '404' });
    });
    const created = await hold(employee);
    const done = await settled(created.id, 2);
    expect(done.systems.map((s) => [s.systemId, s.status, s.attempts])).toEqual([
      ['dir-a', 'done', 1],
      ['idp-b', 'failed', 1],
    ]);
    expect(done.systems[1]!.lastError).toBe('no SCIM user matches userName eq "x" (404)');
    const failed = await eventsOf<ChangeFailed>(EventTypes.systemAccessChangeFailed, employee.id);
    expect(failed.map((e) => [e.systemId, e.willRetry, e.retryAt])).toEqual([['idp-b', false, null]]);
    const audit = (await http.audit(`employeeId=${employee.id}`)).filter((e) => e.event === 'system_access_change_failed');
    expect(audit.map((e) => [e.system, e.reason])).toEqual([['idp-b', 'suspend on idp-b (scim) failed, refused: no SCIM user matches userName eq "x" (404)']]);
  });

  it('when a system keeps failing transiently, then it is tried maxAttempts times and given up: told when it first failed and when Access gave up', async () => {
    const employee = freshEmployee();
    await grantConnected(pool, employee);
    systems['dir-a']!.behaviours.set(employee.id, async () => {
      throw new ConnectorError('connect ECONNREFUSED 127.0.0.1:389', { transient: true });
    });
    const created = await hold(employee);
    const done = await settled(created.id, 2);
    expect(done.systems.find((s) => s.systemId === 'dir-a')).toMatchObject({ status: 'failed', attempts: RETRY.maxAttempts });
    expect(systems['dir-a']!.callsFor(employee.id)).toHaveLength(RETRY.maxAttempts);
    const failed = await eventsOf<ChangeFailed>(EventTypes.systemAccessChangeFailed, employee.id);
    expect(failed.map((e) => [e.willRetry, e.attempts])).toEqual([
      [true, 1],
      [false, RETRY.maxAttempts],
    ]);
  });

  it('when one system hangs, then the other’s change is made meanwhile; the hung one completes when it answers', async () => {
    const employee = freshEmployee();
    await grantConnected(pool, employee);
    const hung = gate();
    systems['dir-a']!.behaviours.set(employee.id, async () => {
      await hung.wait;
      return { verification: 'locked at last' };
    });
    const created = await hold(employee);
    await waitFor(async () => ((await holdView(created.id)).systems.find((s) => s.systemId === 'idp-b')?.status === 'done' ? true : undefined), 'idp-b done');
    expect((await holdView(created.id)).systems.find((s) => s.systemId === 'dir-a')?.status).toBe('pending');
    hung.open();
    const done = await settled(created.id, 2);
    expect(done.systems.map((s) => s.status)).toEqual(['done', 'done']);
  });

  it('when a system\u2019s entitlements are more, or longer, than an event may carry, then the change is still recorded once (the event shortens them, the audit keeps them whole)', async () => {
    const employee = freshEmployee();
    const long = `cn=${'deep'.repeat(150)},ou=groups,dc=acme`;
    await pool.query(`INSERT INTO access.grants (id, employee_id, system_id, role) VALUES ($1, $2, 'dir-a', $3)`, [`${employee.id}-long`, employee.id, long]);
    await pool.query(
      `INSERT INTO access.grants (id, employee_id, system_id, role) SELECT $1 || '-many-' || n, $2, 'dir-a', 'cn=g' || n || ',ou=groups,dc=acme' FROM generate_series(1, 1000) AS n`,
      [employee.id, employee.id],
    );
    const created = await hold(employee);
    const done = await settled(created.id, 1);
    expect(done.systems[0]).toMatchObject({ systemId: 'dir-a', status: 'done', attempts: 1 });
    expect(done.systems[0]!.entitlements).toHaveLength(1001);
    expect(systems['dir-a']!.callsFor(employee.id)).toHaveLength(1);
    const [told] = await eventsOf<Changed>(EventTypes.systemAccessChanged, employee.id);
    expect(told!.entitlements.length).toBeLessThanOrEqual(1000);
    expect(told!.entitlements.every((e) => e.length <= 500)).toBe(true);
    const audited = await pool.query<{ detail: { entitlements: string[] } }>(`SELECT detail FROM access.audit WHERE employee_id = $1 AND event = 'system_access_changed'`, [employee.id]);
    expect(audited.rows).toHaveLength(1);
    expect(audited.rows[0]!.detail.entitlements).toContain(long);
    expect(audited.rows[0]!.detail.entitlements).toHaveLength(1001);
  });

  it('when a hold is released while its suspend is still on its way to a system, then the restore waits for it: each system sees suspend, then restore, with exactly the roles given back', async () => {
    const employee = freshEmployee();
    await grantConnected(pool, employee);
    const slow = gate();
    systems['dir-a']!.behaviours.set(employee.id, async (c) => {
      if (c.action === 'suspend') await slow.wait;
      return { verification: `${c.action} verified` };
    });
    const created = await hold(employee);
    const released = await http.call('POST', `/api/access-holds/${created.id}/release`, { reason: 'retained' });
    expect(released.status).toBe(200);
    // The barrier: idp-b (not held up) has done both; dir-a has still only seen the suspend.
    await waitFor(
      async () => ((await holdView(created.id)).systems.filter((s) => s.systemId === 'idp-b' && s.status === 'done').length === 2 ? true : undefined),
      'idp-b suspended and restored',
    );
    expect(systems['dir-a']!.callsFor(employee.id).map((c) => c.action)).toEqual(['suspend']);
    slow.open();
    const done = await settled(created.id, 4);
    expect(done.systems.map((s) => [s.systemId, s.action, s.status])).toEqual([
      ['dir-a', 'suspend', 'done'],
      ['idp-b', 'suspend', 'done'],
      ['dir-a', 'restore', 'done'],
      ['idp-b', 'restore', 'done'],
    ]);
    expect(systems['dir-a']!.callsFor(employee.id).map((c) => [c.action, c.entitlements])).toEqual([
      ['suspend', [...ROLES['dir-a']]],
      ['restore', [...ROLES['dir-a']]],
    ]);
  });

  it('when a hold is released while another hold of the employee is active, then no system is restored (the accounts stay locked); releasing the other restores them', async () => {
    const employee = freshEmployee();
    await grantConnected(pool, employee);
    const first = await hold(employee);
    await settled(first.id, 2);
    const second = await hold(employee);
    expect(second.systems).toEqual([]);
    const release = async (id: string) => expect((await http.call('POST', `/api/access-holds/${id}/release`, {})).status).toBe(200);
    await release(first.id);
    expect((await holdView(first.id)).systems.map((s) => s.action)).toEqual(['suspend', 'suspend']);
    await release(second.id);
    const restored = await settled(second.id, 2);
    expect(restored.systems.map((s) => [s.systemId, s.action, s.entitlements, s.status])).toEqual([
      ['dir-a', 'restore', [...ROLES['dir-a']], 'done'],
      ['idp-b', 'restore', [...ROLES['idp-b']], 'done'],
    ]);
    expect(systems['dir-a']!.callsFor(employee.id).map((c) => c.action)).toEqual(['suspend', 'restore']);
  });

  it('when access is revoked, then every connected system where grants were revoked gets a revoke with all of them, non-critical ones included, shown on the revocation', async () => {
    const employee = freshEmployee();
    await grantConnected(pool, employee);
    const r = await http.call('POST', access.AccessPaths.revocations, { resignationId: knownCase(employee.id), employeeId: employee.id });
    expect(r.status).toBe(201);
    const revocation = access.Revocation.parse(r.body);
    expect(revocation.systems.map((s) => [s.systemId, s.action, s.entitlements])).toEqual([
      ['dir-a', 'revoke', [...ROLES['dir-a']]],
      ['idp-b', 'revoke', [...ROLES['idp-b']]],
      ['wiki-c', 'revoke', [...ROLES['wiki-c']]],
    ]);
    const done = await waitFor(async () => {
      const v = access.Revocation.parse((await http.call('GET', `/api/access-revocations/${revocation.id}`)).body);
      return v.systems.every((s) => s.status === 'done') ? v : undefined;
    }, 'the revocation’s system changes');
    expect(done.systems.every((s) => s.verification === `revoke verified for ${employee.email}`)).toBe(true);
  });

  it('when a hold touches only built-in systems, then no task is written', async () => {
    // The demo's grants are all on built-in systems: suspended here, nothing to carry anywhere.
    const employee = freshEmployee();
    const created = await hold(employee);
    expect(created.suspendedGrants.length).toBeGreaterThan(0);
    expect(created.systems).toEqual([]);
    expect(await tasksOf(employee.id)).toBe(0);
  });

  it('when the systems are listed, then each shows its connector type and the settings it may show; the demo’s are builtin', async () => {
    const list = access.SystemList.parse((await http.call('GET', access.AccessPaths.systems)).body);
    expect(list.items.find((s) => s.id === 'dir-a')).toEqual({ id: 'dir-a', name: 'Directory A', critical: true, connector: { type: 'ldap', settings: { url: 'ldap://dir-a.example' } } });
    const demo = list.items.find((s) => s.id === org.systems[0]!.id);
    expect(demo?.connector).toEqual({ type: 'builtin', settings: {} });
  });

  it('when the directory changes a person, then the identity follows (email), only over an older version; a new active person gets an identity', async () => {
    const subscription = service.subscriptions!.find((s) => s.name === UPDATE_IDENTITY_SUBSCRIBER)!;
    const handle = (event: CloudEvent) => subscription.handle(event, { attempt: 1, lastAttempt: false });
    const employee = freshEmployee();
    const person = (email: string, version: number, id = employee.id, active = true): CloudEvent =>
      createEvent({
        type: EventTypes.personChanged,
        source: EventSources.identity,
        subject: id,
        correlationId: `person-${id}`,
        data: {
          person: { id, name: 'Ada', email, title: null, department: null, location: null, timezone: 'Europe/Berlin', workingHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' }, managerId: null, hrPartnerId: null, roles: [], active },
          version,
          previous: null,
          origin: 'scim',
          changedAt: new Date().toISOString(),
        },
      });
    const emailOf = async (id: string) => (await pool.query<{ email: string | null }>(`SELECT email FROM access.identities WHERE employee_id = $1`, [id])).rows[0]?.email;
    expect(await emailOf(employee.id)).toBe(employee.email);
    await handle(person('ada.new@acme.example', 3));
    expect(await emailOf(employee.id)).toBe('ada.new@acme.example');
    await handle(person('ada.old@acme.example', 2));
    expect(await emailOf(employee.id)).toBe('ada.new@acme.example');
    await handle(person('newcomer@acme.example', 1, 'E9900001'));
    expect(await emailOf('E9900001')).toBe('newcomer@acme.example');
    await handle(person('gone@acme.example', 1, 'E9900002', false));
    expect(await emailOf('E9900002')).toBeUndefined();
    // The connector is told the directory's email.
    await grantConnected(pool, employee);
    const created = await hold(employee);
    await settled(created.id, 2);
    expect(systems['dir-a']!.callsFor(employee.id)[0]!.account.email).toBe('ada.new@acme.example');
  });
});

describe('a system that does not answer, a process dying mid-call', () => {
  let testDb: TestDatabase;
  let pool: Pool;
  let bus: RecordingBus;
  const pick = employeePicker();

  beforeAll(async () => {
    testDb = await createTestDatabase(inject('testServerUrl'), 'accessconnlease');
    pool = poolFor(testDb, 10);
    bus = await createRecordingBus(pool);
    // Migrated and seeded; no worker runs until a test starts one.
    await bootAccess(pool, { bus });
  });
  afterAll(async () => {
    await pool?.end();
    await testDb?.drop();
  });

  it('when a system does not answer within the deadline, then the call is given up on, counted as a transient failure and retried later', async () => {
    const employee = pick();
    const silent = scriptedSystems();
    for (const s of Object.values(silent.systems)) s.behaviours.set(employee.id, () => new Promise<never>(() => undefined));
    const db = createKysely<AccessDB>(pool, ACCESS_SCHEMA);
    await pool.query(`INSERT INTO access.systems (id, name, critical, connector) VALUES ('dir-a', 'Directory A', true, 'ldap'), ('idp-b', 'IdP B', true, 'scim'), ('wiki-c', 'Wiki C', false, 'http') ON CONFLICT (id) DO NOTHING`);
    await grantConnected(pool, employee);
    const created = await db.transaction().execute((trx) =>
      suspendAccessInTransaction(trx, { clock: { now: () => new Date() }, bus }, { resignationId: knownCase(employee.id), employeeId: employee.id }, undefined, {}, byEvent(null)),
    );
    expect('refused' in created).toBe(false);
    const worker = createConnectorWorker({ db, clock: { now: () => new Date() }, log, bus, systems: silent.connected }, { ...RETRY, timeoutMs: 200, baseMs: 3_600_000, maxMs: 3_600_000 });
    expect(await worker.runDue()).toEqual(['retry', 'retry']);
    const { rows } = await pool.query<{ status: string; last_error: string; last_error_code: string; next_attempt_at: Date }>(
      `SELECT status, last_error, last_error_code, next_attempt_at FROM access.connector_tasks WHERE employee_id = $1`,
      [employee.id],
    );
    expect(rows.map((r) => [r.status, r.last_error, r.last_error_code])).toEqual([
      ['pending', 'no answer within 200 ms', 'timeout'],
      ['pending', 'no answer within 200 ms', 'timeout'],
    ]);
    expect(rows.every((r) => r.next_attempt_at.getTime() > Date.now() + 30 * 60_000)).toBe(true);
  });

  it('when Access starts with a systems file that no longer lists a system, then that system’s pending changes fail at once, audited and told, instead of waiting for ever', async () => {
    // Left pending (retry in an hour) by the test above; this process's systems file lists none of them.
    const pending = await count(pool, `SELECT count(*)::int AS n FROM access.connector_tasks WHERE status = 'pending'`);
    expect(pending).toBeGreaterThan(0);
    const restarted = await bootAccess(pool, { bus, systems: [] });
    await restarted.start!();
    await restarted.stop!();
    expect(await count(pool, `SELECT count(*)::int AS n FROM access.connector_tasks WHERE status = 'pending'`)).toBe(0);
    const failed = (await bus.published(EventTypes.systemAccessChangeFailed)).map((e) => e.data as ChangeFailed).filter((d) => d.error.includes('no longer connected'));
    expect(failed).toHaveLength(pending);
    expect(failed.every((d) => !d.willRetry && d.attempts >= 1)).toBe(true);
    expect(await count(pool, `SELECT count(*)::int AS n FROM access.systems WHERE connector <> 'builtin'`)).toBe(0);
    // Sealed, the chain verifies (background retries may still be writing: pending need not be 0).
    await sealAllPending(createKysely<AccessDB>(pool, ACCESS_SCHEMA));
    expect(await verifyAuditChain(createKysely<AccessDB>(pool, ACCESS_SCHEMA))).toMatchObject({ ok: true });
  });

  it('when a process stalls past its lease, then another takes the task over and records it; the first records nothing: one outcome, one event, one audit row', async () => {
    const employee = pick();
    const first = scriptedSystems();
    const stalled = gate();
    for (const s of Object.values(first.systems)) {
      s.behaviours.set(employee.id, async () => {
        await stalled.wait;
        return { verification: 'made by the first process, too late' };
      });
    }
    const firstProcess = await bootAccess(pool, { bus, connectedSystems: first.connected, connectorWorker: { ...RETRY, leaseMarginMs: 0 } });
    await firstProcess.start!();
    await grantConnected(pool, employee);
    const http = await serve(firstProcess, pool);
    try {
      const created = access.AccessHold.parse((await http.call('POST', access.AccessPaths.holds, { resignationId: knownCase(employee.id), employeeId: employee.id })).body);
      // Both calls are in flight in the first process (its leases taken).
      await waitFor(() => (first.systems['dir-a']!.calls.length === 1 && first.systems['idp-b']!.calls.length === 1 ? true : undefined), 'the first process to call both systems');

      // The second process, its clock past the first's leases (as after them running out).
      const later: Clock = { now: () => new Date(Date.now() + RETRY.timeoutMs + 60_000) };
      const second = scriptedSystems();
      const db = createKysely<AccessDB>(pool, ACCESS_SCHEMA);
      const worker = createConnectorWorker({ db, clock: later, log, bus, systems: second.connected }, { ...RETRY, baseMs: 50, maxMs: 200 });
      expect(await worker.runDue()).toEqual(['done', 'done']);
      expect(second.systems['dir-a']!.calls[0]!.changeId).toBe(first.systems['dir-a']!.calls[0]!.changeId);

      // The first process's calls return now; stopping waits for them to be recorded (or not).
      stalled.open();
      await firstProcess.stop!();

      const view = access.AccessHold.parse((await http.call('GET', `/api/access-holds/${created.id}`)).body);
      expect(view.systems.map((s) => [s.systemId, s.status, s.attempts, s.verification])).toEqual([
        ['dir-a', 'done', 2, `suspend verified for ${employee.email}`],
        ['idp-b', 'done', 2, `suspend verified for ${employee.email}`],
      ]);
      const changed = (await bus.published(EventTypes.systemAccessChanged)).filter((e) => (e.data as Changed).employeeId === employee.id);
      expect(changed).toHaveLength(2);
      expect(await count(pool, `SELECT count(*)::int AS n FROM access.audit WHERE employee_id = $1 AND event IS NOT NULL`, [employee.id])).toBe(2);
    } finally {
      stalled.open();
      await http.app.close();
      await firstProcess.stop!();
    }
  });

  /**
   * `first` is suspended and released before any worker runs (its suspend and restore tasks both due,
   * neither leased), then `second` is suspended: in due order first's suspend, first's restore, second's
   * suspend on each system. first's suspend on dir-a hangs until the test opens `slow`.
   */
  async function suspendedReleasedThenAnother(db: ReturnType<typeof createKysely<AccessDB>>, slow: { wait: Promise<void> }) {
    const clock = { now: () => new Date() };
    await pool.query(
      `INSERT INTO access.systems (id, name, critical, connector) VALUES ('dir-a', 'Directory A', true, 'ldap'), ('idp-b', 'IdP B', true, 'scim'), ('wiki-c', 'Wiki C', false, 'http')
       ON CONFLICT (id) DO UPDATE SET connector = excluded.connector, critical = excluded.critical`,
    );
    const [first, second] = [pick(), pick()] as const;
    const suspend = async (employee: Employee) => {
      await grantConnected(pool, employee);
      const created = await db.transaction().execute((trx) =>
        suspendAccessInTransaction(trx, { clock, bus }, { resignationId: knownCase(employee.id), employeeId: employee.id }, undefined, {}, byEvent(null)),
      );
      if ('refused' in created) throw new Error(`hold refused for ${employee.id}`);
      return created.hold.id;
    };
    await releaseHold({ db, clock, log, bus }, await suspend(first), () => byEvent(null));
    await suspend(second);
    const scripted = scriptedSystems();
    scripted.systems['dir-a']!.behaviours.set(first.id, async (c) => {
      if (c.action === 'suspend') await slow.wait;
      return { verification: `${c.action} verified` };
    });
    return { first, second, scripted };
  }
  const doneOn = (employeeId: string, systemId: string) =>
    count(pool, `SELECT count(*)::int AS n FROM access.connector_tasks WHERE employee_id = $1 AND system_id = $2 AND status = 'done'`, [employeeId, systemId]);

  /**
   * Runs `worker` until second's suspend on dir-a is done while first's hangs (then `whileHung`'s checks), and
   * first has had only its suspend there; then lets it end: dir-a sees first's suspend, then its restore.
   */
  async function pastTheHungSuspend(
    worker: ReturnType<typeof createConnectorWorker>,
    slow: ReturnType<typeof gate>,
    { first, second, scripted }: Awaited<ReturnType<typeof suspendedReleasedThenAnother>>,
    barrier: string,
    whileHung: () => Promise<void> = async () => undefined,
  ) {
    worker.start();
    try {
      await waitFor(async () => ((await doneOn(second.id, 'dir-a')) === 1 ? true : undefined), barrier);
      await whileHung();
      expect(scripted.systems['dir-a']!.callsFor(first.id).map((c) => c.action)).toEqual(['suspend']);
      slow.open();
      await waitFor(async () => ((await doneOn(first.id, 'dir-a')) === 2 ? true : undefined), 'first’s suspend and restore on dir-a');
      expect(scripted.systems['dir-a']!.callsFor(first.id).map((c) => c.action)).toEqual(['suspend', 'restore']);
    } finally {
      slow.open();
      await worker.stop();
    }
  }

  it('when a suspend and its restore are both due as the worker claims a batch, then the batch takes the suspend only: the restore is claimed once the suspend is done, and the system sees suspend, then restore', async () => {
    const db = createKysely<AccessDB>(pool, ACCESS_SCHEMA);
    const slow = gate();
    const { first, second, scripted } = await suspendedReleasedThenAnother(db, slow);
    // Room for every due task in one claim: 3 systems, 3 calls each.
    const worker = createConnectorWorker({ db, clock: { now: () => new Date() }, log, bus, systems: scripted.connected }, { ...RETRY, baseMs: 50, maxMs: 200, maxInFlight: 9 });
    // The barrier: second's suspend on dir-a — after first's restore in due order, so in the same batch
    // had the batch taken that restore — is done; first's suspend there still hangs.
    await pastTheHungSuspend(worker, slow, { first, second, scripted }, 'second’s suspend on dir-a', async () => {
      const restore = await pool.query(`SELECT attempts, lease_token FROM access.connector_tasks WHERE employee_id = $1 AND system_id = 'dir-a' AND action = 'restore'`, [first.id]);
      expect(restore.rows).toEqual([{ attempts: 0, lease_token: null }]);
    });
  });

  it('when the first due tasks of a system are all held back by older ones, then the claim looks past them: a later due task of that system is made meanwhile', async () => {
    const db = createKysely<AccessDB>(pool, ACCESS_SCHEMA);
    const slow = gate();
    const { first, second, scripted } = await suspendedReleasedThenAnother(db, slow);
    // A window of one task per system: while first's suspend hangs, dir-a's window holds only first's restore (held back).
    const worker = createConnectorWorker(
      { db, clock: { now: () => new Date() }, log, bus, systems: scripted.connected },
      { ...RETRY, baseMs: 50, maxMs: 200, maxInFlight: 6, claimWindow: 1 },
    );
    await pastTheHungSuspend(worker, slow, { first, second, scripted }, 'second’s suspend on dir-a while first’s hangs');
  });

  it('when one system hangs on many changes, then it takes only its share of the calls in flight: the other system\u2019s changes are made meanwhile, not after the deadline', async () => {
    const db = createKysely<AccessDB>(pool, ACCESS_SCHEMA);
    await pool.query(
      `INSERT INTO access.systems (id, name, critical, connector) VALUES ('dir-a', 'Directory A', true, 'ldap'), ('idp-b', 'IdP B', true, 'scim'), ('wiki-c', 'Wiki C', false, 'http')
       ON CONFLICT (id) DO UPDATE SET connector = excluded.connector, critical = excluded.critical`,
    );
    const scripted = scriptedSystems();
    const hung = gate();
    const employees = [pick(), pick(), pick(), pick()];
    for (const employee of employees) {
      await grantConnected(pool, employee);
      scripted.systems['dir-a']!.behaviours.set(employee.id, async () => {
        await hung.wait;
        return { verification: 'locked at last' };
      });
      const created = await db.transaction().execute((trx) =>
        suspendAccessInTransaction(trx, { clock: { now: () => new Date() }, bus }, { resignationId: knownCase(employee.id), employeeId: employee.id }, undefined, {}, byEvent(null)),
      );
      expect('refused' in created).toBe(false);
    }
    const ids = employees.map((e) => e.id);
    const worker = createConnectorWorker({ db, clock: { now: () => new Date() }, log, bus, systems: scripted.connected }, { ...RETRY, timeoutMs: 20_000, baseMs: 50, maxMs: 200, maxInFlight: 2 });
    worker.start();
    try {
      // dir-a does not answer (for 20 s): idp-b's four suspensions are made meanwhile all the same.
      await waitFor(
        async () => (await count(pool, `SELECT count(*)::int AS n FROM access.connector_tasks WHERE system_id = 'idp-b' AND status = 'done' AND employee_id = ANY($1)`, [ids])) === 4 || undefined,
        'idp-b\u2019s four changes while dir-a hangs',
        5_000,
      );
      expect(scripted.systems['dir-a']!.calls.length).toBeLessThan(4);
      hung.open();
      await waitFor(
        async () => (await count(pool, `SELECT count(*)::int AS n FROM access.connector_tasks WHERE status = 'done' AND employee_id = ANY($1)`, [ids])) === 8 || undefined,
        'every change done once dir-a answers',
      );
    } finally {
      hung.open();
      await worker.stop();
    }
  });
});
