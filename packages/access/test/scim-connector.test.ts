import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError, type Connector, type ConnectorChange, type ConnectorContext } from '../src/connectors/connector.ts';
import { scimConnector } from '../src/connectors/scim/index.ts';
import { retryAfterMs } from '../src/connectors/scim/scim.client.ts';
import { startScimProvider, type ScimProvider } from './scim-provider.ts';

/**
 * The SCIM connector against a SCIM service provider on loopback (scim-provider.ts, RFC 7644) that can
 * be made to misbehave on demand: what it sends, how it recovers (412, 429), how it fails (503, 401,
 * 404, no answer, a write not applied) and that its token never shows. The same connector against a
 * real EMS's own /scim/v2 endpoint: scim-connector-against-ems.test.ts.
 */

let provider: ScimProvider;
const logs: string[] = [];
const context: ConnectorContext = {
  systemId: 'idp',
  log: { info: (o, m) => logs.push(m + JSON.stringify(o)), warn: (o, m) => logs.push(m + JSON.stringify(o)), error: (o, m) => logs.push(m + JSON.stringify(o)) },
  readSecretFile: () => provider.token,
};

beforeAll(async () => {
  provider = await startScimProvider();
});
afterAll(async () => {
  await provider?.close();
});
beforeEach(() => {
  provider.seen.length = 0;
  provider.faults.length = 0;
  provider.listGroupsOnUsers = true;
});

function connector(extra: Record<string, unknown> = {}): Connector {
  return scimConnector.create(scimConnector.parseSettings({ baseUrl: provider.url, tokenFile: 'idp.token', timeout: '2s', ...extra }), context);
}

let n = 0;
function person(options: { groups?: string[]; active?: boolean; email?: string } = {}) {
  n += 1;
  const email = options.email ?? `person${n}@example.com`;
  const user = provider.addUser(email, { externalId: `emp-${n}`, ...(options.active === undefined ? {} : { active: options.active }) });
  for (const g of options.groups ?? []) (provider.groups.get(g) ?? provider.addGroup(g)).members.add(user.id);
  return { user, account: { employeeId: `emp-${n}`, email } };
}

const change = (action: ConnectorChange['action'], account: ConnectorChange['account'], entitlements: string[]): ConnectorChange => ({
  changeId: `chg-${action}-${account.employeeId}`,
  action,
  account,
  entitlements,
});
const signal = () => new AbortController().signal;
const memberOf = (group: string, userId: string) => provider.groups.get(group)?.members.has(userId) ?? false;

async function failure(work: Promise<unknown>): Promise<ConnectorError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

