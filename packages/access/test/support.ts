import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { createHttpServer, createLogger, createPool, migrate, type App, type CaseLookup, type Pool, type ServiceModule } from '@ems/platform';
import { knownCases, type TestDatabase } from '@ems/platform/testing';
import { demoOrg, type DemoOrg, type Employee } from '@ems/demo-org';
import { access } from '@ems/contracts';
import { EventSources, EventTypes, type EventData } from '@ems/contracts/events';
import { createEvent, type CloudEvent } from '@ems/eventbus';
import { createAccessService, type AccessService, type AccessServiceDeps } from '../src/index.ts';
import { startTestIdentity, type TestIdentity } from '@ems/identity/testing';

/** What the decision-lifecycle tests share: the demo organisation, events as EMS/HR publish them, HTTP calls. */

export const org = demoOrg();
export const log = createLogger({ level: process.env.EMS_TEST_LOG_LEVEL ?? 'silent' });
const critical = new Set(org.systems.filter((s) => s.critical).map((s) => s.id));

export const grantsOf = (employeeId: string) =>
  org.grants
    .filter((g) => g.employeeId === employeeId)
    .map((g) => g.id)
    .sort();
export const criticalGrantsOf = (employeeId: string) =>
  org.grants
    .filter((g) => g.employeeId === employeeId && critical.has(g.systemId))
    .map((g) => g.id)
    .sort();
export const systemOf = (grantId: string) => org.grants.find((g) => g.id === grantId)!.systemId;

/** Hands out a different employee with at least 2 critical grants on every call (tests never share state). */
export function employeePicker(): () => Employee {
  const candidates = org.employees.filter((e) => criticalGrantsOf(e.id).length >= 2);
  let next = 0;
  return () => {
    const e = candidates[next++];
    if (!e) throw new Error('out of demo employees');
    return e;
  };
}

type Decided = EventData<typeof EventTypes.resignationRetained>;
type Leaver = Pick<Employee, 'id' | 'name' | 'email' | 'timezone' | 'hrPartnerId'>;
type ExitConfirmed = EventData<typeof EventTypes.exitConfirmed>;
/** Who decided, as EMS records it on a decision event (the access audit records the reactions on their behalf). */
export type DecidedBy = NonNullable<Decided['decidedBy']>;

function decided(resignationId: string, employee: Leaver, at: Date, decidedBy?: DecidedBy): Decided {
  return {
    resignationId,
    employee: { id: employee.id, name: employee.name, email: employee.email, timezone: employee.timezone },
    manager: null,
    hrPartnerId: employee.hrPartnerId,
    decidedAt: at.toISOString(),
    note: null,
    ...(decidedBy ? { decidedBy } : {}),
  };
}

/** HR retained the employee (or, with `withdrawn`, the employee withdrew): the event EMS publishes. */
export function resignationClosedEvent(kind: 'retained' | 'withdrawn', resignationId: string, employee: Leaver, at = new Date(), decidedBy?: DecidedBy): CloudEvent<Decided> {
  return createEvent({
    type: kind === 'retained' ? EventTypes.resignationRetained : EventTypes.resignationWithdrawn,
    source: EventSources.ems,
    subject: resignationId,
    correlationId: `corr-${resignationId}`,
    time: at,
    data: decided(resignationId, employee, at, decidedBy),
  });
}

/** HR confirmed the exit: revoke at `revokeAt` (revision counts up when the last day moves). */
export function exitConfirmedEvent(resignationId: string, employee: Leaver, revokeAt: Date, revision = 1, decidedBy?: DecidedBy): CloudEvent<ExitConfirmed> {
  return createEvent({
    type: EventTypes.exitConfirmed,
    source: EventSources.ems,
    subject: resignationId,
    correlationId: `corr-${resignationId}`,
    data: {
      ...decided(resignationId, employee, new Date(), decidedBy),
      lastWorkingDay: revokeAt.toISOString().slice(0, 10),
      revokeAt: revokeAt.toISOString(),
      revision,
    },
  });
}

export const newResignation = () => randomUUID();

