/**
 * Signing in through the real built-in provider over HTTP: the browser's authorization code + PKCE flow
 * into a session (cookie, CSRF, refresh, expiry, logout), key rotation, API tokens, and the tokens a
 * verifier must refuse. Real EMS, real PostgreSQL, real tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { createHmac } from 'node:crypto';
import { demoOrg } from '@ems/demo-org';
import { createSecrets, issuerOf } from '@ems/identity';
import { browserSignIn, signIn, TEST_SECRETS_KEY } from '@ems/identity/testing';
import { requestJson, waitFor } from '@ems/platform/testing';
import { startAcceptanceEms, type AcceptanceEnv } from './acceptance/harness.ts';
import { http, OPERATOR, tokenFor } from './support/auth.ts';

const org = demoOrg();
const secrets = createSecrets(Buffer.from(TEST_SECRETS_KEY, 'base64'));
/** An engineer with a manager (not an administrator). */
const EMP = org.employees.find((e) => e.departmentId === 'eng' && e.managerId && !org.employees.some((x) => x.managerId === e.id) && !org.roleAssignments.some((a) => a.personId === e.id))!;

describe('signing in', () => {
  let env: AcceptanceEnv;
  let base: string;
  let issuer: string;

  beforeAll(async () => {
    env = await startAcceptanceEms('choreography', 'sign_in', { env: { EMS_SESSION_IDLE: '4s' } });
    base = env.base;
    issuer = issuerOf(env.ems.auth.settings);
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('when a person signs in in the browser, then they land where they started with an HttpOnly, SameSite session cookie, and the API answers them as themselves', async () => {
    const { cookie, setCookie: sessionCookie, landed } = await browserSignIn(base, EMP.id, '/cases/mine');
    const b = { header: () => cookie };
    expect(landed).toBe('/cases/mine');
    expect(sessionCookie).toMatch(/HttpOnly/);
    expect(sessionCookie).toMatch(/SameSite=Lax/);
    expect(sessionCookie).toMatch(/Path=\//);
    const session = await requestJson<{ person: { id: string }; roles: string[]; csrfToken: string; expiresAt: string }>(base, 'GET', '/auth/session', undefined, { cookie: b.header() });
    expect(session.status).toBe(200);
    expect(session.body.person.id).toBe(EMP.id);
    expect(session.body.roles).toEqual(['employee']);
    const me = await requestJson<{ id: string; via: string }>(base, 'GET', '/api/me', undefined, { cookie: b.header() });
    expect(me.body).toMatchObject({ id: EMP.id, via: 'session' });
    // Only their own case: another employee's is unknown to them.
    const other = org.employees.find((e) => e.id !== EMP.id && e.managerId)!;
    const othersCase = await http<{ id: string }>(base, 'POST', '/api/resignations', { employeeId: other.id });
    expect((await requestJson(base, 'GET', `/api/resignations/${othersCase.body.id}`, undefined, { cookie: b.header() })).status).toBe(404);
  });

  it('when a change is made with the session cookie, then it needs the CSRF token and the same origin — without them nothing is stored', async () => {
    const { cookie } = await browserSignIn(base, EMP.id);
    const b = { header: () => cookie };
    const { csrfToken } = (await requestJson<{ csrfToken: string }>(base, 'GET', '/auth/session', undefined, { cookie: b.header() })).body;
    const count = async () => Number((await env.ems.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ems.resignations WHERE employee_id = $1`, [EMP.id])).rows[0]!.n);
    const before = await count();
    const noToken = await requestJson<{ permission: string }>(base, 'POST', '/api/resignations', { employeeId: EMP.id }, { cookie: b.header() });
    expect(noToken.status).toBe(403);
    expect(noToken.body.permission).toBe('csrf');
    const wrongToken = await requestJson(base, 'POST', '/api/resignations', { employeeId: EMP.id }, { cookie: b.header(), 'x-csrf-token': 'x'.repeat(43) });
    expect(wrongToken.status).toBe(403);
    const crossSite = await requestJson(base, 'POST', '/api/resignations', { employeeId: EMP.id }, { cookie: b.header(), 'x-csrf-token': csrfToken, origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(await count()).toBe(before);
    const ok = await requestJson<{ employeeId: string }>(base, 'POST', '/api/resignations', { employeeId: EMP.id }, { cookie: b.header(), 'x-csrf-token': csrfToken, origin: new URL(env.ems.auth.settings.publicUrl).origin });
    expect(ok.status).toBe(201);
    expect(await count()).toBe(before + 1);
  });

  it('when the sign-in state is tampered with or the code replayed, then no session is opened', async () => {
    // A callback that was not started here (no state cookie, invented code).
    const forged = await requestJson(base, 'GET', '/auth/callback?code=abc&state=xyz&iss=' + encodeURIComponent(issuer));
    expect(forged.status).toBe(400);
    // An open redirect is not possible: returnTo must be a path of this site.
    const { landed } = await browserSignIn(base, EMP.id, 'https://evil.example/');
    expect(landed).toBe('/');
  });

  it('when the session is refreshed, then the provider is asked again and it lasts longer; idle past its lifetime it ends; after logout the cookie is refused', async () => {
    const { cookie } = await browserSignIn(base, EMP.id);
    const b = { header: () => cookie };
    const first = (await requestJson<{ csrfToken: string; expiresAt: string }>(base, 'GET', '/auth/session', undefined, { cookie: b.header() })).body;
    // Refresh needs the CSRF token too.
    expect((await requestJson(base, 'POST', '/auth/refresh', undefined, { cookie: b.header() })).status).toBe(403);
    await new Promise((r) => setTimeout(r, 1100));
    const refreshed = await requestJson<{ expiresAt: string }>(base, 'POST', '/auth/refresh', undefined, { cookie: b.header(), 'x-csrf-token': first.csrfToken });
    expect(refreshed.status).toBe(200);
    expect(Date.parse(refreshed.body.expiresAt)).toBeGreaterThan(Date.parse(first.expiresAt));

    const copyBeforeLogout = b.header();
    const out = await fetch(`${base}/auth/logout`, { method: 'POST', headers: { cookie: copyBeforeLogout, 'x-csrf-token': first.csrfToken } }).then(async (r) => ({
      status: r.status,
      cleared: r.headers.getSetCookie().some((c) => /^ems_session=;/.test(c) && /Max-Age=0/i.test(c)),
      body: (await r.json()) as { logoutUrl: string },
    }));
    expect(out.status).toBe(200);
    expect(out.body.logoutUrl).toContain('/oidc/session/end');
    // The browser drops the cookie (Max-Age=0); a copy kept from before no longer works either.
    expect(out.cleared).toBe(true);
    expect((await requestJson(base, 'GET', '/api/me', undefined, { cookie: copyBeforeLogout })).status).toBe(401);

    // Idle (EMS_SESSION_IDLE=4s here): the session ends by itself.
    const idle = await browserSignIn(base, EMP.id);
    expect((await requestJson(base, 'GET', '/api/me', undefined, { cookie: idle.cookie })).status).toBe(200);
    await waitFor(async () => ((await requestJson(base, 'GET', '/api/me', undefined, { cookie: idle.cookie })).status === 401 ? true : undefined), 'the idle session to end', 15_000, 500);

  });

  it('when the signing key is rotated, then tokens signed before stay valid, new ones are signed with the new key, and both verify', async () => {
    const before = (await signIn(base, EMP.id)).accessToken;
    const kidBefore = decodeProtectedHeader(before).kid;
    const rotated = await http<{ kid: string; retired: string[] }>(base, 'POST', '/api/signing-keys', undefined, { authorization: `Bearer ${await tokenFor(base, OPERATOR)}` });
    expect(rotated.status).toBe(200);
    expect(rotated.body.retired).toContain(kidBefore);
    const after = (await signIn(base, EMP.id)).accessToken;
    expect(decodeProtectedHeader(after).kid).toBe(rotated.body.kid);
    for (const token of [before, after]) expect((await requestJson(base, 'GET', '/api/me', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    const jwks = await requestJson<{ keys: Array<{ kid: string; d?: string }> }>(base, 'GET', '/oidc/jwks');
    expect(jwks.body.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([kidBefore, rotated.body.kid]));
    // Only public halves are published.
    for (const k of jwks.body.keys) expect(k.d).toBeUndefined();
  });

  describe('tokens a verifier must refuse (each answers 401 with WWW-Authenticate, and a refused submission stores nothing)', () => {
    const now = () => Math.floor(Date.now() / 1000);
    async function providerKey(): Promise<{ kid: string; jwk: JWK }> {
      const row = (await env.ems.pool.query<{ kid: string; private_jwk: string }>(`SELECT kid, private_jwk FROM identity.signing_keys WHERE retired_at IS NULL`)).rows[0]!;
      return { kid: row.kid, jwk: JSON.parse(secrets.decrypt(row.private_jwk, `identity.signing_keys:${row.kid}`)) as JWK };
    }
    const claims = (over: Record<string, unknown> = {}) => ({ client_id: 'ems-cli', sub: 'hr-lead', ...over });
    async function signed(over: Record<string, unknown> = {}, options: { iss?: string; aud?: string; exp?: number; nbf?: number } = {}): Promise<string> {
      const { kid, jwk } = await providerKey();
      const jwt = new SignJWT(claims(over))
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .setIssuer(options.iss ?? issuer)
        .setAudience(options.aud ?? 'urn:ems:api')
        .setIssuedAt(now() - 60)
        .setExpirationTime(options.exp ?? now() + 300);
      if (options.nbf) jwt.setNotBefore(options.nbf);
      return jwt.sign(await importJWK(jwk, 'ES256'));
    }

    const cases: Array<[string, () => Promise<string>, RegExp]> = [
      ['a genuine token (control)', () => signed(), /^$/],
      ['an expired one', () => signed({}, { exp: now() - 120 }), /expired/],
      ['one not valid yet (nbf beyond the clock skew)', () => signed({}, { nbf: now() + 600 }), /not valid yet/],
      ['one from another issuer (right key)', () => signed({}, { iss: 'https://evil.example/oidc' }), /issued by/],
      ['one for another audience', () => signed({}, { aud: 'urn:other:api' }), /audience/],
      ['alg none', async () => new UnsecuredJWT(claims()).setIssuer(issuer).setAudience('urn:ems:api').setIssuedAt().setExpirationTime('5m').encode(), /./],
      [
        'HS256 signed with the public key as the secret',
        async () => {
          const { kid, jwk } = await providerKey();
          const { d: _d, ...publicJwk } = jwk;
          const secret = Buffer.from(JSON.stringify(publicJwk));
          const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid, typ: 'at+jwt' })).toString('base64url');
          const payload = Buffer.from(JSON.stringify({ ...claims(), iss: issuer, aud: 'urn:ems:api', iat: now(), exp: now() + 300 })).toString('base64url');
          return `${header}.${payload}.${createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')}`;
        },
        /algorithm/,
      ],
      [
        'a tampered payload (another person, same signature)',
        async () => {
          const [h, p, s] = (await signed()).split('.');
          const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
          return `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'E1004' })).toString('base64url')}.${s}`;
        },
        /signature/,
      ],
      [
        'one signed by a key the provider does not publish',
        async () => {
          const { privateKey } = await generateKeyPair('ES256', { extractable: true });
          const jwk = await exportJWK(privateKey);
          return new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: 'attacker', typ: 'at+jwt' }).setIssuer(issuer).setAudience('urn:ems:api').setIssuedAt().setExpirationTime('5m').sign(await importJWK(jwk, 'ES256'));
        },
        /key/,
      ],
    ];

    it.each(cases)('%s', async (_what, make, reason) => {
      const token = await make();
      const count = async () => Number((await env.ems.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ems.resignations`)).rows[0]!.n);
      const before = await count();
      const employee = org.employees.filter((e) => e.managerId).at(-1 - cases.findIndex((c) => c[1] === make))!;
      const res = await requestJson<{ detail: string }>(base, 'POST', '/api/resignations', { employeeId: employee.id }, { authorization: `Bearer ${token}` });
      if (reason.source === '^$') {
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        return;
      }
      expect(res.status, JSON.stringify(res.body)).toBe(401);
      expect(res.body.detail).toMatch(reason);
      expect(await count()).toBe(before);
      const raw = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(raw.headers.get('www-authenticate')).toMatch(/^Bearer realm="ems", error="invalid_token"/);
    });
  });

  it('when an operator creates an API token, then it is shown once, acts as its person with their directory roles, is never listed with its secret, and stops working at once when revoked', async () => {
    const operator = { authorization: `Bearer ${await tokenFor(base, OPERATOR)}` };
    const created = await requestJson<{ id: string; token: string | null }>(base, 'POST', '/api/api-tokens', { name: 'HR import', personId: 'hr-lead' }, { ...operator, 'idempotency-key': 'hr-import-1' });
    expect(created.status).toBe(201);
    const secret = created.body.token!;
    expect(secret).toMatch(/^ems_pat_[A-Za-z0-9_-]{43}$/);
    // A repeat with the same key answers the token, never its secret again.
    const again = await requestJson<{ id: string; token: string | null }>(base, 'POST', '/api/api-tokens', { name: 'HR import', personId: 'hr-lead' }, { ...operator, 'idempotency-key': 'hr-import-1' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: created.body.id, token: null });
    // Stored as a hash only.
    const stored = (await env.ems.pool.query<{ hash: string }>(`SELECT hash FROM identity.api_tokens WHERE id = $1`, [created.body.id])).rows[0]!;
    expect(stored.hash).not.toContain(secret);
    expect(JSON.stringify((await requestJson(base, 'GET', '/api/api-tokens', undefined, operator)).body)).not.toContain(secret);
    const me = await requestJson<{ id: string; roles: string[]; via: string }>(base, 'GET', '/api/me', undefined, { authorization: `Bearer ${secret}` });
    expect(me.body).toMatchObject({ id: 'hr-lead', roles: ['hr_lead'], via: 'api-token' });
    // Someone who is not an operator cannot make one.
    expect((await requestJson(base, 'POST', '/api/api-tokens', { name: 'x', personId: 'hr-lead' }, { authorization: `Bearer ${secret}` })).status).toBe(403);
    expect((await requestJson(base, 'DELETE', `/api/api-tokens/${created.body.id}`, undefined, operator)).status).toBe(200);
    const refused = await requestJson(base, 'GET', '/api/me', undefined, { authorization: `Bearer ${secret}` });
    expect(refused.status).toBe(401);
  });

  it('when nobody signs in, then only health, the public docs and the sign-in flow answer', async () => {
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/asyncapi.json', '/docs', '/auth/config', '/oidc/.well-known/openapi-configuration'.replace('openapi', 'openid')]) {
      const res = await fetch(`${base}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBeLessThan(400);
    }
    const doc = (await requestJson<{ paths: Record<string, Record<string, { operationId?: string }>> }>(base, 'GET', '/openapi.json')).body;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!op.operationId) continue;
        const concrete = path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
        const res = await requestJson(base, method.toUpperCase(), concrete, method === 'get' || method === 'delete' ? undefined : {});
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
  });
});
