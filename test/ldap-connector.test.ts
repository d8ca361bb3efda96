/**
 * A resignation locks a real LDAP account and a retention unlocks it, in both modes: a real EMS on a real
 * PostgreSQL whose systems file (EMS_ACCESS_SYSTEMS_FILE) connects a critical system "corp-ldap" to a
 * private OpenLDAP slapd (test/support/slapd.ts). Its people are demo employees (uid = employee id, each
 * with a password only this test knows); their grants on corp-ldap name the groups they are in.
 *
 * What is asserted is what the person would see: a bind with their own password fails once the case
 * shows the system's suspension done, and succeeds again — with exactly their groups back — once it shows
 * the restore done.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg, type Employee } from '@ems/demo-org';
import { createKysely } from '@ems/platform';
import { waitFor } from '@ems/platform/testing';
import type { ems } from '@ems/contracts';
import { ACCESS_ADMIN, employeePicker, http, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';
import { startSlapd, writeLdapSystemsFile, type Slapd } from './support/slapd.ts';

const org = demoOrg();
const { takeEmployee } = employeePicker(org);

interface GrantRow {
  id: string;
  employee_id: string;
  system_id: string;
  role: string;
}

let slapd: Slapd;
let systemsFile: string;

beforeAll(async () => {
  slapd = await startSlapd({ name: 'corp' });
  // A member of every group who never resigns: groups are never left empty, and must stay untouched.
  await slapd.addPerson({ uid: 'bystander', password: 'bystander-pw' });
  await slapd.addGroup({ cn: 'vpn', members: ['bystander'] });
  await slapd.addGroup({ cn: 'finance', members: ['bystander'] });
  systemsFile = await writeLdapSystemsFile(slapd, { id: 'corp-ldap', name: 'Corporate directory' }, { timeout: '5s' });
});

afterAll(async () => {
  await slapd?.stop();
});

describe.each(['orchestration', 'choreography'] as const)('a resignation and the LDAP directory (%s)', (mode) => {
  let env: AcceptanceEnv;
  const passwords = new Map<string, string>();
  const groups = () => [slapd.groupDn('finance'), slapd.groupDn('vpn')];

  /** The employee exists in the directory with a password, is in both groups, and Access grants them both groups on corp-ldap. */
  async function connectedEmployee(): Promise<Employee> {
    const e = takeEmployee();
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    passwords.set(e.id, password);
    await slapd.addPerson({ uid: e.id, password, mail: e.email });
    for (const g of ['vpn', 'finance']) await slapd.modify(`dn: ${slapd.groupDn(g)}\nchangetype: modify\nadd: member\nmember: ${slapd.personDn(e.id)}\n`);
    const accessDb = createKysely<{ grants: GrantRow }>(env.ems.pool, 'access');
    await accessDb
      .insertInto('grants')
      .values(groups().map((g, i) => ({ id: `ldap-${e.id}-${i}`, employee_id: e.id, system_id: 'corp-ldap', role: g })))
      .execute();
    expect(await slapd.bindAs(e.id, password)).toBe('ok');
    return e;
  }

  const caseOf = async (id: string) => (await http<ems.Resignation>(env.base, 'GET', `/api/resignations/${id}`)).body;
  const systemDone = (id: string, action: 'suspend' | 'restore' | 'revoke') =>
    waitFor(
      async () => {
        const c = await caseOf(id);
        const s = c.systems.find((x) => x.systemId === 'corp-ldap' && x.action === action);
        if (s?.status === 'failed') throw new Error(`corp-ldap ${action} failed: ${s.error}`);
        return s?.status === 'done' ? { c, s } : undefined;
      },
      `corp-ldap ${action} done on case ${id}`,
      30_000,
    );

  beforeAll(async () => {
    env = await startAcceptanceEms(mode, `ldap_connector_${mode}`, { env: { EMS_ACCESS_SYSTEMS_FILE: systemsFile } });
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('when an employee resigns, then their LDAP account is locked (a bind with their password fails) and removed from the critical groups; when HR retains them, the bind succeeds and exactly their groups are back', async () => {
    const employee = await connectedEmployee();
    const password = passwords.get(employee.id)!;
    const me = slapd.personDn(employee.id).toLowerCase();

    const before = { vpn: await slapd.members('vpn'), finance: await slapd.members('finance') };
    expect(before.vpn).toContain(me);

    const submitted = await http<ems.Resignation>(env.base, 'POST', '/api/resignations', { employeeId: employee.id });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;

    const { s: suspended } = await systemDone(id, 'suspend');
    expect(suspended.entitlements).toEqual(groups());
    expect(suspended.verification).toContain('account locked');
    expect(await slapd.bindAs(employee.id, password)).toBe('invalidCredentials');
    // Out of both groups, everyone else still in them.
    expect(await slapd.members('vpn')).toEqual(before.vpn.filter((m) => m !== me));
    expect(await slapd.members('finance')).toEqual(before.finance.filter((m) => m !== me));

    await waitFor(async () => ((await caseOf(id)).status === 'awaiting_decision' ? true : undefined), `case ${id} awaiting the decision`);
    const decided = await http<ems.Resignation>(env.base, 'POST', `/api/resignations/${id}/decision`, { decision: 'retained', note: 'Stays' });
    expect(decided.status).toBe(200);

    const { c, s: restored } = await systemDone(id, 'restore');
    expect(restored.entitlements).toEqual(groups());
    expect(restored.verification).toContain('unlocked');
    expect(await slapd.bindAs(employee.id, password)).toBe('ok');
    expect(await slapd.members('vpn')).toEqual(before.vpn);
    expect(await slapd.members('finance')).toEqual(before.finance);
    expect(c.systems.filter((s) => s.systemId === 'corp-ldap').map((s) => `${s.action}:${s.status}`)).toEqual(['suspend:done', 'restore:done']);
    // The bystander was never touched.
    expect(await slapd.bindAs('bystander', 'bystander-pw')).toBe('ok');
  });

  it('when HR confirms the exit and IT revokes access now, then the revocation on corp-ldap is made and verified: the account stays locked and in none of the groups', async () => {
    const employee = await connectedEmployee();
    const password = passwords.get(employee.id)!;
    const me = slapd.personDn(employee.id).toLowerCase();
    const submitted = await http<ems.Resignation>(env.base, 'POST', '/api/resignations', { employeeId: employee.id });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;
    await systemDone(id, 'suspend');
    await waitFor(async () => ((await caseOf(id)).status === 'awaiting_decision' ? true : undefined), `case ${id} awaiting the decision`);

    // The last day a working day a week ahead; then the access administrator revokes at once (the next revision, no instant).
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: employee.timezone }).format(new Date());
    let lastDay = new Date(Date.parse(`${today}T00:00:00Z`) + 7 * 86_400_000);
    while (!employee.workingHours.days.includes(((lastDay.getUTCDay() + 6) % 7) + 1)) lastDay = new Date(lastDay.getTime() + 86_400_000);
    const confirmed = await http<ems.Resignation>(env.base, 'POST', `/api/resignations/${id}/decision`, { decision: 'exit_confirmed', lastWorkingDay: lastDay.toISOString().slice(0, 10) });
    expect(confirmed.status).toBe(200);
    const scheduled = await waitFor(async () => {
      const items = (await http<{ items: Array<{ status: string; revision: number }> }>(env.base, 'GET', `/api/access-revocations?resignationId=${id}`)).body.items;
      return items[0]?.status === 'scheduled' ? items[0] : undefined;
    }, 'the revocation scheduled');
    const now = await http<{ status: string }>(
      env.base,
      'POST',
      '/api/access-revocations',
      { resignationId: id, employeeId: employee.id, revision: scheduled.revision + 1, reason: 'Revoked now by the access administrator' },
      { authorization: `Bearer ${await tokenFor(env.base, ACCESS_ADMIN)}`, 'idempotency-key': `revoke-now-${id}` },
    );
    expect(now.status).toBe(200);

    const { s: revoked } = await systemDone(id, 'revoke');
    expect(revoked.entitlements).toEqual(groups());
    expect(revoked.verification).toContain('account locked');
    expect(await slapd.bindAs(employee.id, password)).toBe('invalidCredentials');
    expect(await slapd.members('vpn')).not.toContain(me);
    expect(await slapd.members('finance')).not.toContain(me);
  });

  it('when the directory is down at the resignation, then the case shows corp-ldap retrying with the directory\'s error; once it is back, the lock is made and verified', async () => {
    const employee = await connectedEmployee();
    const password = passwords.get(employee.id)!;
    await slapd.down();
    let id: string;
    try {
      const submitted = await http<ems.Resignation>(env.base, 'POST', '/api/resignations', { employeeId: employee.id });
      expect(submitted.status).toBe(201);
      id = submitted.body.id;
      const retrying = await waitFor(
        async () => (await caseOf(id)).systems.find((x) => x.systemId === 'corp-ldap' && x.action === 'suspend' && x.status === 'retrying'),
        `corp-ldap suspend retrying on case ${id}`,
        30_000,
      );
      expect(retrying.error).toContain('the directory did not answer');
      expect(retrying.error).not.toContain(slapd.servicePassword);
    } finally {
      await slapd.up();
    }
    const { s } = await systemDone(id, 'suspend');
    expect(s.attempts).toBeGreaterThan(1);
    expect(await slapd.bindAs(employee.id, password)).toBe('invalidCredentials');
  });
});