describe('the SCIM connector against an RFC 7644 provider', () => {
  it('when a person is suspended, then the User is deactivated with PATCH active=false and removed from exactly the listed Groups, each write with If-Match, and read back', async () => {
    const { user, account } = person({ groups: ['g-payroll', 'g-admins', 'g-all'] });
    const outcome = await connector().apply(change('suspend', account, ['g-payroll', 'g-admins']), signal());

    expect(provider.users.get(user.id)!.active).toBe(false);
    expect([memberOf('g-payroll', user.id), memberOf('g-admins', user.id), memberOf('g-all', user.id)]).toEqual([false, false, true]);
    expect(outcome.verification).toBe(`SCIM User ${account.email} (id ${user.id}) read back: active=false; in none of Groups g-payroll, g-admins`);

    const writes = provider.writes();
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual([`PATCH /Users/${user.id}`, 'PATCH /Groups/g-payroll', 'PATCH /Groups/g-admins']);
    expect(JSON.parse(writes[0]!.body)).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect((JSON.parse(writes[1]!.body) as { Operations: unknown }).Operations).toEqual([{ op: 'remove', path: `members[value eq "${user.id}"]` }]);
    expect(writes.map((w) => w.headers['if-match'])).toEqual(['W/"1"', 'W/"1"', 'W/"1"']);
    expect(writes.every((w) => w.headers['content-type'] === 'application/scim+json')).toBe(true);
    // The lookup used the configured filter, escaped as a JSON string.
    expect(provider.seen[0]!.path).toBe(`/Users?filter=${encodeURIComponent(`userName eq "${account.email}"`)}&startIndex=1&count=2`);
  });

  it('when a suspension is restored, then the memberships come back and the User is active again', async () => {
    const { user, account } = person({ groups: ['g-payroll', 'g-ops'] });
    const c = connector();
    await c.apply(change('suspend', account, ['g-payroll', 'g-ops']), signal());
    const outcome = await c.apply(change('restore', account, ['g-payroll', 'g-ops']), signal());

    expect(provider.users.get(user.id)!.active).toBe(true);
    expect([memberOf('g-payroll', user.id), memberOf('g-ops', user.id)]).toEqual([true, true]);
    expect(outcome.verification).toBe(`SCIM User ${account.email} (id ${user.id}) read back: active=true; a member of Groups g-payroll, g-ops`);
    const add = provider.writes().find((w) => w.method === 'PATCH' && w.path === '/Groups/g-ops' && w.body.includes('"add"'));
    expect((JSON.parse(add!.body) as { Operations: unknown }).Operations).toEqual([{ op: 'add', path: 'members', value: [{ value: user.id }] }]);
  });

  it('when the same change is applied twice, then the second only reads: nothing is written again, and it is verified', async () => {
    const { user, account } = person({ groups: ['g-payroll'] });
    const c = connector();
    await c.apply(change('suspend', account, ['g-payroll']), signal());
    const before = provider.writes().length;
    const again = await c.apply(change('suspend', account, ['g-payroll']), signal());
    expect(provider.writes().length).toBe(before);
    expect(again.verification).toContain(`(id ${user.id}) read back: active=false`);
  });

  it('when a revocation deactivates, then every listed membership is removed and the User stays, inactive', async () => {
    const { user, account } = person({ groups: ['g-payroll', 'g-all'] });
    const outcome = await connector().apply(change('revoke', account, ['g-payroll', 'g-all']), signal());
    expect(provider.users.get(user.id)).toMatchObject({ active: false });
    expect([memberOf('g-payroll', user.id), memberOf('g-all', user.id)]).toEqual([false, false]);
    expect(outcome.verification).toContain('read back: active=false; in none of Groups g-payroll, g-all');
  });

  it('when a revocation deletes, then the User is DELETEd with If-Match and reads back 404; applied again, it finds no User and succeeds', async () => {
    const { user, account } = person({ groups: ['g-payroll'] });
    const c = connector({ revokeMode: 'delete' });
    const outcome = await c.apply(change('revoke', account, ['g-payroll']), signal());
    expect(provider.users.has(user.id)).toBe(false);
    expect(outcome.verification).toBe(`SCIM User ${account.email} (id ${user.id}) read back: GET answers 404 (deleted); in none of Group g-payroll`);
    const del = provider.writes().find((w) => w.method === 'DELETE');
    expect(del).toMatchObject({ path: `/Users/${user.id}`, headers: { 'if-match': 'W/"1"' } });

    const again = await c.apply(change('revoke', account, ['g-payroll']), signal());
    expect(again.verification).toBe(`no SCIM User matches userName eq "${account.email}": nothing left to revoke`);
  });

  it('when a DELETE is answered 204 but the User still reads back active, then the revocation fails: deleted means 404 or at least deactivated', async () => {
    const { user, account } = person();
    provider.faults.push((req) => (req.method === 'DELETE' ? 'ignore-write' : undefined));
    const err = await failure(connector({ revokeMode: 'delete' }).apply(change('revoke', account, []), signal()));
    expect(err).toMatchObject({ transient: true, code: 'verification_failed', message: `SCIM User ${account.email} (id ${user.id}) read back after the change: the User still exists, active` });
  });

  it('when someone changes the User between the read and the write (412), then the connector reads it again and writes once more with the new ETag', async () => {
    const { user, account } = person();
    provider.faults.push((req) => {
      if (req.method !== 'PATCH') return undefined;
      provider.users.get(user.id)!.version += 1; // a change by someone else
      return { status: 412, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '412', detail: 'version mismatch' } };
    });
    await connector().apply(change('suspend', account, []), signal());
    const patches = provider.writes().filter((w) => w.method === 'PATCH');
    expect(patches.map((p) => p.headers['if-match'])).toEqual(['W/"1"', 'W/"2"']);
    expect(provider.users.get(user.id)!.active).toBe(false);
  });

  it('when the provider answers 429 with Retry-After, then the connector waits that long and asks again', async () => {
    const { user, account } = person();
    provider.faults.push((req) => (req.method === 'PATCH' ? { status: 429, headers: { 'retry-after': '1' }, body: { status: '429', detail: 'slow down' } } : undefined));
    const started = Date.now();
    await connector().apply(change('suspend', account, []), signal());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(provider.writes().filter((w) => w.method === 'PATCH')).toHaveLength(2);
    expect(provider.users.get(user.id)!.active).toBe(false);
  });

  it('when the provider asks to wait longer than 30 s, then the connector does not hold the change: it fails as transient naming Retry-After, for Access to retry later', async () => {
    const { account } = person();
    provider.faults.push((req) => (req.method === 'PATCH' ? { status: 429, headers: { 'retry-after': '120' }, body: { status: '429', detail: 'quota exhausted' } } : undefined));
    const started = Date.now();
    const err = await failure(connector().apply(change('suspend', account, []), signal()));
    expect(err).toMatchObject({ transient: true, code: '429' });
    expect(err.message).toMatch(/answered 429: quota exhausted \(Retry-After: 120\)$/);
    expect(Date.now() - started).toBeLessThan(2_000);
    // Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3).
    const now = Date.parse('2026-12-03T12:00:00Z');
    expect([retryAfterMs('5', now), retryAfterMs('Thu, 03 Dec 2026 12:00:07 GMT', now), retryAfterMs('soon', now), retryAfterMs(undefined, now)]).toEqual([5_000, 7_000, undefined, undefined]);
  });

  it('when the provider answers 503 or never answers, then the change fails as transient', async () => {
    const { account } = person();
    provider.faults.push((req) => (req.method === 'PATCH' ? { status: 503, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503', detail: 'maintenance' } } : undefined));
    const down = await failure(connector().apply(change('suspend', account, []), signal()));
    expect(down).toMatchObject({ transient: true, code: '503' });
    expect(down.message).toMatch(/^SCIM PATCH \/Users\/[^ ]+ answered 503: maintenance$/);

    provider.faults.push(() => 'hang');
    const started = Date.now();
    const silent = await failure(connector({ timeout: '300ms' }).apply(change('suspend', account, []), signal()));
    expect(silent).toMatchObject({ transient: true, code: 'timeout', message: 'SCIM GET /Users: no answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('when the token is refused, then the change fails as permanent with the provider\'s words and never the token', async () => {
    const { account } = person();
    const c = scimConnector.create(scimConnector.parseSettings({ baseUrl: provider.url, token: 'not-the-token-0123456789' }), context);
    const err = await failure(c.apply(change('suspend', account, []), signal()));
    expect(err).toMatchObject({ transient: false, code: '401', message: 'SCIM GET /Users answered 401: Authorization failure: the bearer token is not valid' });
    expect(err.message).not.toContain('not-the-token');
    expect(`${JSON.stringify(err)}${logs.join('')}`).not.toContain(provider.token);
  });

  it('when the provider echoes the request\'s Authorization header in its error, then the token is blanked out of the message', async () => {
    const { account } = person();
    provider.faults.push((req) => ({ status: 400, body: { detail: `gateway: cannot route a request with authorization=${String(req.headers.authorization)}` } }));
    const err = await failure(connector().apply(change('suspend', account, []), signal()));
    expect(err).toMatchObject({ transient: false, code: '400' });
    expect(err.message).toContain('gateway: cannot route a request with authorization=Bearer ***');
    expect(`${err.message}${JSON.stringify(err)}${logs.join('')}`).not.toContain(provider.token);
  });

  it('when a listed Group does not exist, or no User matches, then the change fails as permanent', async () => {
    const { account } = person();
    const missingGroup = await failure(connector().apply(change('suspend', account, ['g-nope']), signal()));
    expect(missingGroup).toMatchObject({ transient: false, code: '404', message: 'SCIM GET /Groups/g-nope answered 404: Resource g-nope not found' });

    const nobody = await failure(connector().apply(change('suspend', { employeeId: 'x', email: 'nobody@example.com' }, []), signal()));
    expect(nobody).toMatchObject({ transient: false, code: 'not_found', message: 'no SCIM User matches userName eq "nobody@example.com"' });
  });

  it('when the provider accepts a write and does not apply it, then apply fails: verified by reading back, not trusted', async () => {
    const { user, account } = person({ groups: ['g-payroll'] });
    provider.faults.push((req) => (req.method === 'PATCH' && req.path.startsWith('/Groups') ? 'ignore-write' : undefined));
    const err = await failure(connector().apply(change('suspend', account, ['g-payroll']), signal()));
    expect(err).toMatchObject({ transient: true, code: 'verification_failed', message: `SCIM User ${account.email} (id ${user.id}) read back after the change: still a member of Group g-payroll` });
  });

  it('when a value holds quotes or backslashes, then it stays a value: the filter is escaped as a JSON string', async () => {
    const { user, account } = person({ email: 'o"brien\\x@example.com' });
    await connector().apply(change('suspend', account, []), signal());
    expect(provider.users.get(user.id)!.active).toBe(false);
    expect(decodeURIComponent(provider.seen[0]!.path)).toContain('filter=userName eq "o\\"brien\\\\x@example.com"');

    const byId = person();
    await connector({ userFilter: 'externalId eq "{id}"' }).apply(change('suspend', byId.account, []), signal());
    expect(provider.users.get(byId.user.id)!.active).toBe(false);
  });

  it('when a person is inspected, then exists, enabled and their Groups come back — from the User, or from a Groups query when the User does not list them', async () => {
    const { user, account } = person({ groups: ['g-b', 'g-a'] });
    expect(await connector().inspect!(account, signal())).toEqual({ exists: true, enabled: true, entitlements: ['g-a', 'g-b'] });
    provider.users.get(user.id)!.active = false;
    provider.listGroupsOnUsers = false;
    expect(await connector().inspect!(account, signal())).toEqual({ exists: true, enabled: false, entitlements: ['g-a', 'g-b'] });
    expect(provider.seen.at(-1)!.path).toContain('/Groups?filter=');
    expect(await connector().inspect!({ employeeId: 'x', email: 'nobody@example.com' }, signal())).toEqual({ exists: false, enabled: false, entitlements: [] });
  });

  it('when settings are wrong, then they are refused with the reason; described, they show no token', () => {
    const ok = { baseUrl: 'https://idp.example.com/scim/v2/', token: 'secret-token-value' };
    expect(scimConnector.parseSettings(ok)).toMatchObject({ baseUrl: 'https://idp.example.com/scim/v2', userFilter: 'userName eq "{email}"', revokeMode: 'deactivate', timeout: 10_000 });
    expect(() => scimConnector.parseSettings({ baseUrl: ok.baseUrl })).toThrow(/exactly one of token or tokenFile/);
    expect(() => scimConnector.parseSettings({ ...ok, tokenFile: 'x' })).toThrow(/exactly one of token or tokenFile/);
    expect(() => scimConnector.parseSettings({ ...ok, userFilter: 'userName eq {email}' })).toThrow(/whole quoted value/);
    expect(() => scimConnector.parseSettings({ ...ok, userFilter: 'userName eq "{mail}"' })).toThrow(/unknown placeholder \{mail\}/);
    expect(() => scimConnector.parseSettings({ ...ok, revokeMode: 'archive' })).toThrow();
    expect(() => scimConnector.parseSettings({ ...ok, timeout: 'soon' })).toThrow(/duration/);
    expect(() => scimConnector.parseSettings({ ...ok, baseUrl: 'https://u:p@idp.example.com/' })).toThrow(/credentials/);
    expect(() => scimConnector.parseSettings({ ...ok, password: 'x' })).toThrow(/password/);
    expect(JSON.stringify(scimConnector.describe!(scimConnector.parseSettings(ok)))).not.toContain('secret-token-value');
  });

  it('when the provider serves https with a certificate from a private CA, then caFile makes it trusted; without it the change fails before anything is sent', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ems-scim-tls-'));
    try {
      // A self-signed certificate for 127.0.0.1: its own CA, as a private CA's would be.
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=scim.internal', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'ca.pem')], { stdio: 'ignore' });
      const secure = await startScimProvider({ tls: { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'ca.pem'), 'utf8') } });
      try {
        const user = secure.addUser('tls@example.com');
        const files: Record<string, string> = { 'idp.token': secure.token, 'ca.pem': readFileSync(path.join(dir, 'ca.pem'), 'utf8') };
        const tlsContext: ConnectorContext = { ...context, readSecretFile: (file) => files[file]! };
        const account = { employeeId: 'tls', email: 'tls@example.com' };

        const untrusted = scimConnector.create(scimConnector.parseSettings({ baseUrl: secure.url, tokenFile: 'idp.token' }), tlsContext);
        const err = await failure(untrusted.apply(change('suspend', account, []), signal()));
        expect(err).toMatchObject({ transient: true, code: 'no_answer' });
        expect(err.message).toMatch(/^SCIM GET \/Users: .*(self-signed|SELF_SIGNED)/);
        expect(secure.seen).toEqual([]);

        const trusted = scimConnector.create(scimConnector.parseSettings({ baseUrl: secure.url, tokenFile: 'idp.token', caFile: 'ca.pem' }), tlsContext);
        await trusted.apply(change('suspend', account, []), signal());
        expect(secure.users.get(user.id)!.active).toBe(false);
      } finally {
        await secure.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
