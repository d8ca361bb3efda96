import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { JWTPayload } from 'jose';
import { HttpProblem, type Actor, type Clock, type HttpSecurity, type Logger, type Permit, type Principal, type View } from '@ems/platform';
import { ADMIN_ROLES, describePolicy, SERVICE_IDENTITIES, type AdminRole, type OperationPolicy, type PolicyTable, type RoleGrant, type ServiceIdentity } from '@ems/contracts/policy';
import type { IdentityDb } from '../db/identity.db.ts';
import { findPerson, isDeactivated, type DirectoryPerson } from '../directory/directory.ts';
import { constantTimeEqual, tokenHash } from '../secrets.ts';
import { createTokenVerifier, InvalidToken, VerifierUnavailable, type TokenVerifier } from './token-verifier.ts';
import { csrfTokenFor, SESSION_COOKIE } from './session-cookie.ts';

export const API_TOKEN_PREFIX = 'ems_pat_';
/** A SCIM client's token (provisioning-tokens/): the `provisioning` service identity. */
export const PROVISIONING_TOKEN_PREFIX = 'ems_scim_';

export interface SecurityOptions {
  db: IdentityDb;
  log: Logger;
  clock: Clock;
  /** The policy table: the core one and the extensions' rows. */
  policy: PolicyTable;
  oidc: OidcTrust;
  /** The public origin of the API (browser requests with another Origin are refused). */
  publicOrigin: string;
  /**
   * How long a person, API token or session looked up stays cached in this process (default 10 s): the longest a
   * change of the directory (a role taken, a person deactivated) takes to reach this process's decisions.
   */
  cacheMs?: number;
}

/** What this process trusts: the provider, the audiences, how claims map to people and roles. */
export interface OidcTrust {
  issuer: string;
  discoveryUrl: string;
  /** Audience of user tokens for the API. */
  apiAudience: string;
  /** Audience of service tokens for a service. */
  serviceAudience(service: ServiceIdentity): string;
  /** The client id of a service's credentials. */
  serviceClientId(service: ServiceIdentity): string;
  /** Services hosted by this process: service tokens for other services' audiences are refused outright. */
  hostedServices: readonly ServiceIdentity[];
  /** The claim naming the person: its value is matched against a directory id or email. */
  personClaim: string;
  /** The claim holding groups or roles (external providers), and which group grants which administrative role. */
  rolesClaim: string;
  roleMap: Readonly<Record<string, AdminRole>>;
  clockToleranceS: number;
}

interface Identity {
  principal: Principal;
  person: DirectoryPerson | undefined;
  /** Token audiences (bearer tokens only). */
  audiences: readonly string[];
}

const UNAUTHENTICATED = 'https://ems.dev/problems/unauthenticated';
const FORBIDDEN = 'https://ems.dev/problems/forbidden';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface Security extends HttpSecurity {
  /** Forget what is cached about a session or API token, by its stored hash (after logout or revocation, in this process). */
  evict(kind: 'session' | 'api-token' | 'provisioning-token', hash: string): void;
  /** Resolves the person a verified identity names (the sign-in callback uses it for ID token claims). */
  personFromClaims(claims: JWTPayload): Promise<DirectoryPerson | undefined>;
  /** A directory person by id or email (cached like every lookup here). */
  person(key: string): Promise<DirectoryPerson | undefined>;
  /** Like person() and personFromClaims(), telling a deactivated person apart from someone the directory does not know. */
  lookup(key: string): Promise<DirectoryPerson | 'deactivated' | undefined>;
  lookupClaims(claims: JWTPayload): Promise<DirectoryPerson | 'deactivated' | undefined>;
  /** The roles a directory person holds (plus any granted by claims). */
  rolesOf(person: DirectoryPerson, claims?: JWTPayload): string[];
  verifier: TokenVerifier;
}

/**
 * The trust boundary of one process: verifies who calls (a provider's JWT, an API token, or a browser
 * session with its CSRF token), turns it into a principal from the directory, and admits the request
 * to an operation only as the policy table says.
 */
