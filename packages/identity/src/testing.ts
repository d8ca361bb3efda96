/**
 * Test helpers: real tokens from the built-in provider over HTTP — never minted by hand. A person signs in
 * with the CLI's client (authorization code + PKCE, a loopback redirect) by picking themselves on the
 * sign-in page; a service gets its token with client credentials. Also a standalone identity service for
 * tests of one service alone.
 */
import { createHash, randomBytes } from 'node:crypto';
import { POLICY, type PolicyTable, type ServiceIdentity } from '@ems/contracts/policy';
import type { DemoOrg } from '@ems/demo-org';
import { createHttpServer, createKysely, freePort, migrate, type CallAuth, type Logger, type Pool } from '@ems/platform';
import { IDENTITY_SCHEMA, createIdentityService } from './identity.service.ts';
import { createSecurity, type Security } from './authenticate/security.ts';
import { clientSecretFor } from './dev-provider/provider.ts';
import { createSecrets, type Secrets } from './secrets.ts';
import { oidcTrust, type IdentitySettings } from './settings.ts';
import { createServiceTokens } from './service-tokens/service-tokens.ts';

export interface TokenSet {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string | undefined;
}

/** A tiny cookie jar for the sign-in redirects. */
function jar() {
  const cookies = new Map<string, string>();
  return {
    keep(res: Response) {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        const name = pair!.slice(0, eq);
        const value = pair!.slice(eq + 1);
        if (/max-age=0/i.test(c) || value === '') cookies.delete(name);
        else cookies.set(name, value);
      }
    },
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
  };
}

/**
 * A browser walking a sign-in: from `start`, it follows the redirects (staying on `baseUrl`'s origin: the
 * provider's public origin may differ from the address a test reaches it at), picks `personId` on the sign-in
 * page, and stops when `done` recognises the redirect it waits for.
 */
async function walkSignIn<T>(baseUrl: string, start: string, personId: string, done: (from: URL, res: Response, location: URL) => T | undefined): Promise<T> {
  const cookies = jar();
  let url = new URL(start, baseUrl);
  let form: string | undefined;
  for (let hop = 0; hop < 15; hop++) {
    const res = await fetch(url, {
      redirect: 'manual',
      method: form ? 'POST' : 'GET',
      headers: { cookie: cookies.header(), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ?? null,
    });
    cookies.keep(res);
    form = undefined;
    if (res.status === 200 && url.pathname.startsWith('/signin/')) {
      // The sign-in page: pick the person.
      await res.text();
      form = new URLSearchParams({ person: personId }).toString();
      continue;
    }
    const location = res.headers.get('location');
    if ((res.status !== 302 && res.status !== 303) || !location) throw new Error(`sign-in as ${personId}: ${url.pathname} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const next = new URL(location, baseUrl);
    const result = done(url, res, next);
    if (result !== undefined) return result;
    url = new URL(`${next.pathname}${next.search}`, baseUrl);
  }
  throw new Error(`sign-in as ${personId}: it did not finish within the redirects`);
}

/**
 * Signs `personId` in at the built-in provider reached at `baseUrl` (the EMS that hosts it), as the CLI
 * client would with a browser: authorization code + PKCE. Returns the provider's tokens.
 */
export async function signIn(baseUrl: string, personId: string, options: { clientId?: string; resource?: string } = {}): Promise<TokenSet> {
  const clientId = options.clientId ?? 'ems-cli';
  const redirectUri = 'http://127.0.0.1:9/callback';
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
    resource: options.resource ?? 'urn:ems:api',
  });
  const code = await walkSignIn(baseUrl, `/oidc/auth?${params.toString()}`, personId, (_from, _res, next) => {
    if (!next.href.startsWith(redirectUri)) return undefined;
    const got = next.searchParams.get('code');
    if (!got) throw new Error(`sign-in as ${personId} refused: ${next.searchParams.get('error_description') ?? next.searchParams.get('error')}`);
    return got;
  });
  const res = await fetch(`${baseUrl}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: redirectUri, resource: options.resource ?? 'urn:ems:api' }).toString(),
  });
  const body = (await res.json()) as { access_token?: string; refresh_token?: string; id_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`token for ${personId}: ${res.status} ${body.error_description ?? ''}`);
  return { accessToken: body.access_token, refreshToken: body.refresh_token, idToken: body.id_token };
}

