import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import type { ems } from '@ems/contracts';
import { createKysely } from '@ems/platform';
import { requestJson, waitFor } from '@ems/platform/testing';
import { signIn } from '@ems/identity/testing';
import type { Connector, ConnectorChange, ConnectorContext } from '../packages/access/src/connectors/connector.ts';
import { scimConnector } from '../packages/access/src/connectors/scim/index.ts';
import { employeePicker, http, OPERATOR, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

/**
 * The SCIM connector against a real SCIM 2.0 service provider: a second EMS's own /scim/v2 endpoint, over
 * real HTTP, authenticated with a provisioning token an operator of that EMS created. The connector
 * suspends, restores and revokes one of its people; what that EMS shows afterwards is read independently
 * (plain SCIM GETs) and through what the person can do there (sign in, or not).
 *
 * EMS's Groups are its administrative roles (hr_lead, access_admin, operator): the entitlement here is
 * `access_admin`. EMS never deletes a person: its DELETE deactivates, which revokeMode delete accepts.
 *
 * Then the whole way, in both modes: a first EMS whose systems file connects a critical system
 * "second-ems" through the SCIM connector to the second EMS; a resignation there deactivates the person
 * on the second EMS (they can no longer sign in there) and takes access_admin away, and a retention gives
 * both back — shown on the first EMS's case as the system's suspend and restore, done and verified.
 */

let env: AcceptanceEnv;
let token: string;
let connector: Connector;
const logs: string[] = [];

const org = demoOrg();
const admins = new Set(org.roleAssignments.map((r) => r.personId));
// Someone with an email and no administrative role, who can sign in at the start.
const person = org.employees.find((e) => e.email && !admins.has(e.id) && e.managerId)!;
const account = { employeeId: person.id, email: person.email };

const context: ConnectorContext = {
  systemId: 'second-ems',
  log: { info: (o, m) => logs.push(m + JSON.stringify(o)), warn: (o, m) => logs.push(m + JSON.stringify(o)), error: (o, m) => logs.push(m + JSON.stringify(o)) },
  readSecretFile: () => token,
};

/** What the second EMS shows of someone, read with plain SCIM requests (not the connector's). */
async function shownOf(email: string): Promise<{ active: unknown; groups: string[] }> {
  const auth = { authorization: `Bearer ${token}` };
  const list = await requestJson<{ Resources: Array<{ id: string }> }>(env.base, 'GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq ${JSON.stringify(email)}`)}`, undefined, auth);
  expect(list.status).toBe(200);
  const id = list.body.Resources[0]!.id;
  const user = await requestJson<{ active: unknown }>(env.base, 'GET', `/scim/v2/Users/${id}`, undefined, auth);
  const group = await requestJson<{ members?: Array<{ value: string }> }>(env.base, 'GET', '/scim/v2/Groups/access_admin', undefined, auth);
  return { active: user.body.active, groups: (group.body.members ?? []).some((m) => m.value === id) ? ['access_admin'] : [] };
}

const change = (action: ConnectorChange['action'], changeId: string): ConnectorChange => ({ changeId, action, account, entitlements: ['access_admin'] });
const signal = () => new AbortController().signal;

const shown = () => shownOf(person.email);

const canSignIn = (personId = person.id) =>
  signIn(env.base, personId).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  // Choreography: the orchestrator's workflow engine (DBOS) is one per process, and the first EMS of the journey below runs it in orchestration mode.
  env = await startAcceptanceEms('choreography', 'scim_connector_against_ems');
  const created = await requestJson<{ token: string; scimUrl: string }>(env.base, 'POST', '/api/provisioning-tokens', { name: 'Access connector of the first EMS', expiresInDays: 1 }, {
    authorization: `Bearer ${await tokenFor(env.base, OPERATOR)}`,
  });
  expect(created.status).toBe(201);
  token = created.body.token;
  connector = scimConnector.create(scimConnector.parseSettings({ baseUrl: created.body.scimUrl, tokenFile: 'second-ems.token', timeout: '5s' }), context);
});
afterAll(async () => {
  await connector?.close();
  await env?.stop();
});

