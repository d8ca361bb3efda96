import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate, type Pool, type ServiceModule } from '@ems/platform';
import { createTestDatabase, waitFor, type TestDatabase } from '@ems/platform/testing';
import type { DemoOrg } from '@ems/demo-org';
import { access } from '@ems/contracts';
import { EventSources, EventTypes, type EventData } from '@ems/contracts/events';
import { createEvent, type CloudEvent, type EventBus, type EventBusTestHooks, type EventedService } from '@ems/eventbus';
import { createTestPostgresBus, publishInTransaction } from '@ems/eventbus/testing';
import { createNotificationService, TELL_ACCESS_ADMINS_SUBSCRIBER } from '@ems/notification';
import { createDirectoryReader } from '@ems/identity';
import { connectedSystems } from '../packages/access/src/connectors/registry.ts';
import { ldapConnector } from '../packages/access/src/connectors/ldap/index.ts';
import type { ConnectorContext } from '../packages/access/src/connectors/connector.ts';
import { createAccessService } from '../packages/access/src/index.ts';
import { ACCESS_ADMIN, bootAccess, emsCases, employeePicker, knownCase, log, org, poolFor, serve, type AccessHttp } from '../packages/access/test/support.ts';
import { startSlapd, ldapSettingsFor, type Slapd } from './support/slapd.ts';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.ts';

/**
 * Drift detection against a real OpenLDAP slapd: a hold locks a person's LDAP account and takes their
 * critical group (the LDAP connector), then someone changes the directory behind EMS's back (ldapmodify
 * as the directory's admin). One reconciliation (POST /api/access/reconciliations, or one short period)
 * finds it: a drift row, an audit row, accessDriftDetected on the bus, and an email to the access
 * administrator through real SMTP. Outside a hold, a new membership becomes a discovered grant.
 */

const SYSTEM = 'corp-ldap';
const freshEmployee = employeePicker();
const admin = org.employees.find((e) => e.id === ACCESS_ADMIN)!;

let testDb: TestDatabase;
let pool: Pool;
let bus: EventBus & EventBusTestHooks;
let slapd: Slapd;
let smtp: SmtpSink;
let service: ServiceModule<DemoOrg> & EventedService;
let notification: ServiceModule & EventedService;
let http: AccessHttp;
const drifts: Array<CloudEvent<EventData<typeof EventTypes.accessDriftDetected>>> = [];

const context: ConnectorContext = {
  systemId: SYSTEM,
  log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  readSecretFile: () => {
    throw new Error('no secret files in this test');
  },
};

beforeAll(async () => {
  testDb = await createTestDatabase(inject('testServerUrl'), 'accessdrift');
  pool = poolFor(testDb, 20);
  bus = createTestPostgresBus(pool, { log, defaultRetry: { maxAttempts: 3, backoffMs: 200 } });
  [slapd, smtp] = await Promise.all([startSlapd(), startSmtpSink()]);
  const ldap = ldapConnector.create(
    ldapConnector.parseSettings(ldapSettingsFor(slapd, { timeout: '3s', connectTimeout: '1s' }, { inlinePassword: true })),
    context,
  );
  service = await bootAccess(pool, {
    bus,
    connectedSystems: connectedSystems([{ id: SYSTEM, name: 'Corporate directory', critical: true, type: 'ldap', connector: ldap, description: {} }]),
    connectorWorker: { intervalMs: 100, timeoutMs: 5_000, backoffBaseMs: 200 },
    // Rounds only when asked, but for the test of the period itself (its own service below).
    reconcile: { intervalMs: 3_600_000, timeoutMs: 3_000 },
  });
  await service.start!();
  http = await serve(service, pool);
  const directory = createDirectoryReader(pool);
  notification = createNotificationService({
    pool,
    log,
    smtpUrl: smtp.url,
    bus,
    recipients: { cases: emsCases.lookup, directory },
    accessAdmins: { directory, accessUrl: 'http://ems.test/access' },
  });
  await migrate(pool, notification.schema, notification.migrations);
  await notification.start!();
  for (const s of [...(service.subscriptions ?? []), ...(notification.subscriptions ?? [])]) await bus.subscribe(s);
  await bus.subscribe({
    name: 'test.drift-events',
    types: [EventTypes.accessDriftDetected],
    handle: async (e) => {
      drifts.push(e as CloudEvent<EventData<typeof EventTypes.accessDriftDetected>>);
    },
  });
  await bus.start();
});