export function createSecurity(o: SecurityOptions): Security {
  const cacheMs = o.cacheMs ?? 10_000;
  const trust = o.oidc;
  const audiences = [trust.apiAudience, ...trust.hostedServices.map((s) => trust.serviceAudience(s))];
  const verifier = createTokenVerifier({ issuer: trust.issuer, discoveryUrl: trust.discoveryUrl, audiences, clockToleranceS: trust.clockToleranceS, now: () => o.clock.now() });
  const serviceByClient = new Map(SERVICE_IDENTITIES.map((s) => [trust.serviceClientId(s), s] as const));
  const cache = new Map<string, { at: number; value: unknown }>();
  const cached = async <T>(key: string, load: () => Promise<T>): Promise<T> => {
    const hit = cache.get(key);
    const now = Date.now();
    if (hit && now - hit.at < cacheMs) return hit.value as T;
    const value = await load();
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { at: now, value });
    return value;
  };
  /**
   * Who a key (directory id or email) names: an active person, someone the directory has deactivated, or nobody
   * it knows. A deactivated person is refused outright (401), whatever credential they bring — never admitted as
   * an unknown caller, who could still reach what any signed-in caller may. Cached like the rest: a deactivation
   * takes effect here within cacheMs.
   */
  const lookup = (key: string) =>
    cached<DirectoryPerson | 'deactivated' | undefined>(`person:${key}`, async () => (await findPerson(o.db, key)) ?? ((await isDeactivated(o.db, key)) ? 'deactivated' : undefined));
  const person = async (key: string) => {
    const found = await lookup(key);
    return found === 'deactivated' ? undefined : found;
  };

  const rolesOf = (p: DirectoryPerson, claims?: JWTPayload): string[] => {
    const roles = new Set<string>(p.adminRoles);
    if (p.kind === 'employee') roles.add('employee');
    if (p.reports.length) roles.add('manager');
    if (p.kind === 'hr_partner' || p.assigned.length) roles.add('hr_partner');
    for (const r of claimedRoles(claims)) roles.add(r);
    return [...roles].sort();
  };
  const claimedRoles = (claims: JWTPayload | undefined): AdminRole[] => {
    const raw = claims?.[trust.rolesClaim];
    const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : typeof raw === 'string' ? [raw] : [];
    return groups.map((g) => trust.roleMap[g]).filter((r): r is AdminRole => r !== undefined && (ADMIN_ROLES as readonly string[]).includes(r));
  };
  const lookupClaims = (claims: JWTPayload): Promise<DirectoryPerson | 'deactivated' | undefined> => {
    const key = claims[trust.personClaim];
    return typeof key === 'string' && key.length > 0 && key.length <= 320 ? lookup(key) : Promise.resolve(undefined);
  };
  const personFromClaims = async (claims: JWTPayload): Promise<DirectoryPerson | undefined> => {
    const found = await lookupClaims(claims);
    return found === 'deactivated' ? undefined : found;
  };

  const unauthenticated = (reply: FastifyReply, detail: string, error?: 'invalid_token'): HttpProblem => {
    void reply.header('www-authenticate', error ? `Bearer realm="ems", error="${error}", error_description="${detail.replace(/"/g, "'")}"` : 'Bearer realm="ems"');
    return new HttpProblem(401, detail, { type: UNAUTHENTICATED, title: 'Unauthorized' });
  };
  /** Nothing but the fact: not who, not since when, not by whom. */
  const deactivated = (reply: FastifyReply, bearerToken: boolean) => unauthenticated(reply, 'this account is deactivated', bearerToken ? 'invalid_token' : undefined);

  async function identify(req: FastifyRequest, reply: FastifyReply): Promise<Identity> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
      if (!m) throw unauthenticated(reply, 'the Authorization header must be "Bearer <token>"', 'invalid_token');
      const token = m[1]!;
      if (token.startsWith(API_TOKEN_PREFIX)) return apiToken(token, reply);
      if (token.startsWith(PROVISIONING_TOKEN_PREFIX)) return provisioningToken(token, reply);
      return bearer(token, reply);
    }
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (cookie) return session(cookie, req, reply);
    throw unauthenticated(reply, 'sign in first: send "Authorization: Bearer <token>" (an access token of the identity provider, or an API token), or a session cookie');
  }

  async function bearer(token: string, reply: FastifyReply): Promise<Identity> {
    let claims: JWTPayload;
    try {
      claims = await verifier.verify(token);
    } catch (err) {
      if (err instanceof VerifierUnavailable) {
        o.log.warn({ err: err.message }, 'token verification unavailable');
        throw new HttpProblem(503, 'The identity provider cannot be reached to check the token; try again shortly');
      }
      if (err instanceof InvalidToken) throw unauthenticated(reply, err.message, 'invalid_token');
      throw err;
    }
    const aud = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
    const clientId = typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : 'unknown';
    const service = serviceByClient.get(clientId);
    if (service) {
      return { principal: { kind: 'service', id: service, name: null, roles: [], client: clientId, via: 'token' }, person: undefined, audiences: aud };
    }
    if (!aud.includes(trust.apiAudience)) throw unauthenticated(reply, 'the token is not issued for this API (audience)', 'invalid_token');
    const found = await lookupClaims(claims);
    if (found === 'deactivated') throw deactivated(reply, true);
    const p = found;
    const key = claims[trust.personClaim];
    return {
      principal: p
        ? { kind: 'person', id: p.id, name: p.name, roles: rolesOf(p, claims), client: clientId, via: 'token' }
        : { kind: 'person', id: typeof key === 'string' ? key.slice(0, 200) : String(claims.sub), name: null, roles: claimedRoles(claims), client: clientId, via: 'token' },
      person: p,
      audiences: aud,
    };
  }

  async function apiToken(token: string, reply: FastifyReply): Promise<Identity> {
    const hash = tokenHash(token);
    const found = await cached(`api-token:${hash}`, async () =>
      o.db.selectFrom('api_tokens').select(['id', 'person_id', 'expires_at', 'revoked_at', 'last_used_at']).where('hash', '=', hash).executeTakeFirst(),
    );
    const now = o.clock.now();
    if (!found || found.revoked_at || (found.expires_at && new Date(found.expires_at) <= now)) throw unauthenticated(reply, 'the API token is unknown, expired or revoked', 'invalid_token');
    const p = await lookup(found.person_id);
    if (p === 'deactivated') throw deactivated(reply, true);
    if (!p) throw unauthenticated(reply, "the API token's person is no longer in the directory", 'invalid_token');
    if (!found.last_used_at || now.getTime() - new Date(found.last_used_at).getTime() > 60_000) {
      found.last_used_at = now;
      o.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', found.id).execute().catch((err: unknown) => o.log.warn({ err }, 'could not record an API token use'));
    }
    return { principal: { kind: 'person', id: p.id, name: p.name, roles: rolesOf(p), client: `api-token:${found.id}`, via: 'api-token' }, person: p, audiences: [] };
  }

  /**
   * A provisioning token: the `provisioning` service identity, for the identity service's audience only (only
   * the process hosting identity reads the tokens' table; elsewhere such a token is not for this API).
   */
  async function provisioningToken(token: string, reply: FastifyReply): Promise<Identity> {
    if (!trust.hostedServices.includes('identity')) throw unauthenticated(reply, 'a provisioning token is accepted by the identity service only (/scim)', 'invalid_token');
    const hash = tokenHash(token);
    const found = await cached(`provisioning-token:${hash}`, async () =>
      o.db.selectFrom('provisioning_tokens').select(['id', 'expires_at', 'revoked_at', 'last_used_at']).where('hash', '=', hash).executeTakeFirst(),
    );
    const now = o.clock.now();
    if (!found || found.revoked_at || new Date(found.expires_at) <= now) throw unauthenticated(reply, 'the provisioning token is unknown, expired or revoked', 'invalid_token');
    if (!found.last_used_at || now.getTime() - new Date(found.last_used_at).getTime() > 60_000) {
      found.last_used_at = now;
      o.db.updateTable('provisioning_tokens').set({ last_used_at: now }).where('id', '=', found.id).execute().catch((err: unknown) => o.log.warn({ err }, 'could not record a provisioning token use'));
    }
    return {
      principal: { kind: 'service', id: 'provisioning', name: null, roles: [], client: `provisioning-token:${found.id}`, via: 'api-token' },
      person: undefined,
      audiences: [trust.serviceAudience('identity')],
    };
  }

  async function session(token: string, req: FastifyRequest, reply: FastifyReply): Promise<Identity> {
    const hash = tokenHash(token);
    const found = await cached(`session:${hash}`, async () =>
      o.db.selectFrom('sessions').select(['id', 'person_id', 'client', 'expires_at', 'revoked_at']).where('hash', '=', hash).executeTakeFirst(),
    );
    if (!found || found.revoked_at || new Date(found.expires_at) <= o.clock.now()) throw unauthenticated(reply, 'the session has ended: sign in again');
    // Before the CSRF check: a deactivated person is told so whatever the request.
    const p = await lookup(found.person_id);
    if (p === 'deactivated') throw deactivated(reply, false);
    if (!SAFE_METHODS.has(req.method)) {
      // A change made with a cookie must prove it comes from EMS's own pages: the CSRF token (derived from the
      // session, readable only through the session's own API) and, when the browser says, the same origin.
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== o.publicOrigin) throw new HttpProblem(403, `cross-origin request from ${origin.slice(0, 100)} refused`, { type: FORBIDDEN, title: 'Forbidden' });
      const csrf = req.headers['x-csrf-token'];
      if (typeof csrf !== 'string' || !constantTimeEqual(csrf, csrfTokenFor(token))) {
        throw new HttpProblem(403, 'a change made with a session cookie needs its X-CSRF-Token header (GET /auth/session gives it)', { type: FORBIDDEN, title: 'Forbidden', extra: { permission: 'csrf' } });
      }
    }
    if (!p) throw unauthenticated(reply, "the session's person is no longer in the directory");
    return { principal: { kind: 'person', id: p.id, name: p.name, roles: rolesOf(p), client: found.client, via: 'session' }, person: p, audiences: [] };
  }

  function permitFor(operation: string, policy: OperationPolicy, who: Identity, reply: FastifyReply): Permit {
    const { principal } = who;
    if (principal.kind === 'service') {
      const service = principal.id as ServiceIdentity;
      if (!policy.services?.includes(service) && !policy.anyAuthenticated) {
        throw forbidden(operation, policy, `the ${service} service's identity may not call it`);
      }
      if (!who.audiences.includes(trust.serviceAudience(policy.service))) {
        throw unauthenticated(reply, `the token is issued for another service, not ${policy.service}`, 'invalid_token');
      }
      const actor: Actor = { id: service, kind: 'service', name: null, role: 'service', client: principal.client };
      return { operation, principal, viewOf: () => 'full', employeeIds: undefined, actor: () => actor };
    }
    const grants = policy.roles.filter((g) => principal.roles.includes(g.role));
    if (!grants.length && !policy.anyAuthenticated) {
      throw forbidden(operation, policy, principal.roles.length ? `your roles (${principal.roles.join(', ')}) do not grant it` : 'you hold no role in the directory');
    }
    return personPermit(operation, principal, who.person, grants);
  }

  const forbidden = (operation: string, policy: OperationPolicy, why: string) =>
    new HttpProblem(403, `Missing permission ${operation}: ${why}. Granted to: ${describePolicy(policy)}.`, { type: FORBIDDEN, title: 'Forbidden', extra: { permission: operation } });

  return {
    verifier,
    evict(kind, hash) {
      cache.delete(`${kind}:${hash}`);
    },
    personFromClaims,
    person,
    lookup,
    lookupClaims,
    rolesOf,
    checkRoute(route: RouteOptions) {
      const operation = (route.schema as { operationId?: unknown } | undefined)?.operationId;
      if (typeof operation !== 'string') throw new Error(`${String(route.method)} ${route.url}: a route must be public or name its operation (schema.operationId) with a row in the policy table`);
      if (!o.policy[operation]) throw new Error(`${String(route.method)} ${route.url}: operation ${operation} has no row in the policy table`);
    },
    async admit(req, reply, operation) {
      const policy = o.policy[operation];
      if (!policy) throw new HttpProblem(500, `no policy for ${operation}`);
      const who = await identify(req, reply);
      return permitFor(operation, policy, who, reply);
    },
    openapi: {
      securitySchemes: {
        oidc: { type: 'openIdConnect', openIdConnectUrl: `${trust.issuer}/.well-known/openid-configuration`, description: "An access token of the organisation's OpenID provider (authorization code + PKCE, or the device grant for the CLI)." },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or API token', description: `An access token (JWT, audience ${trust.apiAudience}; services: their own audience) an API token (${API_TOKEN_PREFIX}…), or, for /scim, a provisioning token (${PROVISIONING_TOKEN_PREFIX}…).` },
        session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'A browser session (sign in at /auth/login); changes also need the X-CSRF-Token header.' },
      },
      operation(operationId) {
        const policy = o.policy[operationId];
        if (!policy) return undefined;
        const who = describePolicy(policy);
        const summary = policy.summary ? ` A summary view leaves out ${policy.summary}.` : '';
        return {
          security: [{ oidc: [] }, { bearer: [] }, { session: [] }] as Array<Record<string, string[]>>,
          description: `**Who may call it:** ${who}.${summary}`,
          extensions: {
            'x-ems-permission': operationId,
            'x-ems-roles': policy.roles.map((g) => ({ role: g.role, rows: g.rows, view: g.view ?? 'full' })),
            'x-ems-services': policy.services ?? [],
          },
        };
      },
    },
  };
}