describe("the SCIM connector against a second EMS's SCIM endpoint", () => {
  it('when a person is given the entitlement, suspended, restored and revoked, then that EMS shows each change and the person can or cannot sign in there', async () => {
    expect(await canSignIn()).toBe(true);

    // The person holds the entitlement (restore adds exactly the listed Group and leaves the User active).
    const given = await connector.apply(change('restore', 'c0000000-0000-4000-8000-000000000001'), signal());
    expect(given.verification).toMatch(/read back: active=true; a member of Group access_admin$/);
    expect(await shown()).toEqual({ active: true, groups: ['access_admin'] });
    expect(await connector.inspect!(account, signal())).toEqual({ exists: true, enabled: true, entitlements: ['access_admin'] });

    const suspended = await connector.apply(change('suspend', 'c0000000-0000-4000-8000-000000000002'), signal());
    expect(suspended.verification).toMatch(new RegExp(`^SCIM User ${person.email.replace(/[.+]/g, '\\$&')} \\(id [^)]+\\) read back: active=false; in none of Group access_admin$`));
    expect(await shown()).toEqual({ active: false, groups: [] });
    expect(await connector.inspect!(account, signal())).toEqual({ exists: true, enabled: false, entitlements: [] });
    expect(await canSignIn()).toBe(false);

    // Applied again (a retry after a lost answer): verified, nothing changes.
    await connector.apply(change('suspend', 'c0000000-0000-4000-8000-000000000002'), signal());
    expect(await shown()).toEqual({ active: false, groups: [] });

    const restored = await connector.apply(change('restore', 'c0000000-0000-4000-8000-000000000003'), signal());
    expect(restored.verification).toMatch(/read back: active=true; a member of Group access_admin$/);
    expect(await shown()).toEqual({ active: true, groups: ['access_admin'] });
    expect(await canSignIn()).toBe(true);

    const revoked = await connector.apply(change('revoke', 'c0000000-0000-4000-8000-000000000004'), signal());
    expect(revoked.verification).toMatch(/read back: active=false; in none of Group access_admin$/);
    expect(await shown()).toEqual({ active: false, groups: [] });
    expect(await canSignIn()).toBe(false);
    expect(logs.join('\n')).not.toContain(token);
  });

  it('when revokeMode is delete, then EMS deactivates the User (it never deletes a person) and the connector accepts that', async () => {
    await connector.apply(change('restore', 'c0000000-0000-4000-8000-000000000005'), signal());
    const deleting = scimConnector.create(scimConnector.parseSettings({ baseUrl: `${env.base}/scim/v2`, token, revokeMode: 'delete' }), context);
    const outcome = await deleting.apply(change('revoke', 'c0000000-0000-4000-8000-000000000006'), signal());
    expect(outcome.verification).toMatch(/read back: deleted; the provider keeps it with active=false; in none of Group access_admin$/);
    expect(await shown()).toEqual({ active: false, groups: [] });
  });

  it('when the token is not one of that EMS, or a Group does not exist there, then the change fails as permanent with EMS\'s SCIM error', async () => {
    const stranger = scimConnector.create(scimConnector.parseSettings({ baseUrl: `${env.base}/scim/v2`, token: 'ems_scim_not-a-real-token' }), context);
    await expect(stranger.apply(change('suspend', 'c0000000-0000-4000-8000-000000000007'), signal())).rejects.toMatchObject({ transient: false, code: '401' });

    const missing = await connector.apply({ ...change('suspend', 'c0000000-0000-4000-8000-000000000008'), entitlements: ['no_such_group'] }, signal()).catch((e: unknown) => e);
    expect(missing).toMatchObject({ transient: false, code: '404' });
    expect((missing as Error).message).toMatch(/^SCIM GET \/Groups\/no_such_group answered 404/);
  });
});

