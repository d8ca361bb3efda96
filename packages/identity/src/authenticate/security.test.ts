import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpServer, createKysely, createLogger, createPool, type Principal } from '@ems/platform';
import { POLICY, type RoleGrant } from '@ems/contracts/policy';
import { createSecurity, personPermit } from './security.ts';
import type { DirectoryPerson } from '../directory/directory.ts';
import { IDENTITY_SCHEMA } from '../db/identity.db.ts';

const log = createLogger({ level: 'silent' });

/** A security whose database is never reached (no request is made): checkRoute is pure. */
function security() {
  const pool = createPool('postgres://nobody@127.0.0.1:9/none', { max: 1 });
  return createSecurity({
    db: createKysely(pool, IDENTITY_SCHEMA),
    log,
    clock: { now: () => new Date() },
    policy: POLICY,
    publicOrigin: 'http://localhost:3000',
    oidc: {
      issuer: 'http://localhost:3000/oidc',
      discoveryUrl: 'http://127.0.0.1:9/oidc/.well-known/openid-configuration',
      apiAudience: 'urn:ems:api',
      serviceAudience: (s) => `urn:ems:service:${s}`,
      serviceClientId: (s) => `ems-service-${s}`,
      hostedServices: ['ems'],
      personClaim: 'sub',
      rolesClaim: 'groups',
      roleMap: {},
      clockToleranceS: 30,
    },
  });
}

describe('deny by default', () => {
  it('when a route names no operation, then the server does not start', async () => {
    await expect(
      createHttpServer({
        title: 't',
        version: '0',
        logger: log,
        readiness: {},
        docs: false,
        security: security(),
        plugins: [async (app) => void app.get('/api/secret', { schema: { response: { 200: z.object({}) } } }, async () => ({}))],
      }),
    ).rejects.toThrow(/must be public or name its operation/);
  });

  it('when a route names an operation the policy table lacks, then the server does not start', async () => {
    await expect(
      createHttpServer({
        title: 't',
        version: '0',
        logger: log,
        readiness: {},
        docs: false,
        security: security(),
        plugins: [async (app) => void app.get('/api/secret', { schema: { operationId: 'stealEverything' } }, async () => ({}))],
      }),
    ).rejects.toThrow(/stealEverything has no row in the policy table/);
  });

  it('when a route is public or names a row of the table, then the server starts and renders who may call it into OpenAPI', async () => {
    const app = await createHttpServer({
      title: 't',
      version: '0',
      logger: log,
      readiness: {},
      docs: false,
      security: security(),
      plugins: [async (app) => void app.get('/api/resignations', { schema: { operationId: 'listResignations' } }, async () => ({}))],
    });
    await app.ready();
    const doc = app.swagger() as unknown as { paths: Record<string, Record<string, { security: unknown; description: string; 'x-ems-permission': string }>>; components: { securitySchemes: Record<string, unknown> } };
    const op = doc.paths['/api/resignations']!.get!;
    expect(op['x-ems-permission']).toBe('listResignations');
    expect(op.description).toContain('Who may call it');
    expect(op.security).toEqual([{ oidc: [] }, { bearer: [] }, { session: [] }]);
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['oidc', 'bearer', 'session']);
    await app.close();
  });
});

