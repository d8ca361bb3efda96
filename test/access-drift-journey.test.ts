/**
 * Drift detection in a real EMS, in both modes: its systems file connects "corp-ldap" to a private
 * OpenLDAP slapd, and EMS_ACCESS_RECONCILE_INTERVAL is short. An employee resigns, the case shows the
 * account locked; then the directory's admin unlocks it behind EMS's back (ldapmodify). Within one
 * period, without anyone asking: the case shows the drift, GET /api/access/drifts lists it for the
 * access administrator, and the access administrator's email arrives over SMTP — once.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { createKysely } from '@ems/platform';
import { waitFor } from '@ems/platform/testing';
import { access, type ems } from '@ems/contracts';
import { ACCESS_ADMIN, employeePicker, http, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';
import { startSlapd, writeLdapSystemsFile, type Slapd } from './support/slapd.ts';

const org = demoOrg();
const { takeEmployee } = employeePicker(org);
const admin = org.employees.find((e) => e.id === ACCESS_ADMIN)!;

let slapd: Slapd;
let systemsFile: string;

beforeAll(async () => {
  slapd = await startSlapd({ name: 'drift' });
  await slapd.addPerson({ uid: 'bystander', password: 'bystander-pw' });
  await slapd.addGroup({ cn: 'finance', members: ['bystander'] });
  systemsFile = await writeLdapSystemsFile(slapd, { id: 'corp-ldap', name: 'Corporate directory' }, { timeout: '5s' });
});

afterAll(async () => {
  await slapd?.stop();
});

describe.each(['orchestration', 'choreography'] as const)('drift detection in EMS (%s)', (mode) => {
  let env: AcceptanceEnv;

  beforeAll(async () => {
    env = await startAcceptanceEms(mode, `access_drift_${mode}`, { env: { EMS_ACCESS_SYSTEMS_FILE: systemsFile, EMS_ACCESS_RECONCILE_INTERVAL: '1s' } });
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  const caseOf = async (id: string) => (await http<ems.Resignation>(env.base, 'GET', `/api/resignations/${id}`)).body;

  it('when someone unlocks a held LDAP account, then within one period the case shows the drift, the access administrator sees it listed and is emailed once', async () => {
    const e = takeEmployee();
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    await slapd.addPerson({ uid: e.id, password, mail: e.email });
    await slapd.modify(`dn: ${slapd.groupDn('finance')}\nchangetype: modify\nadd: member\nmember: ${slapd.personDn(e.id)}\n`);
    await createKysely<{ grants: { id: string; employee_id: string; system_id: string; role: string } }>(env.ems.pool, 'access')
      .insertInto('grants')
      .values({ id: `ldap-${e.id}`, employee_id: e.id, system_id: 'corp-ldap', role: slapd.groupDn('finance') })
      .execute();

    const submitted = await http<ems.Resignation>(env.base, 'POST', '/api/resignations', { employeeId: e.id });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;
    await waitFor(
      async () => ((await caseOf(id)).systems.find((s) => s.systemId === 'corp-ldap' && s.action === 'suspend')?.status === 'done' ? true : undefined),
      'corp-ldap suspended on the case',
      30_000,
    );
    expect(await slapd.bindAs(e.id, password)).toBe('invalidCredentials');

    await slapd.modify(`dn: ${slapd.personDn(e.id)}\nchangetype: modify\ndelete: pwdAccountLockedTime\n`);
    expect(await slapd.bindAs(e.id, password)).toBe('ok');

    const drift = await waitFor(async () => (await caseOf(id)).drifts.find((d) => d.kind === 'account_enabled' && d.systemId === 'corp-ldap'), 'the drift on the case', 30_000);
    expect(drift.detail).toContain('shows it enabled');

    const asAdmin = { authorization: `Bearer ${await tokenFor(env.base, ACCESS_ADMIN)}` };
    const listed = await http(env.base, 'GET', `${access.AccessPaths.drifts}?resignationId=${id}`, undefined, asAdmin);
    expect(listed.status).toBe(200);
    expect(access.DriftList.parse(listed.body).items).toEqual([expect.objectContaining({ id: drift.driftId, employeeId: e.id, kind: 'account_enabled', resignationId: id, resolvedAt: null })]);

    const mail = await waitFor(() => env.smtp.messages.find((m) => m.subject?.includes('Access drift') && m.subject.includes(e.id)), "the access administrator's email", 30_000);
    expect(mail.to).toMatchObject({ value: [{ address: admin.email }] });
    expect(mail.text).toContain(`${e.name} (${e.id})`);
    expect(mail.text).toContain('/access');

    // Rounds go on every second; the drift stays one, told once. A manual round is the barrier: it runs
    // after any round in flight, and anything a round found is published in its own transaction.
    const asked = await http(env.base, 'POST', access.AccessPaths.reconciliations, undefined, asAdmin);
    expect(asked.status).toBe(200);
    const again = await http(env.base, 'GET', `${access.AccessPaths.drifts}?resignationId=${id}&status=all`, undefined, asAdmin);
    expect(access.DriftList.parse(again.body).items).toHaveLength(1);
    expect((await caseOf(id)).drifts).toHaveLength(1);
    expect(env.smtp.messages.filter((m) => m.subject?.includes('Access drift') && m.subject.includes(e.id))).toHaveLength(1);
  });
});