afterAll(async () => {
  await http?.app.close();
  await notification?.stop?.();
  await service?.stop?.();
  await bus?.stop();
  await pool?.end();
  await testDb?.drop();
  await slapd?.stop();
  await smtp?.stop();
});

/** A demo employee with an LDAP account (uid = employee id) in a critical group `finance-<n>`, and EMS's grant for it. */
async function ldapPerson(): Promise<{ id: string; password: string; group: string; groupDn: string }> {
  const e = freshEmployee();
  const password = `pw-${randomUUID()}`;
  const group = `finance-${e.id}`;
  await slapd.addPerson({ uid: e.id, password, mail: e.email });
  const groupDn = await slapd.addGroup({ cn: group, members: [e.id] });
  await pool.query('INSERT INTO access.grants (id, employee_id, system_id, role) VALUES ($1, $2, $3, $4)', [`ldap-${group}`, e.id, SYSTEM, groupDn]);
  return { id: e.id, password, group, groupDn };
}

async function hold(employeeId: string): Promise<string> {
  const resignationId = knownCase(employeeId);
  const res = await http.call('POST', access.AccessPaths.holds, { resignationId, employeeId });
  expect(res.status).toBe(201);
  await taskDone(employeeId, 'suspend');
  return resignationId;
}

async function taskDone(employeeId: string, action: string): Promise<void> {
  await waitFor(async () => {
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM access.connector_tasks WHERE employee_id = $1 AND action = $2', [employeeId, action]);
    return rows[0]?.status === 'done' ? true : undefined;
  }, `the ${action} task of ${employeeId} done`);
}

async function reconcile(): Promise<access.Reconciliation> {
  const res = await http.call('POST', access.AccessPaths.reconciliations);
  expect(res.status).toBe(200);
  return access.Reconciliation.parse(res.body);
}

async function openDrifts(employeeId: string) {
  const res = await http.call('GET', `${access.AccessPaths.drifts}?employeeId=${employeeId}`);
  expect(res.status).toBe(200);
  return access.DriftList.parse(res.body).items;
}

const unlock = (uid: string) => slapd.modify(`dn: ${slapd.personDn(uid)}\nchangetype: modify\ndelete: pwdAccountLockedTime\n`);
const addMember = (group: string, uid: string) => slapd.modify(`dn: ${slapd.groupDn(group)}\nchangetype: modify\nadd: member\nmember: ${slapd.personDn(uid)}\n`);

