/**
 * A person the directory has deactivated (SCIM `active: false`, a CSV import with --deactivate-missing) is
 * refused everywhere with 401 "this account is deactivated" — whatever credential they still hold: an access
 * token the provider issued before, an API token, a browser session. Never admitted as an unknown caller (who
 * may still reach what any signed-in caller may). Each process learns of it within its security cache's
 * lifetime (10 s). Real EMS, real PostgreSQL, real tokens; the deactivation through SCIM, as an IdP does it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { browserSignIn } from '@ems/identity/testing';
import { waitFor } from '@ems/platform/testing';
import { startAcceptanceEms, tokenFor, OPERATOR, type AcceptanceEnv } from './acceptance/harness.ts';

const org = demoOrg();
/** An engineer with a manager, holding no administrative role. */
const EMP = org.employees.find((e) => e.departmentId === 'eng' && e.managerId && !org.roleAssignments.some((a) => a.personId === e.id))!;
const OTHER = org.employees.find((e) => e.id !== EMP.id && e.managerId && !org.roleAssignments.some((a) => a.personId === e.id))!;
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** The security cache's lifetime (10 s) and some. */
const CACHE_BOUND_MS = 20_000;

describe('a deactivated person', () => {
  let env: AcceptanceEnv;
  let base: string;
  let provisioning: string;
  const credentials: Record<'access token' | 'API token' | 'session', Record<string, string>> = { 'access token': {}, 'API token': {}, session: {} };

  const me = (headers: Record<string, string>) => fetch(`${base}/api/me`, { headers });
  const setActive = async (active: boolean) => {
    const r = await fetch(`${base}/scim/v2/Users/${EMP.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${provisioning}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: active }] }),
    });
    expect(r.status, await r.text()).toBe(200);
  };

  beforeAll(async () => {
    env = await startAcceptanceEms('choreography', 'deactivated_person');
    base = env.base;
    const operator = { authorization: `Bearer ${await tokenFor(base, OPERATOR)}`, 'content-type': 'application/json' };
    const created = await fetch(`${base}/api/provisioning-tokens`, { method: 'POST', headers: operator, body: JSON.stringify({ name: 'test IdP' }) });
    provisioning = ((await created.json()) as { token: string }).token;
    // Every kind of credential the person holds while still active.
    credentials['access token'] = { authorization: `Bearer ${await tokenFor(base, EMP.id)}` };
    const apiToken = await fetch(`${base}/api/api-tokens`, { method: 'POST', headers: operator, body: JSON.stringify({ name: 'laptop script', personId: EMP.id }) });
    expect(apiToken.status).toBe(201);
    credentials['API token'] = { authorization: `Bearer ${((await apiToken.json()) as { token: string }).token}` };
    credentials.session = { cookie: (await browserSignIn(base, EMP.id)).cookie };
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('when the directory deactivates them, then every credential they hold answers 401 "this account is deactivated" and nothing else — and once reactivated, they are back', { timeout: 90_000 }, async () => {
    for (const [kind, headers] of Object.entries(credentials)) expect((await me(headers)).status, `${kind} while active`).toBe(200);

    await setActive(false);

    for (const [kind, headers] of Object.entries(credentials)) {
      const refused = await waitFor(async () => {
        const r = await me(headers);
        return r.status === 401 ? r : undefined;
      }, `the ${kind} of the deactivated person to be refused`, CACHE_BOUND_MS, 250);
      expect(refused.headers.get('content-type'), kind).toMatch(/^application\/problem\+json/);
      const body = (await refused.json()) as Record<string, unknown>;
      // Only the fact: no name, no id, no date, no who.
      expect(body, kind).toEqual({ type: 'https://ems.dev/problems/unauthenticated', title: 'Unauthorized', status: 401, detail: 'this account is deactivated', instance: '/api/me' });
      if (kind !== 'session') expect(refused.headers.get('www-authenticate'), kind).toBe('Bearer realm="ems", error="invalid_token", error_description="this account is deactivated"');
    }
    // Not only /api/me: a change (even one a CSRF token would be missing from) and a read of their own case list.
    const count = async () => (await env.ems.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM ems.resignations WHERE employee_id = $1', [EMP.id])).rows[0]!.n;
    for (const [kind, headers] of Object.entries(credentials)) {
      const resign = await fetch(`${base}/api/resignations`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ employeeId: EMP.id }) });
      expect(resign.status, `${kind}: resign`).toBe(401);
      expect((await fetch(`${base}/api/resignations?limit=1`, { headers })).status, `${kind}: list`).toBe(401);
    }
    expect(await count()).toBe(0);
    // The session check the web app makes (GET /auth/session) says the same.
    const session = await fetch(`${base}/auth/session`, { headers: credentials.session });
    expect(session.status).toBe(401);
    expect(((await session.json()) as { detail: string }).detail).toBe('this account is deactivated');
    // Someone else is not affected.
    expect((await me({ authorization: `Bearer ${await tokenFor(base, OTHER.id)}` })).status).toBe(200);

    await setActive(true);
    for (const [kind, headers] of Object.entries(credentials)) {
      await waitFor(async () => ((await me(headers)).status === 200 ? true : undefined), `the ${kind} of the reactivated person to work again`, CACHE_BOUND_MS, 250);
    }
  });
});