/** The permit of a person: the rows each of their grants reaches, and the best view of a row. */
export function personPermit(operation: string, principal: Principal, person: DirectoryPerson | undefined, grants: readonly RoleGrant[]): Permit {
  const reports = new Set(person?.reports ?? []);
  const assigned = new Set(person?.assigned ?? []);
  const reaches = (g: RoleGrant, employeeId: string): boolean =>
    g.rows === 'all' || (g.rows === 'own' && employeeId === principal.id) || (g.rows === 'reports' && reports.has(employeeId)) || (g.rows === 'assigned' && assigned.has(employeeId));
  const grantFor = (employeeId: string): RoleGrant | undefined => {
    let best: RoleGrant | undefined;
    for (const g of grants) {
      if (!reaches(g, employeeId)) continue;
      if ((g.view ?? 'full') === 'full') return g;
      best ??= g;
    }
    return best;
  };
  const everyRow = grants.some((g) => g.rows === 'all');
  const ids = new Set<string>();
  if (!everyRow) {
    for (const g of grants) {
      if (g.rows === 'own') ids.add(principal.id);
      if (g.rows === 'reports') for (const id of reports) ids.add(id);
      if (g.rows === 'assigned') for (const id of assigned) ids.add(id);
    }
  }
  return {
    operation,
    principal,
    viewOf(employeeId): View | undefined {
      const g = grantFor(employeeId);
      return g ? (g.view ?? 'full') : undefined;
    },
    employeeIds: everyRow ? undefined : [...ids],
    actor(employeeId) {
      const role = (employeeId === undefined ? grants[0] : grantFor(employeeId))?.role ?? principal.roles[0] ?? 'none';
      return { id: principal.id, kind: 'person', name: principal.name, role, client: principal.client };
    },
  };
}

/** One cookie's value from a Cookie header (no cookie library needed for reading one name). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,200}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}