/** The hidden fields and action of the first form of a page (the provider's own pages post forms). */
function firstForm(html: string, id?: string): { action: string; fields: Record<string, string> } | undefined {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const form = id ? forms.find((f) => f[1]!.includes(`id="${id}"`)) : forms[0];
  if (!form) return undefined;
  const action = /action="([^"]*)"/.exec(form[1]!)?.[1] ?? '';
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input\b([^>]*)>/g)) {
    const name = /name="([^"]*)"/.exec(input[1]!)?.[1];
    const value = /value="([^"]*)"/.exec(input[1]!)?.[1] ?? '';
    if (name && /type="hidden"/.test(input[1]!)) fields[name] = value.replace(/&amp;/g, '&');
  }
  return { action, fields };
}

/**
 * Does in a "browser" what a person does for the device grant (RFC 8628): opens the verification URL the
 * CLI printed, confirms the code, signs in as `personId` on the sign-in page. The CLI's poll then gets its tokens.
 */
export async function confirmDeviceCode(baseUrl: string, verificationUrl: string, personId: string): Promise<void> {
  const cookies = jar();
  const local = (u: string) => {
    const x = new URL(u, baseUrl);
    return new URL(`${x.pathname}${x.search}`, baseUrl);
  };
  let url = local(verificationUrl);
  let form: string | undefined;
  for (let hop = 0; hop < 16; hop++) {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: cookies.header(), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ?? null,
    });
    cookies.keep(res);
    form = undefined;
    if (res.status === 302 || res.status === 303) {
      url = local(res.headers.get('location')!);
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`device sign-in: ${url.pathname} answered ${res.status}: ${html.slice(0, 300)}`);
    if (/Your device is signed in/.test(html)) return;
    if (url.pathname.startsWith('/signin/')) {
      form = new URLSearchParams({ person: personId }).toString();
      continue;
    }
    const next = firstForm(html, 'op.deviceConfirmForm') ?? firstForm(html);
    if (!next) throw new Error(`device sign-in: no form on ${url.pathname}: ${html.slice(0, 300)}`);
    url = local(next.action || url.href);
    form = new URLSearchParams(next.fields).toString();
  }
  throw new Error('device sign-in: too many steps');
}

/**
 * A browser's sign-in into a session, as the web app starts it: /auth/login → the provider's sign-in page →
 * pick `personId` → /auth/callback. Returns the Cookie header of the session (`ems_session=…`).
 */
export async function browserSession(baseUrl: string, personId: string, returnTo = '/'): Promise<string> {
  return (await browserSignIn(baseUrl, personId, returnTo)).cookie;
}

/** The same, with what the browser saw at the end: where /auth/callback sent it, and the session's Set-Cookie. */
export async function browserSignIn(baseUrl: string, personId: string, returnTo = '/'): Promise<{ cookie: string; setCookie: string; landed: string }> {
  return walkSignIn(baseUrl, `/auth/login?returnTo=${encodeURIComponent(returnTo)}`, personId, (from, res, next) => {
    if (from.pathname !== '/auth/callback') return undefined;
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('ems_session='));
    if (!setCookie) throw new Error(`browser sign-in as ${personId}: no session cookie`);
    return { cookie: setCookie.split(';')[0]!, setCookie, landed: res.headers.get('location') ?? next.pathname };
  });
}

