/**
 * What the case shows of connected systems and of directory changes, in both modes: Access's per-system
 * events (changed, failed and retrying, given up, drift) and the directory's personChanged go through the
 * real bus into a real EMS on a real PostgreSQL; the case view and timeline are read over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { createKysely } from '@ems/platform';
import { waitFor } from '@ems/platform/testing';
import type { ems } from '@ems/contracts';
import { EventSources, EventTypes, type CloudEvent } from '@ems/contracts/events';
import { createEvent } from '@ems/eventbus';
import { applyPeople, getDirectoryPerson } from '../packages/identity/src/directory/apply-people.ts';
import type { IdentityDB } from '../packages/identity/src/db/identity.db.ts';
import { HR_LEAD, http, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((a) => a.personId));
/** Nobody reports to them and they hold no administrative role: their rights come from the directory alone. */
const plain = (e: Employee) => e.managerId !== null && !org.employees.some((x) => x.managerId === e.id) && !admins.has(e.id);
const PLAIN = org.employees.filter(plain);
const nameOf = (id: string) => org.employees.find((e) => e.id === id)?.name ?? id;

type Timeline = { items: ems.TimelineEntry[] };

describe.each(['orchestration', 'choreography'] as const)('the case and connected systems (%s)', (mode) => {
  let env: AcceptanceEnv;
  let base: string;
  const as = async (person: string) => ({ authorization: `Bearer ${await tokenFor(base, person)}` });
  // Each test its own employee (and case); the ones whose manager changes get a plain new one.
  const [SUSPENDED, DRIFTED, MOVED, NEW_MANAGER, STALE, UNRELATED, REPARTNERED, DEACTIVATED] = PLAIN.slice(mode === 'orchestration' ? 0 : 8);

  const publish = async (...events: CloudEvent[]) => env.ems.bus.publish(createKysely<unknown>(env.ems.pool, 'ems'), events);
  const caseOf = async (id: string) => (await http<ems.Resignation>(base, 'GET', `/api/resignations/${id}`)).body;
  const timelineOf = async (id: string) => (await http<Timeline>(base, 'GET', `/api/resignations/${id}/timeline`)).body.items;
  const resign = async (e: Employee) => {
    const r = await http<ems.Resignation>(base, 'POST', '/api/resignations', { employeeId: e.id });
    expect(r.status).toBe(201);
    return r.body.id;
  };
  const accessEvent = (type: string, resignationId: string | null, employeeId: string, data: Record<string, unknown>) =>
    createEvent({ type, source: EventSources.access, subject: resignationId ?? employeeId, correlationId: resignationId ?? employeeId, data: { resignationId, employeeId, ...data } });
  const change = (employeeId: string, changeId: string, extra: Record<string, unknown>) => ({ changeId, systemId: 'corp-ldap', connector: 'ldap', action: 'suspend', entitlements: ['cn=vpn,ou=groups,dc=acme', 'cn=admins,ou=groups,dc=acme'], employeeId, ...extra });
  const personChanged = (e: Employee, version: number, patch: Partial<{ managerId: string | null; hrPartnerId: string | null; active: boolean }>) =>
    createEvent({
      type: EventTypes.personChanged,
      source: EventSources.identity,
      subject: e.id,
      correlationId: `directory-${randomUUID()}`,
      data: {
        person: {
          id: e.id,
          name: e.name,
          email: e.email,
          title: e.title,
          department: null,
          location: null,
          timezone: e.timezone,
          workingHours: { days: e.workingHours.days, start: '09:00', end: '17:00' },
          managerId: e.managerId,
          hrPartnerId: e.hrPartnerId,
          roles: [],
          active: true,
          ...patch,
        },
        version,
        previous: { managerId: e.managerId, hrPartnerId: e.hrPartnerId, active: true },
        origin: 'import',
        changedAt: new Date().toISOString(),
      },
    });

  beforeAll(async () => {
    env = await startAcceptanceEms(mode, `case_systems_${mode}`);
    base = env.base;
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('when a connected system is suspended, fails and retries, then gives up, then the case shows each system with its verification or error, and the timeline says it in words once per event', async () => {
    const id = await resign(SUSPENDED!);
    const ldap = randomUUID();
    const scim = randomUUID();
    const retryAt = new Date(Date.now() + 60_000).toISOString();
    const locked = accessEvent(EventTypes.systemAccessChanged, id, SUSPENDED!.id, { ...change(SUSPENDED!.id, ldap, { attempts: 1 }), verification: 'bind as uid=x refused: account locked', changedAt: new Date().toISOString() });
    const retrying = accessEvent(EventTypes.systemAccessChangeFailed, id, SUSPENDED!.id, {
      ...change(SUSPENDED!.id, scim, { systemId: 'crm', connector: 'scim', entitlements: ['grp-42'], attempts: 1 }),
      error: 'connect ECONNREFUSED 127.0.0.1:9443',
      willRetry: true,
      retryAt,
      failedAt: new Date().toISOString(),
    });
    await publish(locked, retrying);
    const shown = await waitFor(async () => {
      const c = await caseOf(id);
      return c.systems.length === 2 ? c : undefined;
    }, 'both systems on the case');
    expect(shown.systems.find((s) => s.systemId === 'corp-ldap')).toMatchObject({ changeId: ldap, connector: 'ldap', action: 'suspend', status: 'done', verification: 'bind as uid=x refused: account locked', error: null });
    expect(shown.systems.find((s) => s.systemId === 'crm')).toMatchObject({ changeId: scim, status: 'retrying', error: 'connect ECONNREFUSED 127.0.0.1:9443', retryAt, verification: null });

    // Delivered again (the same event), then Access gives up on the SCIM system; a late "retrying" of the LDAP change changes nothing.
    const gaveUp = accessEvent(EventTypes.systemAccessChangeFailed, id, SUSPENDED!.id, {
      ...change(SUSPENDED!.id, scim, { systemId: 'crm', connector: 'scim', entitlements: ['grp-42'], attempts: 5 }),
      error: 'HTTP 403 from the SCIM server: insufficient scope',
      willRetry: false,
      retryAt: null,
      failedAt: new Date().toISOString(),
    });
    const lateRetry = accessEvent(EventTypes.systemAccessChangeFailed, id, SUSPENDED!.id, { ...change(SUSPENDED!.id, ldap, { attempts: 1 }), error: 'timeout', willRetry: true, retryAt, failedAt: new Date().toISOString() });
    await publish(locked);
    await publish(lateRetry);
    await publish(gaveUp);
    const final = await waitFor(async () => {
      const c = await caseOf(id);
      const t = await timelineOf(id);
      return c.systems.find((s) => s.systemId === 'crm')?.status === 'failed' && t.some((e) => e.summary.includes('timeout')) ? { c, t } : undefined;
    }, 'the SCIM change given up and the late retry recorded');
    expect(final.c.systems.find((s) => s.systemId === 'corp-ldap')).toMatchObject({ status: 'done', verification: 'bind as uid=x refused: account locked' });
    expect(final.c.systems.find((s) => s.systemId === 'crm')).toMatchObject({ status: 'failed', attempts: 5, error: 'HTTP 403 from the SCIM server: insufficient scope', retryAt: null });
    const access = final.t.filter((e) => e.service === 'access' && e.detail.systemId !== undefined).map((e) => e.summary);
    expect(access.filter((s) => s === 'corp-ldap: access suspended (2 entitlements taken away), verified — bind as uid=x refused: account locked')).toHaveLength(1);
    expect(access.some((s) => /^crm failed to suspend access: connect ECONNREFUSED 127\.0\.0\.1:9443; retrying at .+\(.+\)$/.test(s))).toBe(true);
    expect(access).toContain("crm failed to suspend access (attempt 5): HTTP 403 from the SCIM server: insufficient scope; Access gave up — it needs IT's attention");
  });

  it('when a drift contradicts the hold, then the case lists it and the timeline says so; a drift of no case and a person changed reach no case and nothing is dead-lettered', async () => {
    const id = await resign(DRIFTED!);
    const driftId = randomUUID();
    const drift = (resignationId: string | null, did: string) =>
      accessEvent(EventTypes.accessDriftDetected, resignationId, DRIFTED!.id, { driftId: did, systemId: 'corp-ldap', kind: 'account_enabled', entitlement: null, detail: 'pwdAccountLockedTime is gone: the account can bind again', detectedAt: new Date().toISOString() });
    // About no case: a drift outside any case, and a directory change of someone without a case.
    await publish(drift(null, randomUUID()), personChanged(UNRELATED!, 5, {}));
    await publish(drift(id, driftId));
    const c = await waitFor(async () => {
      const k = await caseOf(id);
      return k.drifts.length ? k : undefined;
    }, 'the drift on the case');
    expect(c.drifts).toEqual([expect.objectContaining({ driftId, systemId: 'corp-ldap', kind: 'account_enabled', detail: 'pwdAccountLockedTime is gone: the account can bind again' })]);
    expect((await timelineOf(id)).map((e) => e.summary)).toContain('Drift: account re-enabled in corp-ldap during the hold');
    // The roster took the unrelated person's change (a barrier: it was published before the case's drift)…
    const roster = createKysely<{ employees: { id: string; version: number } }>(env.ems.pool, 'ems');
    await waitFor(async () => ((await roster.selectFrom('employees').select('version').where('id', '=', UNRELATED!.id).executeTakeFirst())?.version === 5 ? true : undefined), 'the roster at version 5');
    // …and no subscriber of EMS dead-lettered either event.
    const dead = await env.ems.bus.deadLetters.list({ limit: 100 });
    expect(dead.items.filter((d) => d.subscriber.startsWith('ems.'))).toEqual([]);
  });

  it('when the directory gives an employee with an open case a new manager, then the case says who is responsible now, the new manager sees the case and is told the decision, and the old one neither', async () => {
    const oldManager = MOVED!.managerId!;
    const id = await resign(MOVED!);
    expect((await http(base, 'GET', `/api/resignations/${id}`, undefined, await as(oldManager))).status).toBe(200);
    expect((await http(base, 'GET', `/api/resignations/${id}`, undefined, await as(NEW_MANAGER!.id))).status).toBe(404);

    // The directory's own use case: identity.people changes and personChanged is published in one transaction.
    const identity = createKysely<IdentityDB>(env.ems.pool, 'identity');
    await identity.transaction().execute(async (trx) => {
      const entry = await getDirectoryPerson(trx, MOVED!.id);
      await applyPeople(trx, { clock: { now: () => new Date() }, bus: env.ems.bus }, [{ ...entry!.person, managerId: NEW_MANAGER!.id }], 'import');
    });

    const c = await waitFor(async () => {
      const k = await caseOf(id);
      return k.responsible.changedAt ? k : undefined;
    }, 'the new manager on the case');
    expect(c.responsible).toMatchObject({ manager: { id: NEW_MANAGER!.id, name: NEW_MANAGER!.name }, atSubmission: { manager: { id: oldManager, name: nameOf(oldManager) } } });
    expect((await timelineOf(id)).map((e) => e.summary)).toContain(`Manager is now ${NEW_MANAGER!.name} (was ${nameOf(oldManager)})`);
    // Rights follow the directory (a principal is cached for 10 s at most).
    await waitFor(async () => ((await http(base, 'GET', `/api/resignations/${id}`, undefined, await as(NEW_MANAGER!.id))).status === 200 ? true : undefined), 'the new manager reading the case', 30_000, 500);
    await waitFor(async () => ((await http(base, 'GET', `/api/resignations/${id}`, undefined, await as(oldManager))).status === 404 ? true : undefined), 'the old manager refused', 30_000, 500);
    const team = await http<{ items: ems.Resignation[] }>(base, 'GET', '/api/resignations', undefined, await as(NEW_MANAGER!.id));
    expect(team.body.items.map((r) => r.id)).toContain(id);

    // The decision is announced to the manager in force, not the one at submission.
    await waitFor(async () => ((await caseOf(id)).status === 'awaiting_decision' ? true : undefined), 'the case awaiting its decision', 60_000);
    expect((await http(base, 'POST', `/api/resignations/${id}/decision`, { decision: 'retained' })).status).toBeLessThan(300);
    const mailsTo = (address: string) => env.smtp.messages.filter((m) => m.to && [m.to].flat().some((a) => a.value.some((v) => v.address === address)) && /retain|stay/i.test(m.subject ?? ''));
    await waitFor(() => (mailsTo(NEW_MANAGER!.email).length ? true : undefined), 'the decision emailed to the new manager', 60_000);
    expect(mailsTo(org.employees.find((e) => e.id === oldManager)!.email)).toEqual([]);
  });

  it('when the directory gives an employee with an open case another HR partner, then the case says so; when it deactivates someone, then they can no longer resign', async () => {
    const id = await resign(REPARTNERED!);
    const before = REPARTNERED!.hrPartnerId;
    const other = org.hrPartners.find((p) => p.id !== before)!;
    await publish(personChanged(REPARTNERED!, 3, { hrPartnerId: other.id }), personChanged(DEACTIVATED!, 3, { active: false }));
    const c = await waitFor(async () => {
      const k = await caseOf(id);
      return k.responsible.hrPartner?.id === other.id ? k : undefined;
    }, 'the new HR partner on the case');
    expect(c.responsible).toMatchObject({ manager: { id: REPARTNERED!.managerId }, atSubmission: { hrPartner: { id: before } } });
    expect(c.responsible.changedAt).not.toBeNull();
    expect((await timelineOf(id)).filter((e) => e.type === 'responsible.hr-partner-changed').map((e) => e.summary)).toEqual([`HR partner is now ${other.id} (was ${before})`]);
    expect((await timelineOf(id)).some((e) => e.type === 'responsible.manager-changed')).toBe(false);
    const roster = createKysely<{ employees: { id: string; active: boolean } }>(env.ems.pool, 'ems');
    await waitFor(async () => ((await roster.selectFrom('employees').select('active').where('id', '=', DEACTIVATED!.id).executeTakeFirst())?.active === false ? true : undefined), 'the deactivation in the roster');
    const refused = await http(base, 'POST', '/api/resignations', { employeeId: DEACTIVATED!.id }, await as(HR_LEAD));
    expect(refused.status).toBe(404);
    expect(refused.contentType).toContain('application/problem+json');
  });

  it('when an older snapshot of a person arrives after a newer one, then the roster and the case keep the newer', async () => {
    const id = await resign(STALE!);
    const [first, second] = PLAIN.filter((e) => e.id !== STALE!.id && e.managerId !== STALE!.id).slice(-2);
    await publish(personChanged(STALE!, 7, { managerId: first!.id }));
    await waitFor(async () => ((await caseOf(id)).responsible.manager?.id === first!.id ? true : undefined), 'version 7 applied');
    // Older (6), then a barrier the same subscriber handles: someone else's change.
    await publish(personChanged(STALE!, 6, { managerId: second!.id }));
    await publish(personChanged(UNRELATED!, 9, {}));
    const roster = createKysely<{ employees: { id: string; version: number; manager_id: string | null } }>(env.ems.pool, 'ems');
    await waitFor(async () => ((await roster.selectFrom('employees').select('version').where('id', '=', UNRELATED!.id).executeTakeFirst())?.version === 9 ? true : undefined), 'the barrier');
    expect(await roster.selectFrom('employees').select(['version', 'manager_id']).where('id', '=', STALE!.id).executeTakeFirst()).toEqual({ version: 7, manager_id: first!.id });
    expect((await caseOf(id)).responsible.manager?.id).toBe(first!.id);
    expect((await timelineOf(id)).filter((e) => e.type === 'responsible.manager-changed').map((e) => e.summary)).toEqual([`Manager is now ${first!.name} (was ${nameOf(STALE!.managerId!)})`]);
  });
});