/**
 * EMS's answer to "does this case exist, and whose is it?", as these tests stand in for it (as they stand
 * in for EMS's events): Access suspends and revokes over HTTP only for a case registered here. Every
 * service `bootAccess` builds asks it unless a test passes a lookup of its own.
 */
export const emsCases = knownCases();
const registered = new Set<string>();

/**
 * Makes `resignationId` a case EMS knows, of `employeeId`; returns the resignation id. A case's employee
 * never changes (the real lookup remembers its first answer), so a case named again for someone else
 * stays its first employee's: such a request is another employee's case, which Access refuses.
 */
export function knownCase(employeeId: string, resignationId: string = randomUUID()): string {
  if (!registered.has(resignationId)) {
    registered.add(resignationId);
    emsCases.add(resignationId, employeeId);
  }
  return resignationId;
}

/** Registers the case a hold or revocation request names (a body that names none registers nothing). */
export function knownCaseOf(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const { resignationId, employeeId } = body as { resignationId?: unknown; employeeId?: unknown };
  if (typeof resignationId === 'string' && typeof employeeId === 'string') knownCase(employeeId, resignationId);
}

/** One Access service instance on `pool` (as one process runs it), migrated and seeded; it asks `emsCases` unless given `cases`. */
export async function bootAccess(
  pool: Pool,
  deps: Omit<AccessServiceDeps, 'pool' | 'log' | 'cases'> & { cases?: CaseLookup },
): Promise<AccessService> {
  const service = createAccessService({ pool, log, ...deps, cases: deps.cases ?? emsCases.lookup });
  await migrate(pool, service.schema, service.migrations);
  await service.seed!(org);
  return service;
}

export interface AccessHttp {
  app: App;
  identity: TestIdentity;
  call(method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; type: string; body: unknown }>;
  effective(employeeId: string): Promise<Record<string, string>>;
  audit(query: string): Promise<ReturnType<typeof access.AuditList.parse>['items']>;
}

/** IT's access administrator in the demo organisation (reads holds, grants, revocations and the audit). */
export const ACCESS_ADMIN = org.roleAssignments.find((a) => a.role === 'access_admin')!.personId;

/**
 * Who calls what in these tests, as in production: the orchestrator's service identity for the internal
 * operations (suspend, lift, revoke), the access administrator for everything else. A test passing its own
 * `authorization` header overrides it.
 */
async function defaultCredentials(identity: TestIdentity, method: string, path: string): Promise<Record<string, string>> {
  const internal = method === 'POST' && (path === access.AccessPaths.holds || /^\/api\/access-holds\/[^/]+\/release$/.test(path) || path === access.AccessPaths.revocations);
  return internal ? identity.callAuth('ems')('access') : identity.as(ACCESS_ADMIN);
}

/** Serves the Access routes with the real trust boundary: an identity provider of their own, real tokens. */
export async function serve(service: ServiceModule<DemoOrg>, pool: Pool): Promise<AccessHttp> {
  const identity = await startTestIdentity(pool, org, log);
  const app = await createHttpServer({ title: 'access test', version: '0', logger: log, plugins: [service.routes], readiness: {}, docs: false, security: identity.securityFor(['access']) });
  app.addHook('onClose', () => identity.stop());
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const call: AccessHttp['call'] = async (method, path, body, headers = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(await defaultCredentials(identity, method, path)), ...headers },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    app,
    identity,
    call,
    async effective(employeeId) {
      const a = await call('GET', access.AccessPaths.employeeAccess(employeeId));
      expect(a.status).toBe(200);
      return Object.fromEntries(access.EffectiveAccess.parse(a.body).items.map((i) => [i.grantId, i.status]));
    },
    async audit(query) {
      const a = await call('GET', `${access.AccessPaths.audit}?${query}&limit=500`);
      expect(a.status).toBe(200);
      return access.AuditList.parse(a.body).items;
    },
  };
}

export async function count(pool: Pool, sqlText: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(sqlText, params);
  return rows[0]!.n;
}

/** A pool for a test database: `max` connections. */
export const poolFor = (db: TestDatabase, max = 12) => createPool(db.url, { max });