describe.each(['orchestration', 'choreography'] as const)('a resignation on one EMS and its access on a second EMS, through SCIM (%s)', (mode) => {
  let first: AcceptanceEnv;
  let dir: string;
  const { takeEmployee } = employeePicker(org);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ems-scim-journey-'));
    await writeFile(path.join(dir, 'second-ems.token'), `${token}\n`, { mode: 0o600 });
    const systemsFile = path.join(dir, 'systems.json');
    await writeFile(
      systemsFile,
      JSON.stringify({
        systems: [
          {
            id: 'second-ems',
            name: 'The other EMS',
            critical: true,
            connector: { type: 'scim', settings: { baseUrl: `${env.base}/scim/v2`, tokenFile: 'second-ems.token', userFilter: 'userName eq "{email}"', revokeMode: 'deactivate', timeout: '5s' } },
          },
        ],
      }),
    );
    first = await startAcceptanceEms(mode, `scim_journey_${mode}`, { env: { EMS_ACCESS_SYSTEMS_FILE: systemsFile } });
  }, 120_000);
  afterAll(async () => {
    await first?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const caseOf = async (id: string) => (await http<ems.Resignation>(first.base, 'GET', `/api/resignations/${id}`)).body;
  const systemDone = (id: string, action: 'suspend' | 'restore') =>
    waitFor(
      async () => {
        const c = await caseOf(id);
        const s = c.systems.find((x) => x.systemId === 'second-ems' && x.action === action);
        if (s?.status === 'failed') throw new Error(`second-ems ${action} failed: ${s.error}`);
        return s?.status === 'done' ? { c, s } : undefined;
      },
      `second-ems ${action} done on case ${id}`,
      30_000,
    );

  it('when an employee resigns, then the second EMS deactivates them and takes access_admin away (they cannot sign in there); when HR retains them, both come back', async () => {
    // Skip anyone the other describe's person or an earlier mode used, and the administrators.
    let employee = takeEmployee();
    while (employee.id === person.id || admins.has(employee.id) || !employee.email) employee = takeEmployee();
    const email = employee.email;

    // On the second EMS the person holds access_admin (as an identity provider would have provisioned it) …
    const auth = { authorization: `Bearer ${token}` };
    const found = await requestJson<{ Resources: Array<{ id: string }> }>(env.base, 'GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq ${JSON.stringify(email)}`)}`, undefined, auth);
    const scimId = found.body.Resources[0]!.id;
    const added = await requestJson(env.base, 'PATCH', '/scim/v2/Groups/access_admin', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: scimId }] }] }, { ...auth, 'content-type': 'application/scim+json' });
    expect(added.status).toBe(200);
    expect(await shownOf(email)).toEqual({ active: true, groups: ['access_admin'] });
    expect(await canSignIn(employee.id)).toBe(true);
    // … and the first EMS's Access knows it as their grant on second-ems.
    await createKysely<{ grants: { id: string; employee_id: string; system_id: string; role: string } }>(first.ems.pool, 'access')
      .insertInto('grants')
      .values({ id: `scim-${mode}-${employee.id}`, employee_id: employee.id, system_id: 'second-ems', role: 'access_admin' })
      .execute();

    const submitted = await http<ems.Resignation>(first.base, 'POST', '/api/resignations', { employeeId: employee.id });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;

    const { s: suspended } = await systemDone(id, 'suspend');
    expect(suspended.entitlements).toEqual(['access_admin']);
    expect(suspended.verification).toMatch(/^SCIM User .+ read back: active=false; in none of Group access_admin$/);
    expect(await shownOf(email)).toEqual({ active: false, groups: [] });
    expect(await canSignIn(employee.id)).toBe(false);

    await waitFor(async () => ((await caseOf(id)).status === 'awaiting_decision' ? true : undefined), `case ${id} awaiting the decision`);
    const decided = await http<ems.Resignation>(first.base, 'POST', `/api/resignations/${id}/decision`, { decision: 'retained', note: 'Stays' });
    expect(decided.status).toBe(200);

    const { c, s: restored } = await systemDone(id, 'restore');
    expect(restored.verification).toMatch(/read back: active=true; a member of Group access_admin$/);
    expect(await shownOf(email)).toEqual({ active: true, groups: ['access_admin'] });
    expect(await canSignIn(employee.id)).toBe(true);
    expect(c.systems.filter((s) => s.systemId === 'second-ems').map((s) => `${s.action}:${s.status}`)).toEqual(['suspend:done', 'restore:done']);
  });
});
