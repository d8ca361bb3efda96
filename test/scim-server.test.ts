/**
 * EMS's SCIM 2.0 service provider (/scim/v2) as an identity provider uses it: a real EMS in-process on real
 * PostgreSQL, real HTTP, a provisioning token an operator made through the API, personChanged seen where a
 * subscriber sees it (a webhook to a receiver on loopback).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoOrg } from '@ems/demo-org';
import { waitFor } from '@ems/platform/testing';
import { startAcceptanceEms, tokenFor, HR_LEAD, OPERATOR, type AcceptanceEnv } from './acceptance/harness.ts';
import { startReceiver, type Receiver } from '../packages/webhooks/test/receiver.ts';

const org = demoOrg();
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const EMSX = 'urn:ems:params:scim:schemas:extension:ems:2.0:User';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PERSON_CHANGED = 'com.ems.identity.person-changed.v1';

/** A SCIM answer's JSON, as far as these tests read it (expect() checks the rest). */
interface Json {
  schemas?: string[];
  status?: string;
  scimType?: string;
  detail?: string;
  permission?: string;
  id?: string;
  userName?: string;
  title?: string;
  active?: boolean;
  groups?: Array<{ value: string }>;
  members?: Array<{ value: string }>;
  emails?: unknown;
  totalResults?: number;
  startIndex?: number;
  Resources?: Json[];
  attributes?: Array<{ name: string }>;
  schemaExtensions?: Array<{ schema: string }>;
  [extension: string]: unknown;
}
const ids = (body: Json) => (body.Resources ?? []).map((r) => r.id);
interface Res {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

let env: AcceptanceEnv;
let base: string;
let token: string;
let receiver: Receiver;

async function scim(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const res = await fetch(`${base}/scim/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Json = {};
  try {
    parsed = text ? (JSON.parse(text) as Json) : {};
  } catch {
    parsed = {};
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

const count = async (sql: string, params: unknown[] = []) => (await env.ems.pool.query<{ n: number }>(sql, params)).rows[0]!.n;
const versionOf = async (id: string) => (await env.ems.pool.query<{ version: number }>('SELECT version FROM identity.people WHERE id = $1', [id])).rows[0]?.version;

/** personChanged events delivered to the webhook receiver, for one person. */
const delivered = (id: string) =>
  receiver.received.map((r) => JSON.parse(r.body) as { type: string; subject: string; data: { version: number; person: Record<string, unknown>; previous: Record<string, unknown> | null; origin: string } }).filter((e) => e.type === PERSON_CHANGED && e.subject === id);

const manager = org.employees.find((e) => org.employees.some((x) => x.managerId === e.id))!;
const otherManager = org.employees.find((e) => e.id !== manager.id && org.employees.some((x) => x.managerId === e.id))!;

const newUser = (n: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER, ENT, EMSX],
  userName: `scim.${n}@example.com`,
  externalId: `ext-${n}`,
  name: { formatted: `Scim Person ${n}` },
  emails: [{ value: `scim.${n}@example.com`, type: 'work', primary: true }],
  title: 'Engineer',
  timezone: 'Europe/Berlin',
  addresses: [{ type: 'work', locality: 'Berlin' }],
  [ENT]: { department: 'Engineering', manager: { value: manager.id } },
  [EMSX]: { hrPartner: { value: org.hrPartners[0]!.id }, workingDays: [1, 2, 3, 4], workStart: '08:00', workEnd: '16:00' },
  ...extra,
});

beforeAll(async () => {
  env = await startAcceptanceEms('orchestration', 'scim_server');
  base = env.base;
  receiver = await startReceiver();
  const operator = { authorization: `Bearer ${await tokenFor(base, OPERATOR)}`, 'content-type': 'application/json' };
  const hook = await fetch(`${base}/api/webhooks`, { method: 'POST', headers: operator, body: JSON.stringify({ url: `${receiver.url}/hook`, eventTypes: [PERSON_CHANGED] }) });
  expect(hook.status).toBe(201);
  const created = await fetch(`${base}/api/provisioning-tokens`, { method: 'POST', headers: operator, body: JSON.stringify({ name: 'test IdP' }) });
  expect(created.status).toBe(201);
  const t = (await created.json()) as { token: string; scimUrl: string };
  expect(t.token).toMatch(/^ems_scim_/);
  expect(t.scimUrl).toMatch(/\/scim\/v2$/);
  token = t.token;
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await env?.stop();
});

describe('who may call the SCIM endpoint', () => {
  it('when nobody signs in, then 401 in SCIM error format', async () => {
    const r = await scim('GET', '/Users', undefined, { authorization: '' });
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toContain('application/scim+json');
    expect(r.body).toMatchObject({ schemas: [ERROR], status: '401' });
  });

  it("when a person's token (even the HR lead's) writes, then 403 naming the permission; the HR lead may read, an employee may not", async () => {
    const lead = `Bearer ${await tokenFor(base, HR_LEAD)}`;
    const w = await scim('POST', '/Users', newUser('refused'), { authorization: lead });
    expect(w.status).toBe(403);
    expect(w.body).toMatchObject({ schemas: [ERROR], status: '403', permission: 'scimCreateUser' });
    expect(await count(`SELECT count(*)::int AS n FROM identity.people WHERE user_name = 'scim.refused@example.com'`)).toBe(0);
    expect((await scim('GET', '/Users?count=1', undefined, { authorization: lead })).status).toBe(200);
    const employee = org.employees.find((e) => !org.roleAssignments.some((a) => a.personId === e.id))!;
    const e = await scim('GET', '/Users?count=1', undefined, { authorization: `Bearer ${await tokenFor(base, employee.id)}` });
    expect(e.status).toBe(403);
    expect(e.body.permission).toBe('scimListUsers');
  });

  it('when the provisioning token calls the rest of the API, then it is refused there (403 naming the permission)', async () => {
    const res = await fetch(`${base}/api/employees?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { permission?: string }).permission).toBe('listEmployees');
    const tokens = await fetch(`${base}/api/provisioning-tokens`, { headers: { authorization: `Bearer ${token}` } });
    expect(tokens.status).toBe(403);
  });

  it('when a provisioning token is revoked, then it is refused', async () => {
    const operator = { authorization: `Bearer ${await tokenFor(base, OPERATOR)}`, 'content-type': 'application/json' };
    const made = (await (await fetch(`${base}/api/provisioning-tokens`, { method: 'POST', headers: operator, body: JSON.stringify({ name: 'short-lived' }) })).json()) as { id: string; token: string };
    expect((await scim('GET', '/ServiceProviderConfig', undefined, { authorization: `Bearer ${made.token}` })).status).toBe(200);
    expect((await fetch(`${base}/api/provisioning-tokens/${made.id}`, { method: 'DELETE', headers: { authorization: operator.authorization } })).status).toBe(200);
    const r = await scim('GET', '/ServiceProviderConfig', undefined, { authorization: `Bearer ${made.token}` });
    expect(r.status).toBe(401);
    const list = (await (await fetch(`${base}/api/provisioning-tokens`, { headers: { authorization: operator.authorization } })).json()) as { items: Array<Record<string, unknown>> };
    expect(list.items.every((i) => !('token' in i))).toBe(true);
  });
});