describe('drift detection against slapd', () => {
  it('when the directory matches the hold, then a round finds no drift; when someone removes the lock, then one round records, audits and publishes account_enabled and the access administrator is emailed — once', async () => {
    const p = await ldapPerson();
    const resignationId = await hold(p.id);
    expect(await slapd.bindAs(p.id, p.password)).toBe('invalidCredentials');

    const quiet = await reconcile();
    expect(quiet.systems).toEqual([expect.objectContaining({ systemId: SYSTEM, status: 'ok', error: null })]);
    expect(await openDrifts(p.id)).toEqual([]);

    await unlock(p.id);
    expect(await slapd.bindAs(p.id, p.password)).toBe('ok');
    const round = await reconcile();
    expect(round.systems[0]!.newDrifts).toBeGreaterThanOrEqual(1);

    const found = await openDrifts(p.id);
    expect(found).toEqual([expect.objectContaining({ systemId: SYSTEM, kind: 'account_enabled', entitlement: null, resignationId, resolvedAt: null })]);
    expect(found[0]!.detail).toContain('Corporate directory shows it enabled');

    const audit = await http.audit(`employeeId=${p.id}`);
    expect(audit.filter((a) => a.event === 'access_drift_detected')).toEqual([
      expect.objectContaining({ system: SYSTEM, grantId: null, reason: found[0]!.detail, detail: expect.objectContaining({ driftId: found[0]!.id, kind: 'account_enabled' }) as unknown }),
    ]);
    const verification = await http.call('GET', access.AccessPaths.auditVerification);
    expect(verification.body).toMatchObject({ ok: true });

    await waitFor(() => drifts.find((e) => e.data.driftId === found[0]!.id), 'accessDriftDetected on the bus');
    expect(drifts.find((e) => e.data.driftId === found[0]!.id)!.data).toMatchObject({ employeeId: p.id, systemId: SYSTEM, kind: 'account_enabled', resignationId });

    const mail = await waitFor(() => smtp.messages.find((m) => m.subject?.includes(p.id) && m.subject.includes('Access drift')), "the access administrator's email");
    expect(mail.to).toMatchObject({ value: [{ address: admin.email }] });
    expect(mail.text).toContain('account enabled again');
    expect(mail.text).toContain('http://ems.test/access');

    // The same drift published again under another event id (a replay): its alert is not sent again.
    const replay = createEvent({ type: EventTypes.accessDriftDetected, source: EventSources.access, subject: resignationId, correlationId: resignationId, data: drifts.find((e) => e.data.driftId === found[0]!.id)!.data });
    await publishInTransaction(pool, bus, [replay]);
    await waitFor(async () => ((await pool.query('SELECT 1 FROM notification.processed_events WHERE subscriber = $1 AND event_id = $2', [TELL_ACCESS_ADMINS_SUBSCRIBER, replay.id])).rowCount ? true : undefined), 'the replay handled');
    const alerts = await pool.query('SELECT recipient FROM notification.emails WHERE purpose = $1', [`access-drift:${found[0]!.id}`]);
    expect(alerts.rows).toEqual([{ recipient: admin.email }]);

    // Found again while open: neither recorded nor told again.
    const again = await reconcile();
    expect(again.systems[0]!.newDrifts).toBe(0);
    expect(await openDrifts(p.id)).toHaveLength(1);
    // An event is published in the transaction of its audit row: still one audit row, so no second event (nor email).
    expect((await http.audit(`employeeId=${p.id}`)).filter((a) => a.event === 'access_drift_detected')).toHaveLength(1);

    // Locked again by the directory's admin: the next round resolves it.
    await slapd.modify(`dn: ${slapd.personDn(p.id)}\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n`);
    const fixed = await reconcile();
    expect(fixed.systems[0]!.resolvedDrifts).toBeGreaterThanOrEqual(1);
    expect(await openDrifts(p.id)).toEqual([]);
    const all = await http.call('GET', `${access.AccessPaths.drifts}?employeeId=${p.id}&status=all`);
    expect(access.DriftList.parse(all.body).items).toEqual([expect.objectContaining({ kind: 'account_enabled', resolvedAt: expect.any(String) as unknown })]);
    expect(smtp.messages.filter((m) => m.subject?.includes(p.id))).toHaveLength(1);
  });

  it('when a group the hold took is added back in LDAP during the hold, then entitlement_added names it', async () => {
    const p = await ldapPerson();
    const resignationId = await hold(p.id);
    expect(await slapd.members(p.group)).not.toContain(slapd.personDn(p.id).toLowerCase());
    await addMember(p.group, p.id);

    await reconcile();
    expect(await openDrifts(p.id)).toEqual([expect.objectContaining({ kind: 'entitlement_added', entitlement: p.groupDn, resignationId })]);
    await waitFor(() => smtp.messages.find((m) => m.subject?.includes(p.id) && m.subject.includes('access added')), 'the email about the group');
  });

  it('when a revoked account comes back, then account_enabled names the revocation', async () => {
    const p = await ldapPerson();
    const resignationId = knownCase(p.id);
    const res = await http.call('POST', access.AccessPaths.revocations, { resignationId, employeeId: p.id });
    expect([200, 201]).toContain(res.status);
    await taskDone(p.id, 'revoke');
    expect(await slapd.bindAs(p.id, p.password)).toBe('invalidCredentials');
    expect((await reconcile()).systems[0]!.status).toBe('ok');
    expect(await openDrifts(p.id)).toEqual([]);

    await unlock(p.id);
    await reconcile();
    expect(await openDrifts(p.id)).toEqual([expect.objectContaining({ kind: 'account_enabled', resignationId })]);
  });

  it('when outside any hold a membership appears in LDAP, then it becomes an active grant discovered in the system, audited, with no drift', async () => {
    const p = await ldapPerson();
    const extra = `wiki-${p.id}`;
    const extraDn = await slapd.addGroup({ cn: extra, members: [p.id] });

    const round = await reconcile();
    expect(round.systems[0]!.discoveredGrants).toBeGreaterThanOrEqual(1);
    const grants = access.EffectiveAccess.parse((await http.call('GET', access.AccessPaths.employeeAccess(p.id))).body).items.filter((g) => g.system === SYSTEM);
    expect(grants.map((g) => [g.role, g.status]).sort()).toEqual([
      [p.groupDn, 'active'],
      [extraDn, 'active'],
    ].sort());
    const audit = await http.audit(`employeeId=${p.id}`);
    expect(audit.filter((a) => a.event === 'grant_discovered')).toEqual([expect.objectContaining({ system: SYSTEM, from: null, to: 'active', reason: 'discovered in Corporate directory' })]);
    expect(await openDrifts(p.id)).toEqual([]);
    // Found once: the next round has nothing more to discover for them.
    const next = await reconcile();
    expect(next.systems[0]!.discoveredGrants).toBe(0);
  });

  it('when the directory is down, then the round reports the system failed with its error and records nothing', async () => {
    const written = async () => (await pool.query<{ n: number }>('SELECT (SELECT count(*) FROM access.drifts) + (SELECT count(*) FROM access.audit) AS n')).rows[0]!.n;
    const before = await written();
    await slapd.down();
    try {
      const round = await reconcile();
      expect(round.systems).toEqual([expect.objectContaining({ systemId: SYSTEM, status: 'failed', accounts: 0, error: expect.any(String) as unknown })]);
      expect(await written()).toBe(before);
    } finally {
      await slapd.up();
    }
    expect((await reconcile()).systems[0]!.status).toBe('ok');
  });

  it('when two rounds are asked for at once, then they run one after the other, not side by side', async () => {
    const [a, b] = await Promise.all([reconcile(), reconcile()]);
    const [first, second] = [a, b].sort((x, y) => x.startedAt.localeCompare(y.startedAt));
    expect(Date.parse(second!.startedAt)).toBeGreaterThanOrEqual(Date.parse(first!.finishedAt));
  });

  it('when the period passes, then a reconciler round runs by itself and finds the drift', async () => {
    const p = await ldapPerson();
    await hold(p.id);
    await unlock(p.id);
    // A second process hosting Access, with a short period: no one asks, its poller does a round.
    const other = createAccessForPeriod();
    await other.start!();
    try {
      await waitFor(async () => (await openDrifts(p.id)).find((d) => d.kind === 'account_enabled'), 'a drift found by the periodic round');
    } finally {
      await other.stop!();
    }
  });
});

/** Another Access instance on the same database (as another process), reconciling every 300 ms. */
function createAccessForPeriod(): ServiceModule<DemoOrg> & EventedService {
  const ldap = ldapConnector.create(
    ldapConnector.parseSettings(ldapSettingsFor(slapd, { timeout: '3s', connectTimeout: '1s' }, { inlinePassword: true })),
    context,
  );
  // Not migrated or seeded again: the first instance did; start() only upserts the system.
  return createAccessServiceLike(ldap);
}

function createAccessServiceLike(ldap: ReturnType<typeof ldapConnector.create>) {
  return createAccessService({
    pool,
    log,
    bus,
    cases: emsCases.lookup,
    connectedSystems: connectedSystems([{ id: SYSTEM, name: 'Corporate directory', critical: true, type: 'ldap', connector: ldap, description: {} }]),
    reconcile: { intervalMs: 300, pollMs: 100, timeoutMs: 3_000 },
  });
}