/** A service's access token for `target`, by client credentials at the built-in provider. */
export async function serviceToken(baseUrl: string, secrets: Secrets, service: ServiceIdentity, target: ServiceIdentity): Promise<string> {
  const clientId = `ems-service-${service}`;
  const res = await fetch(`${baseUrl}/oidc/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecretFor(secrets, clientId))}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: `urn:ems:service:${target}`, scope: 'api' }).toString(),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`service token ${service} → ${target}: ${res.status} ${body.error_description ?? ''}`);
  return body.access_token;
}

/** Caches one token per person for the life of a test file (they live ten minutes). */
export function tokenCache(baseUrl: () => string) {
  const tokens = new Map<string, Promise<string>>();
  return async (personId: string): Promise<string> => {
    let t = tokens.get(personId);
    if (!t) {
      t = signIn(baseUrl(), personId).then((s) => s.accessToken);
      tokens.set(personId, t);
      t.catch(() => tokens.delete(personId));
    }
    return t;
  };
}

/** A fixed secrets key for tests (never for a real installation). */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestIdentity {
  url: string;
  secrets: Secrets;
  settings: IdentitySettings;
  /** The trust boundary for a service under test hosted in its own server. */
  securityFor(hosted: readonly ServiceIdentity[], policy?: PolicyTable): Security;
  /** A person's access token (signed in once per test file). */
  token(personId: string): Promise<string>;
  /** `{ authorization }` for a person. */
  as(personId: string): Promise<Record<string, string>>;
  /** A service's credentials for its calls, as the composition root gives them. */
  callAuth(service: ServiceIdentity): CallAuth;
  stop(): Promise<void>;
}

/**
 * The identity service alone, on its own port, over `pool`'s database (its schema migrated, the
 * organisation's people seeded): the provider services under test trust.
 */
export async function startTestIdentity(pool: Pool, org: DemoOrg, log: Logger): Promise<TestIdentity> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const secrets = createSecrets(Buffer.from(TEST_SECRETS_KEY, 'base64'));
  const settings: IdentitySettings = {
    publicUrl: url,
    externalIssuer: undefined,
    identityUrl: url,
    apiAudience: 'urn:ems:api',
    serviceAudiencePrefix: 'urn:ems:service:',
    serviceClientPrefix: 'ems-service-',
    webClientId: 'ems-web',
    webClientSecret: undefined,
    cliClientId: 'ems-cli',
    personClaim: 'sub',
    rolesClaim: 'groups',
    roleMap: {},
    clockToleranceS: 30,
    accessTokenTtlS: 600,
    sessionIdleMs: 3_600_000,
    sessionAbsoluteMs: 12 * 3_600_000,
    serviceClientSecrets: {},
  };
  const securityFor = (hosted: readonly ServiceIdentity[], policy: PolicyTable = POLICY) =>
    createSecurity({ db: createKysely(pool, IDENTITY_SCHEMA), log, clock: { now: () => new Date() }, policy, oidc: oidcTrust(settings, hosted), publicOrigin: url });
  const security = securityFor(['identity']);
  const service = createIdentityService({ pool, log, secrets, security, settings, policy: POLICY });
  await migrate(pool, service.schema, service.migrations);
  await service.seed!(org);
  const app = await createHttpServer({ title: 'identity test', version: '0', logger: log, plugins: [service.routes], readiness: {}, docs: false, security });
  await app.listen({ port, host: '127.0.0.1' });
  await service.start!();
  const token = tokenCache(() => url);
  const sources = new Map<ServiceIdentity, CallAuth>();
  return {
    url,
    secrets,
    settings,
    securityFor,
    token,
    as: async (personId) => ({ authorization: `Bearer ${await token(personId)}` }),
    callAuth(svc) {
      let auth = sources.get(svc);
      if (!auth) {
        const source = createServiceTokens({
          issuer: `${url}/oidc`,
          discoveryUrl: `${url}/oidc/.well-known/openid-configuration`,
          clientId: `ems-service-${svc}`,
          clientSecret: clientSecretFor(secrets, `ems-service-${svc}`),
          audience: (target) => `urn:ems:service:${target}`,
          insecureAllowed: true,
        });
        auth = (target) => source.headers(target);
        sources.set(svc, auth);
      }
      return auth;
    },
    async stop() {
      await app.close();
      await service.stop?.();
    },
  };
}