describe('discovery', () => {
  it('answers the service provider configuration, both resource types and every schema, extensions included', async () => {
    const cfg = await scim('GET', '/ServiceProviderConfig');
    expect(cfg.body).toMatchObject({ patch: { supported: true }, filter: { supported: true, maxResults: 200 }, etag: { supported: true }, bulk: { supported: false } });
    const types = await scim('GET', '/ResourceTypes');
    expect(ids(types.body)).toEqual(['User', 'Group']);
    expect(types.body.Resources![0]!.schemaExtensions!.map((e) => e.schema)).toEqual([ENT, EMSX]);
    const schemas = await scim('GET', '/Schemas');
    expect(ids(schemas.body)).toEqual([USER, ENT, EMSX, 'urn:ietf:params:scim:schemas:core:2.0:Group']);
    const ems = await scim('GET', `/Schemas/${EMSX}`);
    expect(ems.body.attributes!.map((a) => a.name)).toEqual(['hrPartner', 'workingDays', 'workStart', 'workEnd']);
    expect((await scim('GET', '/Schemas/urn:nope')).status).toBe(404);
  });
});

describe('Users', () => {
  let id: string;
  let etag: string;

  it('when a User is created, then 201 with Location and ETag, the mapping round-trips, and personChanged is published', async () => {
    const r = await scim('POST', '/Users', newUser('ada'));
    expect(r.status, r.text).toBe(201);
    id = r.body.id!;
    etag = r.headers.get('etag')!;
    // Version 1, and a digest of the manager's and HR partner's names the User shows.
    expect(etag).toMatch(/^W\/"1-[0-9a-f]{8}"$/);
    // Links are made with EMS's public URL.
    const publicBase = new URL(r.headers.get('location')!).origin;
    expect(r.headers.get('location')).toBe(`${publicBase}/scim/v2/Users/${id}`);
    expect(r.body).toMatchObject({
      userName: 'scim.ada@example.com',
      externalId: 'ext-ada',
      displayName: 'Scim Person ada',
      active: true,
      timezone: 'Europe/Berlin',
      emails: [{ value: 'scim.ada@example.com', primary: true }],
      addresses: [{ locality: 'Berlin' }],
      [ENT]: { department: 'Engineering', manager: { value: manager.id, displayName: manager.name, $ref: `${publicBase}/scim/v2/Users/${manager.id}` } },
      [EMSX]: { workingDays: [1, 2, 3, 4], workStart: '08:00', workEnd: '16:00', hrPartner: { value: org.hrPartners[0]!.id } },
      meta: { resourceType: 'User', version: etag, location: `${publicBase}/scim/v2/Users/${id}` },
    });
    const events = await waitFor(() => (delivered(id).length ? delivered(id) : undefined), 'personChanged of the new user');
    expect(events[0]).toMatchObject({ data: { version: 1, previous: null, origin: 'scim', person: { managerId: manager.id } } });
  });

  it('when the same userName is posted again, then 409 uniqueness and nothing changes', async () => {
    const before = await count('SELECT count(*)::int AS n FROM identity.people');
    const r = await scim('POST', '/Users', newUser('ada', { externalId: 'other' }));
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ schemas: [ERROR], scimType: 'uniqueness' });
    expect(await count('SELECT count(*)::int AS n FROM identity.people')).toBe(before);
  });

  it('when a User is read with its ETag in If-None-Match, then 304; with attributes, only those (and id)', async () => {
    const r = await scim('GET', `/Users/${id}`, undefined, { 'if-none-match': etag });
    expect(r.status).toBe(304);
    const some = await scim('GET', `/Users/${id}?attributes=userName,${ENT}:manager.value`);
    expect(some.body).toEqual({ schemas: [USER, ENT, EMSX], id, userName: 'scim.ada@example.com', [ENT]: { manager: { value: manager.id } } });
    const less = await scim('GET', `/Users/${id}?excludedAttributes=emails,meta`);
    expect(less.body.emails).toBeUndefined();
    expect(less.body.userName).toBe('scim.ada@example.com');
  });

  it('when Users are listed with filters, sorting and paging, then the answer is what the directory holds', async () => {
    const byName = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "SCIM.ADA@example.com"')}`);
    expect(byName.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1, Resources: [{ id }] });

    const reports = org.employees.filter((e) => e.managerId === manager.id).length + 1;
    const f = encodeURIComponent(`${ENT}:manager.value eq "${manager.id}" and active eq true`);
    const page = await scim('GET', `/Users?filter=${f}&sortBy=userName&sortOrder=descending&startIndex=2&count=2`);
    expect(page.body.totalResults).toBe(reports);
    expect(page.body.startIndex).toBe(2);
    const all = await scim('GET', `/Users?filter=${f}&sortBy=userName&sortOrder=descending&count=200`);
    const names = (all.body.Resources ?? []).map((u) => u.userName!);
    expect(names).toEqual([...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? 1 : -1)));
    expect(ids(page.body)).toEqual(ids(all.body).slice(1, 3));

    const complex = await scim('GET', `/Users?filter=${encodeURIComponent('emails[type eq "work" and value co "scim.ada"] or (title sw "nobody" and not (active eq false))')}`);
    expect(ids(complex.body)).toEqual([id]);
    const groups = await scim('GET', `/Users?filter=${encodeURIComponent('groups[value eq "operator"]')}`);
    expect(ids(groups.body)).toEqual(org.roleAssignments.filter((a) => a.role === 'operator').map((a) => a.personId).sort());
    const everyone = await scim('GET', '/Users?count=0');
    expect(everyone.body.totalResults).toBe(await count('SELECT count(*)::int AS n FROM identity.people'));
    expect(everyone.body.Resources).toEqual([]);
  });

  it('when the filter is malformed or names an unknown attribute, then 400 invalidFilter', async () => {
    for (const f of ['userName eq', 'userName eq "x" and', 'nickName eq "x"', 'active co "t"', `userName eq "x' OR 1=1 --"`]) {
      const r = await scim('GET', `/Users?filter=${encodeURIComponent(f)}`);
      if (f.includes('OR 1=1')) {
        expect(r.status, f).toBe(200);
        expect(r.body.totalResults, f).toBe(0);
      } else {
        expect(r.status, f).toBe(400);
        expect(r.body, f).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter' });
      }
    }
  });

  it('when a PUT carries a stale If-Match, then 412 and nothing changes; with the current one, the User is replaced', async () => {
    const stale = await scim('PUT', `/Users/${id}`, newUser('ada', { title: 'Stale' }), { 'if-match': 'W/"0"' });
    expect(stale.status).toBe(412);
    expect(await versionOf(id)).toBe(1);
    const r = await scim('PUT', `/Users/${id}`, newUser('ada', { title: 'Staff Engineer' }), { 'if-match': etag });
    expect(r.status, r.text).toBe(200);
    expect(r.body.title).toBe('Staff Engineer');
    etag = r.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"2-[0-9a-f]{8}"$/);
  });

  it("when PATCH changes the manager, then personChanged says who the manager was", async () => {
    const r = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: `${ENT}:manager`, value: { value: otherManager.id } }] }, { 'if-match': etag });
    expect(r.status, r.text).toBe(200);
    expect((r.body[ENT] as { manager: unknown }).manager).toMatchObject({ value: otherManager.id, displayName: otherManager.name });
    const event = await waitFor(() => delivered(id).find((e) => e.data.version === 3), 'personChanged of the manager change');
    expect(event.data.previous).toMatchObject({ managerId: manager.id });
    expect(event.data.person).toMatchObject({ managerId: otherManager.id });
  });

  it("when the manager a User shows is renamed, then the User's ETag changes: the old one in If-None-Match is answered 200 with the new name, and refused in If-Match", async () => {
    const before = await scim('GET', `/Users/${id}`);
    const old = before.headers.get('etag')!;
    expect((await scim('GET', `/Users/${id}`, undefined, { 'if-none-match': old })).status).toBe(304);
    const renamed = await scim('PATCH', `/Users/${otherManager.id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'displayName', value: `${otherManager.name} Renamed` }] });
    expect(renamed.status, renamed.text).toBe(200);
    const after = await scim('GET', `/Users/${id}`, undefined, { 'if-none-match': old });
    expect(after.status).toBe(200);
    expect((after.body[ENT] as { manager: unknown }).manager).toMatchObject({ value: otherManager.id, displayName: `${otherManager.name} Renamed` });
    expect(after.headers.get('etag')).not.toBe(old);
    expect(after.body.meta).toMatchObject({ version: after.headers.get('etag') });
    // The person's own version did not move; a write with the old tag is refused all the same (the client saw the old name).
    const stale = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'title', value: 'Stale' }] }, { 'if-match': old });
    expect(stale.status).toBe(412);
    const back = await scim('PATCH', `/Users/${otherManager.id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'displayName', value: otherManager.name }] });
    expect(back.status, back.text).toBe(200);
    etag = (await scim('GET', `/Users/${id}`)).headers.get('etag')!;
  });

  it('when PATCH operations come with and without paths, value filters included, then they all apply', async () => {
    const r = await scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', value: { title: 'Principal', [`${EMSX}:workEnd`]: '17:30' } },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'ada.new@example.com' },
        { op: 'add', path: 'addresses', value: [{ type: 'work', locality: 'Hamburg', primary: true }] },
        { op: 'remove', path: 'addresses[locality eq "Berlin"]' },
        { op: 'replace', path: 'active', value: 'True' },
        { op: 'replace', path: 'displayName', value: 'Ada King' },
      ],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ title: 'Principal', displayName: 'Ada King', name: { formatted: 'Ada King' }, emails: [{ value: 'ada.new@example.com' }], addresses: [{ locality: 'Hamburg' }], [EMSX]: { workEnd: '17:30' } });
    const given = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Augusta' }, { op: 'replace', path: 'name.familyName', value: 'King' }] });
    expect(given.body).toMatchObject({ displayName: 'Augusta King', name: { formatted: 'Augusta King' } });
  });

  it('when one PATCH operation of several is invalid, then none applies (all or nothing)', async () => {
    const before = await versionOf(id);
    const cases: Array<[unknown, string]> = [
      [{ schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Changed' }, { op: 'replace', path: 'emails[type eq "home"].value', value: 'x@example.com' }] }, 'noTarget'],
      [{ schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Changed' }, { op: 'replace', path: 'id', value: 'other' }] }, 'mutability'],
      [{ schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Changed' }, { op: 'replace', path: 'emails[type eq', value: 'x' }] }, 'invalidPath'],
      [{ schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Changed' }, { op: 'replace', path: 'timezone', value: 'Mars/Base' }] }, 'invalidValue'],
      // A UTC offset is no IANA zone (Intl takes one since Node 22; the CSV import, HR's invites and the docs do not).
      [{ schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Changed' }, { op: 'replace', path: 'timezone', value: '+05:00' }] }, 'invalidValue'],
      [{ schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Changed' }, { op: 'replace', path: `${ENT}:manager.value`, value: id }] }, 'invalidValue'],
      [{ schemas: [PATCH], Operations: Array.from({ length: 101 }, () => ({ op: 'replace', path: 'title', value: 'Changed' })) }, 'tooMany'],
    ];
    for (const [body, scimType] of cases) {
      const r = await scim('PATCH', `/Users/${id}`, body);
      expect(r.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(r.body.scimType, r.text).toBe(scimType);
    }
    expect(await versionOf(id)).toBe(before);
    expect((await scim('GET', `/Users/${id}`)).body.title).toBe('Principal');
  });

  it('when a body is too large, not JSON, or not a User, then it is refused and nothing changes', async () => {
    const before = await versionOf(id);
    const total = await count('SELECT count(*)::int AS n FROM identity.people');
    const big = await scim('PUT', `/Users/${id}`, newUser('ada', { title: 'x'.repeat(70 * 1024) }));
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ schemas: [ERROR], status: '413' });
    const notJson = await scim('POST', '/Users', '{"userName": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidSyntax' });
    const noName = await scim('POST', '/Users', { schemas: [USER], userName: 'nobody@example.com' });
    expect(noName.status).toBe(400);
    expect(noName.body.scimType).toBe('invalidValue');
    const plainJson = await fetch(`${base}/scim/v2/Users/${id}`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ schemas: [PATCH], Operations: [] }) });
    expect(plainJson.status).toBe(400);
    expect(await versionOf(id)).toBe(before);
    expect(await count('SELECT count(*)::int AS n FROM identity.people')).toBe(total);
  });

  it('when a User is deleted, then they are deactivated, never removed, still readable — and can no longer use EMS', async () => {
    const personal = { authorization: `Bearer ${await tokenFor(base, id)}` };
    expect((await fetch(`${base}/api/employees?limit=1`, { headers: personal })).status).toBe(200);
    const r = await scim('DELETE', `/Users/${id}`);
    expect(r.status).toBe(204);
    const after = await scim('GET', `/Users/${id}`);
    expect(after.status).toBe(200);
    expect(after.body.active).toBe(false);
    expect(await count('SELECT count(*)::int AS n FROM identity.people WHERE id = $1', [id])).toBe(1);
    const event = await waitFor(() => delivered(id).find((e) => e.data.person.active === false), 'personChanged of the deactivation');
    expect(event.data.previous).toMatchObject({ active: true });
    // Their token is refused (401, deactivated) once the process forgets what it cached about them (10 s).
    await waitFor(async () => ((await fetch(`${base}/api/employees?limit=1`, { headers: personal })).status === 401 ? true : undefined), 'the deactivated person to be refused', 20_000, 500);
    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await scim('GET', '/Users/nobody-here')).status).toBe(404);
  });
});

describe('Users: reactivation is said, never implied', () => {
  it('when a deactivated User is replaced by a PUT that does not name active, then they stay deactivated; active true reactivates them', async () => {
    const created = await scim('POST', '/Users', newUser('put-keeps-inactive'));
    expect(created.status, created.text).toBe(201);
    const id = created.body.id!;
    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(204);
    const { active: _active, ...withoutActive } = newUser('put-keeps-inactive') as Record<string, unknown>;
    const put = await scim('PUT', `/Users/${id}`, { ...withoutActive, title: 'Retitled' });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ title: 'Retitled', active: false });
    expect((await env.ems.pool.query<{ active: boolean }>('SELECT active FROM identity.people WHERE id = $1', [id])).rows[0]).toEqual({ active: false });
    const back = await scim('PUT', `/Users/${id}`, { ...withoutActive, active: true });
    expect(back.body).toMatchObject({ active: true });
  });
});

describe('Groups: the administrative roles', () => {
  const person = org.employees.find((e) => !org.roleAssignments.some((a) => a.personId === e.id))!;

  it('lists the three roles with their members', async () => {
    const r = await scim('GET', '/Groups');
    expect(ids(r.body)).toEqual(['hr_lead', 'access_admin', 'operator']);
    const op = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "operator"')}&excludedAttributes=members`);
    expect(op.body.Resources).toEqual([expect.objectContaining({ id: 'operator', displayName: 'operator' })]);
    expect(op.body.Resources![0]!.members).toBeUndefined();
  });

  it('when a member is added, then the person holds the role; removed by a value filter, then they no longer do', async () => {
    const add = await scim('PATCH', '/Groups/access_admin', { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: person.id }] }] });
    expect(add.status, add.text).toBe(200);
    expect(add.body.members!.map((m) => m.value)).toContain(person.id);
    expect((await scim('GET', `/Users/${person.id}`)).body.groups).toEqual([expect.objectContaining({ value: 'access_admin' })]);
    const event = await waitFor(() => delivered(person.id).find((e) => (e.data.person.roles as string[]).includes('access_admin')), 'personChanged with the role');
    expect(event.data.origin).toBe('scim');
    await waitFor(async () => {
      const now = (await (await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${await tokenFor(base, person.id)}` } })).json()) as { roles: string[] };
      return now.roles.includes('access_admin') ? true : undefined;
    }, 'the role to reach the person (after the security cache)');

    const remove = await scim('PATCH', '/Groups/access_admin', { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${person.id}"]` }] });
    expect(remove.status, remove.text).toBe(200);
    expect(remove.body.members!.map((m) => m.value)).not.toContain(person.id);
    expect((await scim('GET', `/Users/${person.id}`)).body.groups).toBeUndefined();
    // Removing again is not an error (a client retrying).
    expect((await scim('PATCH', '/Groups/access_admin', { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${person.id}"]` }] })).status).toBe(200);
  });

  it('when a Group is created or deleted, then it is refused with a SCIM error saying why', async () => {
    const post = await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'admins' });
    expect(post.status).toBe(400);
    expect(post.body).toMatchObject({ schemas: [ERROR], scimType: 'mutability' });
    expect(post.body.detail).toMatch(/administrative roles/);
    expect((await scim('DELETE', '/Groups/operator')).status).toBe(400);
    expect((await scim('GET', '/Groups/admins')).status).toBe(404);
    const unknown = await scim('PATCH', '/Groups/operator', { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: 'no-such-person' }] }] });
    expect(unknown.status).toBe(400);
  });
});
