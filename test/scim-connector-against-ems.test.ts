import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { requestJson } from '@ems/platform/testing';
import { signIn } from '@ems/identity/testing';
import type { Connector, ConnectorChange, ConnectorContext } from '../packages/access/src/connectors/connector.ts';
import { scimConnector } from '../packages/access/src/connectors/scim/index.ts';
import { OPERATOR, startAcceptanceEms, tokenFor, type AcceptanceEnv } from './acceptance/harness.ts';

/**
 * The SCIM connector against a real SCIM 2.0 service provider: a second EMS's own /scim/v2 endpoint, over
 * real HTTP, authenticated with a provisioning token an operator of that EMS created. The connector
 * suspends, restores and revokes one of its people; what that EMS shows afterwards is read independently
 * (plain SCIM GETs) and through what the person can do there (sign in, or not).
 *
 * EMS's Groups are its administrative roles (hr_lead, access_admin, operator): the entitlement here is
 * `access_admin`. EMS never deletes a person: its DELETE deactivates, which revokeMode delete accepts.
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

const change = (action: ConnectorChange['action'], changeId: string): ConnectorChange => ({ changeId, action, account, entitlements: ['access_admin'] });
const signal = () => new AbortController().signal;

/** What the second EMS shows of the person, read with plain SCIM requests (not the connector's). */
async function shown(): Promise<{ active: unknown; groups: string[] }> {
  const list = await requestJson<{ Resources: Array<{ id: string }> }>(env.base, 'GET', `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${person.email}"`)}`, undefined, { authorization: `Bearer ${token}` });
  expect(list.status).toBe(200);
  const id = list.body.Resources[0]!.id;
  const user = await requestJson<{ active: unknown }>(env.base, 'GET', `/scim/v2/Users/${id}`, undefined, { authorization: `Bearer ${token}` });
  const group = await requestJson<{ members?: Array<{ value: string }> }>(env.base, 'GET', '/scim/v2/Groups/access_admin', undefined, { authorization: `Bearer ${token}` });
  return { active: user.body.active, groups: (group.body.members ?? []).some((m) => m.value === id) ? ['access_admin'] : [] };
}

const canSignIn = () =>
  signIn(env.base, person.id).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  env = await startAcceptanceEms('orchestration', 'scim_connector_against_ems');
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