describe('a person’s permit', () => {
  const person = (id: string, over: Partial<DirectoryPerson> = {}): DirectoryPerson => ({ id, kind: 'employee', name: id, email: `${id}@x`, adminRoles: [], reports: [], assigned: [], ...over });
  const principal = (p: DirectoryPerson, roles: string[]): Principal => ({ kind: 'person', id: p.id, name: p.name, roles, client: 'test', via: 'token' });
  const permitOf = (p: DirectoryPerson, roles: string[], grants: RoleGrant[]) => personPermit('op', principal(p, roles), p, grants.filter((g) => roles.includes(g.role)));
  const caseReaders: RoleGrant[] = [...POLICY.getResignation.roles];

  it('when an employee asks, then they see their own rows only', () => {
    const permit = permitOf(person('E1'), ['employee'], caseReaders);
    expect(permit.viewOf('E1')).toBe('full');
    expect(permit.viewOf('E2')).toBeUndefined();
    expect(permit.employeeIds).toEqual(['E1']);
  });

  it('when a manager asks, then they see their reports in summary and themselves in full', () => {
    const permit = permitOf(person('M', { reports: ['E1', 'E2'] }), ['employee', 'manager'], caseReaders);
    expect(permit.viewOf('E1')).toBe('summary');
    expect(permit.viewOf('M')).toBe('full');
    expect(permit.viewOf('E9')).toBeUndefined();
    expect([...permit.employeeIds!].sort()).toEqual(['E1', 'E2', 'M']);
    expect(permit.actor('E1')).toMatchObject({ id: 'M', role: 'manager' });
    expect(permit.actor('M')).toMatchObject({ role: 'employee' });
  });

  it('when an HR partner who is also an employee asks, then assigned rows are full and the rest hidden', () => {
    const permit = permitOf(person('P', { kind: 'hr_partner', assigned: ['E1'] }), ['hr_partner'], caseReaders);
    expect(permit.viewOf('E1')).toBe('full');
    expect(permit.viewOf('E2')).toBeUndefined();
  });

  it('when an administrative role reaches all rows, then no list is filtered, but the view stays what the role is given', () => {
    const operator = permitOf(person('O'), ['operator'], caseReaders);
    expect(operator.employeeIds).toBeUndefined();
    expect(operator.viewOf('anyone')).toBe('summary');
    const lead = permitOf(person('L', { kind: 'hr_lead' }), ['hr_lead'], caseReaders);
    expect(lead.viewOf('anyone')).toBe('full');
  });

  it('when a person holds no granting role, then they reach no row at all', () => {
    const permit = personPermit('op', principal(person('X'), []), person('X'), []);
    expect(permit.viewOf('X')).toBeUndefined();
    expect(permit.employeeIds).toEqual([]);
  });
});

describe('roles from an external provider', () => {
  it('when a token carries mapped groups, then they grant administrative roles — never relationship roles, never unmapped groups', () => {
    const pool = createPool('postgres://nobody@127.0.0.1:9/none', { max: 1 });
    const s = createSecurity({
      db: createKysely(pool, IDENTITY_SCHEMA),
      log,
      clock: { now: () => new Date() },
      policy: POLICY,
      publicOrigin: 'https://ems.example',
      oidc: {
        issuer: 'https://idp.example/realms/acme',
        discoveryUrl: 'https://idp.example/realms/acme/.well-known/openid-configuration',
        apiAudience: 'api://ems',
        serviceAudience: (x) => `urn:ems:service:${x}`,
        serviceClientId: (x) => `ems-service-${x}`,
        hostedServices: [],
        personClaim: 'email',
        rolesClaim: 'groups',
        roleMap: { 'IT Access': 'access_admin', 'EMS Operators': 'operator', Managers: 'manager' as never },
        clockToleranceS: 30,
      },
    });
    const someone: DirectoryPerson = { id: 'E1', kind: 'employee', name: 'E', email: 'e@x', adminRoles: [], reports: [], assigned: [] };
    expect(s.rolesOf(someone, { groups: ['IT Access', 'Everyone', 'Managers'] })).toEqual(['access_admin', 'employee']);
    expect(s.rolesOf(someone, { groups: 'EMS Operators' })).toEqual(['employee', 'operator']);
    expect(s.rolesOf(someone, {})).toEqual(['employee']);
  });
});

describe('provisioning tokens', () => {
  it('when a process that does not host identity gets a provisioning token, then 401 — without a look at the tokens it may not read', async () => {
    const app = await createHttpServer({
      title: 't',
      version: '0',
      logger: log,
      readiness: {},
      docs: false,
      security: security(),
      plugins: [async (a) => void a.get('/scim/v2/Users', { schema: { operationId: 'scimListUsers' } }, async () => ({}))],
    });
    const res = await app.inject({ method: 'GET', url: '/scim/v2/Users', headers: { authorization: 'Bearer ems_scim_0123456789abcdef' } });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ detail: string }>().detail).toMatch(/identity service only/);
    await app.close();
  });
});
